/** One call, live: its state, transcript, latency, recording, events and custom data. */
import { useRef, useState } from 'preact/hooks';
import type { CallRecord, CallTurn } from './api.ts';
import { formatClock, formatDuration, formatOffset, isLive } from './format.ts';
import { useCall, type StreamState } from './live.ts';
import { recordingOf } from './recording.ts';
import { onLinkClick } from './router.ts';
import { Transcript } from './Transcript.tsx';
import { LatencyOverview, Waterfall } from './Waterfall.tsx';

export function StreamBadge({ stream }: { stream: StreamState }) {
  const label = stream === 'live' ? 'live' : stream === 'connecting' ? 'connecting…' : 'disconnected';
  return (
    <span class={`stream ${stream}`} data-testid="stream-state">
      {label}
    </span>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return (
    <span class={`status status-${status}${isLive(status) ? ' live' : ''}`} data-testid="status">
      {status}
    </span>
  );
}

function Facts({ record }: { record: CallRecord }) {
  const facts: Array<[string, string]> = [
    ['Direction', record.direction],
    ['Carrier', record.carrier],
    ['From', record.from ?? '—'],
    ['To', record.to],
    ['Agent', record.agent ?? '—'],
    ['Created', formatClock(record.createdAt)],
    ['Answered', formatClock(record.answeredAt)],
    ['Ended', formatClock(record.endedAt)],
    ['Duration', formatDuration(record.durationSec)],
    ['End reason', record.endReason ?? '—'],
    ['Carrier call id', record.carrierCallId ?? '—'],
  ];
  if (record.error) facts.push(['Error', `${record.error.message}${record.error.code ? ` (${record.error.code})` : ''}`]);
  return (
    <dl class="facts">
      {facts.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Events({ record }: { record: CallRecord }) {
  if (record.events.length === 0) return <p class="muted">No events.</p>;
  return (
    <table class="events" data-testid="events">
      <thead>
        <tr>
          <th>When</th>
          <th>Event</th>
          <th>Data</th>
        </tr>
      </thead>
      <tbody>
        {record.events.map((event, i) => (
          <tr key={i}>
            <td class="when">{formatOffset(event.at, record.createdAt)}</td>
            <td>
              <code>{event.type}</code>
            </td>
            <td>{event.data === null ? '' : <code class="json">{JSON.stringify(event.data)}</code>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function CallPage({ id }: { id: string }) {
  const { record, stream } = useCall(id);
  const [selected, setSelected] = useState<number | null>(null);
  const audio = useRef<HTMLAudioElement>(null);

  if (!record) {
    return (
      <main class="call-page">
        <a href="/dashboard/" onClick={onLinkClick({ page: 'calls' })}>
          ← Calls
        </a>
        <p class="muted">{stream === 'closed' ? 'This call could not be loaded.' : 'Loading…'}</p>
      </main>
    );
  }
  const recording = recordingOf(record);
  const play = recording
    ? (turn: CallTurn) => {
        const at = recording.offsetOf(turn);
        const element = audio.current;
        if (at === null || !element) return;
        element.currentTime = at;
        void element.play();
      }
    : undefined;
  const selectedTurn = record.turns.find((t) => t.index === selected);

  return (
    <main class="call-page" data-testid="call-page" data-call-id={record.id}>
      <header class="call-head">
        <a href="/dashboard/" onClick={onLinkClick({ page: 'calls' })}>
          ← Calls
        </a>
        <h1>
          Call to <span class="number">{record.to}</span> <StatusBadge status={record.status} />
        </h1>
        <StreamBadge stream={stream} />
      </header>
      <Facts record={record} />
      {recording ? (
        <section class="recording">
          <h2>Recording</h2>
          <audio ref={audio} controls preload="metadata" src={recording.url} data-testid="recording" />
        </section>
      ) : null}
      <div class="columns">
        <section class="conversation">
          <h2>Transcript</h2>
          <p class="legend">
            <del class="unheard">struck through</del>: the agent generated it, but the caller interrupted before hearing it.
          </p>
          <Transcript
            turns={record.turns}
            start={record.answeredAt ?? record.createdAt}
            selected={selected}
            onSelectLatency={setSelected}
            onPlay={play}
          />
        </section>
        <section class="latency">
          <h2>Latency</h2>
          <LatencyOverview turns={record.turns} selected={selected} onSelect={setSelected} />
          {selectedTurn ? (
            <>
              <h3>Turn {selectedTurn.index}: caller stopped speaking → agent audio out</h3>
              <Waterfall turn={selectedTurn} />
            </>
          ) : null}
        </section>
      </div>
      <section>
        <h2>Events</h2>
        <Events record={record} />
      </section>
      <section>
        <h2>Custom data</h2>
        <pre class="json" data-testid="metadata">
          {JSON.stringify(record.metadata, null, 2)}
        </pre>
      </section>
    </main>
  );
}
