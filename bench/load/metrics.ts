/**
 * Figures of one load run, computed from what the server recorded (`GET /calls/:id`) and what the carrier
 * emulator saw (its call records: playout accounting, clears, what the callee said and when).
 */
import type { EmulatedCallRecord } from '../../src/sandbox/carriers/shared/call-record.ts';
import type { CallRecord } from '../../src/store/index.ts';

/** Nearest-rank percentile (`p` in 0…100); NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  count: number;
}

export function percentiles(values: readonly number[]): Percentiles {
  return { p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99), count: values.length };
}

/** Turn timings the server records per assistant turn (see src/agent/turn-metrics.ts). */
export const LATENCY_STAGES = [
  'turnEndMs',
  'sttFinalMs',
  'llmFirstTokenMs',
  'ttsFirstAudioMs',
  'voiceToVoiceMs',
  'providerMs',
  'overheadMs',
] as const;
export type LatencyStage = (typeof LATENCY_STAGES)[number];

/** Every assistant turn's value of `stage`, over all calls. */
export function stageValues(records: readonly CallRecord[], stage: LatencyStage): number[] {
  const values: number[] = [];
  for (const record of records) {
    for (const turn of record.turns) {
      const value = turn.role === 'assistant' ? turn.latency?.[stage] : undefined;
      if (typeof value === 'number' && Number.isFinite(value)) values.push(value);
    }
  }
  return values;
}

export interface CarrierBargeIns {
  /** Callee line start (first frame) → first `clear` the carrier received after it, ms. */
  latenciesMs: number[];
  /** Lines that started over audible bot speech, with the call still up {@link MIN_CALL_LEFT_MS} later. */
  interruptions: number;
  /** Of those, lines no `clear` followed before the callee's next line (or the end of the call). */
  missed: number;
  /** Lines over bot speech that the callee's hang-up cut short (not counted above). */
  cutByHangUp: number;
}

/** An interruption is only judged when the call lasted this long after it began (barge-in needs 0.5 s of speech). */
export const MIN_CALL_LEFT_MS = 1500;

/**
 * Barge-in as the carrier sees it: for each callee line that started while the bot was audibly speaking,
 * the time from the line's first frame to the first `clear` that arrived after it.
 */
export function carrierBargeIns(records: readonly EmulatedCallRecord[]): CarrierBargeIns {
  const result: CarrierBargeIns = { latenciesMs: [], interruptions: 0, missed: 0, cutByHangUp: 0 };
  for (const record of records) {
    const said = (record.callee?.said ?? []).filter((s) => s.startAt !== null);
    const clears = record.streams.flatMap((s) => s.clears.map((c) => c.at)).sort((a, b) => a - b);
    said.forEach((line, i) => {
      if (!line.overlappedBot) return;
      const start = line.startAt as number;
      if (record.endedAt !== null && record.endedAt - start < MIN_CALL_LEFT_MS) {
        result.cutByHangUp++;
        return;
      }
      result.interruptions++;
      const next = said[i + 1]?.startAt ?? Infinity;
      const clear = clears.find((at) => at >= start && at < next);
      if (clear === undefined) result.missed++;
      else result.latenciesMs.push(clear - start);
    });
  }
  return result;
}

/** A numeric field of every event of `type`, over all calls. */
function eventValues(records: readonly CallRecord[], type: string, field: string): number[] {
  return records.flatMap((r) =>
    r.events.flatMap((e) => {
      const value = e.type === type && e.data !== null && typeof e.data === 'object' && !Array.isArray(e.data) ? e.data[field] : undefined;
      return typeof value === 'number' ? [value] : [];
    }),
  );
}

/** Barge-in as the server timed it: VAD's speech onset → `clear` written (`barge-in.clear-sent` events). */
export function serverBargeIns(records: readonly CallRecord[]): number[] {
  return eventValues(records, 'barge-in.clear-sent', 'afterOnsetMs');
}

/**
 * Server barge-ins with no callee line over the bot behind them: the latest line the callee began before the
 * decision had started while the bot was silent (so the server interrupted the bot for speech that was not
 * an interruption). Pairs each server record with its carrier record.
 */
