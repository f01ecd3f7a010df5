/** The conversation as it grows: who said what, what the caller actually heard, interruptions, latency. */
import type { CallTurn } from './api.ts';
import { formatMs, formatOffset } from './format.ts';
import { latencyOf } from './Waterfall.tsx';

/** An assistant turn's text with the part the caller never heard marked. */
function Said({ turn }: { turn: CallTurn }) {
  const heard = turn.heard;
  if (turn.role !== 'assistant' || heard === undefined || heard === turn.text) return <p class="said">{turn.text}</p>;
  if (turn.text.startsWith(heard)) {
    return (
      <p class="said">
        <span class="heard">{heard}</span>
        <del class="unheard" title="generated, but cut off before the caller heard it">
          {turn.text.slice(heard.length)}
        </del>
      </p>
    );
  }
  // The heard text is not a prefix (e.g. the transport's own segmentation): show both.
  return (
    <>
      <p class="said">{turn.text}</p>
      <p class="heard-line">
        Heard: <span class="heard">{heard || '(nothing)'}</span>
      </p>
    </>
  );
}

export function Transcript({
  turns,
  start,
  selected,
  onSelectLatency,
  onPlay,
}: {
  turns: CallTurn[];
  /** Times are shown relative to this (the answer, or the call's creation). */
  start: string;
  selected: number | null;
  onSelectLatency: (index: number) => void;
  /** Present when the call has a recording: plays from the turn. */
  onPlay?: ((turn: CallTurn) => void) | undefined;
}) {
  if (turns.length === 0) return <p class="muted">Nobody has spoken yet.</p>;
  return (
    <ol class="transcript" data-testid="transcript">
      {turns.map((turn) => {
        const latency = latencyOf(turn);
        const total = latency ? (latency.voiceToVoiceMs ?? latency.firstAudioOutMs) : undefined;
        return (
          <li
            key={turn.index}
            class={`turn ${turn.role}${turn.interrupted ? ' interrupted' : ''}`}
            data-testid="turn"
            data-role={turn.role}
          >
            <div class="turn-head">
              <span class="who">{turn.role === 'assistant' ? 'Agent' : 'Caller'}</span>
              <span class="when">{formatOffset(turn.startedAt, start)}</span>
              {turn.interrupted ? <span class="badge warn">interrupted</span> : null}
              {total !== undefined ? (
                <button
                  type="button"
                  class={`badge latency${selected === turn.index ? ' selected' : ''}`}
                  title="Show this reply's latency waterfall"
                  onClick={() => onSelectLatency(turn.index)}
                  data-testid="latency-badge"
                >
                  {formatMs(total)}
                </button>
              ) : null}
              {onPlay ? (
                <button
                  type="button"
                  class="badge play"
                  title="Play the recording from this turn"
                  onClick={() => onPlay(turn)}
                  data-testid={`play-turn-${turn.index}`}
                >
                  ▶
                </button>
              ) : null}
            </div>
            <Said turn={turn} />
          </li>
        );
      })}
    </ol>
  );
}
