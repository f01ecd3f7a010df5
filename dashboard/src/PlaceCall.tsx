/** Places a call through the API (POST /calls); in sandbox mode, lists the numbers the simulated callees answer. */
import { useState } from 'preact/hooks';
import { api, ApiError, type DashboardConfig } from './api.ts';
import { navigate } from './router.ts';

export function PlaceCall({ config }: { config: DashboardConfig }) {
  const [to, setTo] = useState('');
  const [carrier, setCarrier] = useState(config.defaultCarrier);
  const [agent, setAgent] = useState(config.agents[0] ?? '');
  const [metadata, setMetadata] = useState('');
  const [record, setRecord] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    let data: Record<string, unknown> | undefined;
    if (metadata.trim()) {
      try {
        const parsed: unknown = JSON.parse(metadata);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        data = parsed as Record<string, unknown>;
      } catch {
        setError('Custom data must be a JSON object, e.g. {"name": "Ada"}.');
        return;
      }
    }
    setBusy(true);
    try {
      const placed = await api.placeCall({
        to: to.trim(),
        ...(carrier ? { carrier } : {}),
        ...(agent ? { agent } : {}),
        ...(data ? { metadata: data } : {}),
        ...(record ? { record: true } : {}),
      });
      navigate({ page: 'call', id: placed.id });
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'The call could not be placed.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="place-call">
      <h2>Place a call</h2>
      <form onSubmit={(e) => void submit(e)} data-testid="place-call">
        <label>
          To
          <input
            name="to"
            value={to}
            onInput={(e) => setTo(e.currentTarget.value)}
            placeholder="+15551230000 or sip:…"
            required
            autocomplete="off"
          />
        </label>
        <label>
          Carrier
          <select name="carrier" value={carrier} onChange={(e) => setCarrier(e.currentTarget.value)}>
            {config.carriers.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        {config.agents.length > 1 ? (
          <label>
            Agent
            <select name="agent" value={agent} onChange={(e) => setAgent(e.currentTarget.value)}>
              {config.agents.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <label class="wide">
          Custom data (JSON, optional)
          <textarea
            name="metadata"
            rows={2}
            value={metadata}
            onInput={(e) => setMetadata(e.currentTarget.value)}
            placeholder='{"user": {"firstName": "Ada"}}'
          />
        </label>
        <label class="check">
          <input type="checkbox" name="record" checked={record} onChange={(e) => setRecord(e.currentTarget.checked)} /> Record the call
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Calling…' : 'Call'}
        </button>
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
      {config.sandbox && config.sandboxNumbers.length > 0 ? (
        <div class="sandbox-numbers">
          <h3>Sandbox numbers</h3>
          <p class="muted">Simulated callees answer these; choose one to fill in the number.</p>
          <ul>
            {config.sandboxNumbers.map((n) => (
              <li key={n.number}>
                <button type="button" onClick={() => setTo(n.number)} data-testid={`sandbox-${n.persona}`}>
                  <span class="number">{n.number}</span> <strong>{n.persona}</strong>
                </button>{' '}
                <span class="muted">{n.description ?? n.outcome}</span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}