export function spuriousBargeIns(pairs: ReadonlyArray<{ server: CallRecord; carrier: EmulatedCallRecord }>): number {
  let spurious = 0;
  for (const { server, carrier } of pairs) {
    const said = (carrier.callee?.said ?? []).filter((s) => s.startAt !== null);
    for (const event of server.events) {
      if (event.type !== 'barge-in') continue;
      const at = Date.parse(event.at);
      let line: (typeof said)[number] | undefined;
      for (const s of said) if ((s.startAt as number) <= at) line = s;
      if (!line?.overlappedBot) spurious++;
    }
  }
  return spurious;
}

/** VAD's speech onset → barge-in decided (`barge-in` events): the minimum voiced time plus any pauses in it. */
export function serverBargeInDecisions(records: readonly CallRecord[]): number[] {
  return eventValues(records, 'barge-in', 'decisionMs');
}

export interface LateFrames {
  framesReceived: number;
  lateFrames: number;
  /** lateFrames / framesReceived × 100 (0 with no frames). */
  pct: number;
  maxLatenessMs: number;
  /** Late frames whose underrun ended inside [from, to) (epoch ms). */
  inWindow: number;
}

/** Outbound frame punctuality over the calls' streams (the emulator's playout accounting). */
export function lateFrames(records: readonly EmulatedCallRecord[], window: { from: number; to: number }): LateFrames {
  let framesReceived = 0;
  let late = 0;
  let maxLatenessMs = 0;
  let inWindow = 0;
  for (const record of records) {
    for (const stream of record.streams) {
      framesReceived += stream.playout.framesReceived;
      late += stream.playout.lateFrames;
      maxLatenessMs = Math.max(maxLatenessMs, stream.playout.maxLatenessMs);
      for (const u of stream.playout.underruns) if (u.resumedAt >= window.from && u.resumedAt < window.to) inWindow += u.lateFrames;
    }
  }
  return { framesReceived, lateFrames: late, pct: framesReceived > 0 ? (late / framesReceived) * 100 : 0, maxLatenessMs, inWindow };
}

export interface CallFailures {
  /** Calls that failed in either way below (each counted once). */
  total: number;
  /** Record status other than `completed` (or no record). */
  notCompleted: number;
  /** Calls whose record logged pipeline `error` events. */
  withErrors: number;
  /** Status counts of the not-completed ones, e.g. `{ failed: 2 }`. */
  statuses: Record<string, number>;
  /** Error messages seen (up to 10 distinct), with counts. */
  errors: Record<string, number>;
}

export function callFailures(records: ReadonlyArray<CallRecord | undefined>): CallFailures {
  const failures: CallFailures = { total: 0, notCompleted: 0, withErrors: 0, statuses: {}, errors: {} };
  for (const record of records) {
    const status = record?.status ?? 'missing';
    const errors = record?.events.filter((e) => e.type === 'error') ?? [];
    const notCompleted = status !== 'completed';
    if (notCompleted) {
      failures.notCompleted++;
      failures.statuses[status] = (failures.statuses[status] ?? 0) + 1;
    }
    if (errors.length > 0) failures.withErrors++;
    if (notCompleted || errors.length > 0) failures.total++;
    for (const error of errors) {
      const data = error.data as { processor?: string; message?: string } | null;
      const key = `${data?.processor ?? '?'}: ${data?.message ?? '?'}`.slice(0, 160);
      if (key in failures.errors || Object.keys(failures.errors).length < 10) failures.errors[key] = (failures.errors[key] ?? 0) + 1;
    }
  }
  return failures;
}

/** Callee waits that gave up (the bot did not start or finish a reply in time), by step kind. */
export function calleeTimeouts(records: readonly EmulatedCallRecord[]): Record<string, number> {
  const timeouts: Record<string, number> = {};
  for (const record of records) {
    for (const step of record.callee?.steps ?? []) {
      if (step.outcome !== 'timeout') continue;
      const kind = Object.keys(step.step)[0] as string;
      timeouts[kind] = (timeouts[kind] ?? 0) + 1;
    }
  }
  return timeouts;
}
