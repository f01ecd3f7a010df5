/**
 * Per-turn latency as a waterfall (plain SVG). A reply's timings are milestones in ms after the caller stopped
 * speaking (src/agent/turn-metrics.ts): the turn-end wait, the STT final, the LLM's first token, the first TTS
 * audio and the first audio frame out to the carrier. Each stage is drawn from the milestone before it.
 */
import type { CallTurn } from './api.ts';
import { formatMs } from './format.ts';

export const STAGES = [
  { key: 'turnEndMs', label: 'Turn-end wait', hint: 'our VAD decided the caller had finished' },
  { key: 'sttFinalMs', label: 'STT final', hint: 'the final transcript arrived' },
  { key: 'llmFirstTokenMs', label: 'LLM first token', hint: 'the model started answering' },
  { key: 'ttsFirstAudioMs', label: 'First TTS audio', hint: 'speech synthesis returned audio' },
  { key: 'firstAudioOutMs', label: 'First audio out', hint: 'the first frame went to the carrier' },
] as const;

type StageKey = (typeof STAGES)[number]['key'];

/** The numeric timings of a turn, or null when it has none of the stages. */
export function latencyOf(turn: CallTurn): Record<string, number> | null {
  if (!turn.latency) return null;
  const values: Record<string, number> = {};
  for (const [key, value] of Object.entries(turn.latency)) if (typeof value === 'number') values[key] = value;
  return STAGES.some((s) => values[s.key] !== undefined) ? values : null;
}

interface Span {
  key: StageKey;
  label: string;
  hint: string;
  start: number;
  end: number;
}

/**
 * Each measured stage from the latest earlier milestone (that is not after it) to its own. A milestone before the
 * caller stopped (an STT final that came during trailing sound without words) is a zero-width stage at 0, marked
 * `early` with how long before the stop it was.
 */
export function stageSpans(
  latency: Record<string, number>,
): Array<(Span & { earlyMs?: number }) | { key: StageKey; label: string; hint: string; missing: true }> {
  const seen: number[] = [];
  return STAGES.map((stage) => {
    const at = latency[stage.key];
    if (at === undefined) return { ...stage, missing: true as const };
    if (at < 0) return { ...stage, start: 0, end: 0, earlyMs: -at };
    const start = Math.max(0, ...seen.filter((v) => v <= at));
    seen.push(at);
    return { ...stage, start, end: at };
  });
}

function niceStep(max: number): number {
  for (const step of [10, 20, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000]) if (max / step <= 6) return step;
  return Math.ceil(max / 6 / 10_000) * 10_000;
}

const LABEL_W = 130;
const CHART_W = 340;
const VALUE_W = 130;
const ROW_H = 26;
const AXIS_H = 22;

/** The waterfall of one reply. */
export function Waterfall({ turn }: { turn: CallTurn }) {
  const latency = latencyOf(turn);
  if (!latency) return <p class="muted">No timings were recorded for this turn.</p>;
  const spans = stageSpans(latency);
  const ends = spans.flatMap((s) => ('missing' in s ? [] : [s.end]));
  const step = niceStep(Math.max(1, ...ends));
  const max = Math.ceil(Math.max(1, ...ends) / step) * step;
  const x = (ms: number) => LABEL_W + (ms / max) * CHART_W;
  const height = AXIS_H + spans.length * ROW_H + 4;
  const ticks = Array.from({ length: Math.round(max / step) + 1 }, (_, i) => i * step);
  const summary = [
    ['Voice to voice', latency.voiceToVoiceMs],
    ['Providers', latency.providerMs],
    ['Tools', latency.toolMs],
    ['Framework', latency.overheadMs],
  ].filter((entry): entry is [string, number] => entry[1] !== undefined);

  return (
    <figure class="waterfall" data-testid="waterfall">
      <svg
        viewBox={`0 0 ${LABEL_W + CHART_W + VALUE_W} ${height}`}
        width={LABEL_W + CHART_W + VALUE_W}
        height={height}
        role="img"
        aria-label={`Latency waterfall of turn ${turn.index}`}
      >
        {ticks.map((tick) => (
          <g key={tick} class="tick">
            <line x1={x(tick)} x2={x(tick)} y1={AXIS_H - 4} y2={height} />
            <text x={x(tick)} y={AXIS_H - 8} text-anchor="middle">
              {tick === 0 ? '0' : formatMs(tick)}
            </text>
          </g>
        ))}
        {spans.map((span, i) => {
          const y = AXIS_H + i * ROW_H;
          return (
            <g key={span.key} class={`stage stage-${i}`} data-stage={span.key}>
              <title>{span.hint}</title>
              <text x={0} y={y + ROW_H / 2 + 4} class="stage-label">
                {span.label}
              </text>
              {'missing' in span ? (
                <text x={LABEL_W + 4} y={y + ROW_H / 2 + 4} class="muted">
                  not measured
                </text>
              ) : (
                <>
                  <rect x={x(span.start)} y={y + 5} width={Math.max(2, x(span.end) - x(span.start))} height={ROW_H - 10} rx={2} />
                  <text x={LABEL_W + CHART_W + 8} y={y + ROW_H / 2 + 4} class="stage-value">
                    {span.earlyMs !== undefined
                      ? `${formatMs(span.earlyMs)} before stop`
                      : `+${formatMs(span.end - span.start)} → ${formatMs(span.end)}`}
                  </text>
                </>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>
        {summary.map(([label, ms]) => (
          <span key={label} class="metric">
            {label} <strong>{formatMs(ms)}</strong>
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

/** One small stacked bar per reply; choosing one shows its waterfall. */
export function LatencyOverview({
  turns,
  selected,
  onSelect,
}: {
  turns: CallTurn[];
  selected: number | null;
  onSelect: (index: number) => void;
}) {
  const timed = turns.flatMap((turn) => {
    const latency = latencyOf(turn);
    return latency ? [{ turn, latency }] : [];
  });
  if (timed.length === 0) return <p class="muted">No reply has timings yet.</p>;
  const max = Math.max(1, ...timed.map(({ latency }) => Math.max(0, ...STAGES.map((s) => latency[s.key] ?? 0))));
  return (
    <>
      <p class="stage-legend">
        {STAGES.map((stage, i) => (
          <span key={stage.key} title={stage.hint}>
            <svg width={10} height={10} aria-hidden="true">
              <rect class={`stage-${i}`} width={10} height={10} rx={2} />
            </svg>{' '}
            {stage.label}
          </span>
        ))}
      </p>
      <ul class="latency-overview">
        {timed.map(({ turn, latency }) => {
          const spans = stageSpans(latency);
          const total = latency.voiceToVoiceMs ?? latency.firstAudioOutMs;
          return (
            <li key={turn.index}>
              <button
                type="button"
                class={selected === turn.index ? 'selected' : ''}
                onClick={() => onSelect(turn.index)}
                data-testid={`latency-turn-${turn.index}`}
              >
                <span class="turn-no">Turn {turn.index}</span>
                <svg viewBox="0 0 200 10" width={200} height={10} aria-hidden="true">
                  {spans.map((span, i) =>
                    'missing' in span ? null : (
                      <rect
                        key={span.key}
                        class={`stage-${i}`}
                        x={(span.start / max) * 200}
                        y={0}
                        width={Math.max(1, ((span.end - span.start) / max) * 200)}
                        height={10}
                      />
                    ),
                  )}
                </svg>
                <span class="total">{total === undefined ? '—' : formatMs(total)}</span>
              </button>
            </li>
          );
        })}
      </ul>
    </>
  );
}
