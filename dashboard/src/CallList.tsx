/** Every call, newest first, with its status kept live by the list stream. */
import { useState } from 'preact/hooks';
import { api } from './api.ts';
import { formatClock, formatDuration } from './format.ts';
import { useCallList } from './live.ts';
import { StatusBadge, StreamBadge } from './CallPage.tsx';
import { hrefOf, onLinkClick } from './router.ts';

export function CallList() {
  const { list, stream, addPage } = useCallList();
  const [loading, setLoading] = useState(false);
  const loadOlder = async () => {
    if (!list.nextCursor) return;
    setLoading(true);
    try {
      addPage(await api.olderCalls(list.nextCursor));
    } finally {
      setLoading(false);
    }
  };
  return (
    <section class="call-list">
      <h2>
        Calls <StreamBadge stream={stream} />
      </h2>
      {!list.loaded ? (
        <p class="muted">Loading…</p>
      ) : list.calls.length === 0 ? (
        <p class="muted">No calls yet.</p>
      ) : (
        <table data-testid="call-list">
          <thead>
            <tr>
              <th>Created</th>
              <th>Status</th>
              <th>To</th>
              <th>From</th>
              <th>Carrier</th>
              <th>Direction</th>
              <th>Agent</th>
              <th>Duration</th>
            </tr>
          </thead>
          <tbody>
            {list.calls.map((call) => {
              const route = { page: 'call' as const, id: call.id };
              return (
                <tr key={call.id} data-testid="call-row" data-call-id={call.id}>
                  <td>
                    <a href={hrefOf(route)} onClick={onLinkClick(route)}>
                      {formatClock(call.createdAt)}
                    </a>
                  </td>
                  <td>
                    <StatusBadge status={call.status} />
                  </td>
                  <td class="number">{call.to}</td>
                  <td class="number">{call.from ?? '—'}</td>
                  <td>{call.carrier}</td>
                  <td>{call.direction}</td>
                  <td>{call.agent ?? '—'}</td>
                  <td>{formatDuration(call.durationSec)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {list.nextCursor ? (
        <button type="button" onClick={() => void loadOlder()} disabled={loading}>
          Older calls
        </button>
      ) : null}
    </section>
  );
}
