import type { CallSessionEvents } from '../../agent/call-session.ts';
import type { CallRecorder } from '../../recording/call-recorder.ts';
import type { RecordWriter } from '../record-writer.ts';
import type { CallDeps } from './call-deps.ts';

/** `performance.now()` ms → epoch ms. */
function toEpoch(perfMs: number): number {
  return Math.round(performance.timeOrigin + perfMs);
}

/**
 * What a call's session reports, turned into record writes (turns numbered in the order they are reported; events
 * timestamped when they happen) off the real-time path, and into metrics.
 */
export function sessionEvents(
  deps: Pick<CallDeps, 'store' | 'metrics'>,
  writer: RecordWriter,
  callId: string,
  recording?: Pick<CallRecorder, 'offsetMsOf'>,
  /** Index of the session's first turn (a call taken back by the bot after a failed warm transfer goes on). @default 0 */
  firstTurnIndex = 0,
): CallSessionEvents {
  const { store, metrics } = deps;
  /** Where a turn lies in the call's recording (calls being recorded). */
  const offsets = (startMs: number | undefined, endMs: number) =>
    recording
      ? {
          ...(startMs !== undefined ? { recordingOffsetMs: recording.offsetMsOf(startMs) } : {}),
          recordingEndMs: recording.offsetMsOf(endMs),
        }
      : {};
  let turnIndex = firstTurnIndex;
  const recordEvent = (type: string, data: unknown): void => {
    const at = Date.now(); // when it happened, not when the write lands
    writer.write(() => store.addEvent(callId, type, data, at));
  };
  return {
    onUserTurn: (turn) => {
      const index = turnIndex++;
      writer.write(() =>
        store.addTurn(callId, {
          index,
          role: 'user',
          text: turn.text,
          startedAt: toEpoch(turn.startedAtMs),
          endedAt: toEpoch(turn.endedAtMs),
          ...offsets(turn.startedAtMs, turn.endedAtMs),
        }),
      );
    },
    onAssistantTurn: (turn) => {
      const index = turnIndex++;
      writer.write(() =>
        store.addTurn(callId, {
          index,
          role: 'assistant',
          text: turn.text,
          heard: turn.heard,
          interrupted: turn.interrupted,
          ...(turn.latency ? { latency: { ...turn.latency } } : {}),
          ...(turn.startedAtMs !== undefined ? { startedAt: toEpoch(turn.startedAtMs) } : {}),
          endedAt: toEpoch(turn.endedAtMs),
          ...offsets(turn.startedAtMs, turn.endedAtMs),
        }),
      );
      if (turn.latency) metrics.turnLatency(turn.latency);
    },
    onEvent: recordEvent,
    onBargeInLatency: (ms) => {
      metrics.bargeIn(ms);
      recordEvent('barge-in.clear-sent', { afterOnsetMs: Math.round(ms) });
    },
    onProviderTtfb: (processor, ms) => metrics.providerTtfb(processor, ms),
    onError: (error) => {
      metrics.error(error.processor);
      recordEvent('error', { processor: error.processor, message: error.message, fatal: error.fatal });
    },
  };
}
