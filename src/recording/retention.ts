import { rm } from 'node:fs/promises';
import type { Logger } from '../log.ts';
import type { CallStore } from '../store/index.ts';
import { systemClock, type Clock, type ClockTimer } from '../util/clock.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes the recordings of calls that ended more than `retentionDays` ago and says so in each record
 * (`recordingPath` cleared, a `recording.deleted` event with the reason). Returns the call ids.
 */
export async function deleteExpiredRecordings(store: CallStore, retentionDays: number, nowMs: number, log?: Logger): Promise<string[]> {
  const deleted: string[] = [];
  for (const { id, recordingPath } of store.callsWithRecordingEndedBefore(nowMs - retentionDays * DAY_MS)) {
    try {
      await rm(recordingPath, { force: true });
    } catch (error) {
      log?.warn(
        { callId: id, path: recordingPath, err: error instanceof Error ? error.message : String(error) },
        'could not delete an expired recording',
      );
      continue;
    }
    store.setRecordingPath(id, null);
    store.addEvent(id, 'recording.deleted', { reason: 'retention', retentionDays, path: recordingPath });
    deleted.push(id);
  }
  if (deleted.length > 0) log?.info({ calls: deleted.length, retentionDays }, 'expired call recordings deleted');
  return deleted;
}

/** Runs {@link deleteExpiredRecordings} at start and then every `everyMs` (default hourly) until stopped. */
export function startRecordingRetention(
  store: CallStore,
  retentionDays: number,
  options: { clock?: Clock; everyMs?: number; log?: Logger; /** Wall-clock time. @default Date.now */ now?: () => number } = {},
): { stop(): void } {
  const clock = options.clock ?? systemClock;
  const sweep = () => {
    deleteExpiredRecordings(store, retentionDays, (options.now ?? Date.now)(), options.log).catch((error: unknown) =>
      options.log?.warn({ err: error instanceof Error ? error.message : String(error) }, 'recording retention sweep failed'),
    );
  };
  sweep();
  const timer: ClockTimer = clock.setInterval(sweep, options.everyMs ?? 60 * 60 * 1000);
  timer.unref?.();
  return { stop: () => clock.clearInterval(timer) };
}
