/**
 * Where a call's recording is, and where each turn starts in it; no player until a record has one.
 * - the recording: `recordingUrl` when the record gives one, else `GET /calls/:id/recording` once the record
 *   has a `recordingPath`;
 * - a turn's position: its `recordingOffsetMs` when set, else its start relative to the answer (the
 *   recording starts with the media, at the answer).
 */
import type { CallRecord, CallTurn } from './api.ts';

export interface RecordingView {
  url: string;
  /** Seconds into the recording where `turn` starts, or null when unknown. */
  offsetOf(turn: CallTurn): number | null;
}

export function recordingOf(record: CallRecord): RecordingView | null {
  const extra = record as CallRecord & { recordingUrl?: unknown };
  const url =
    typeof extra.recordingUrl === 'string' && extra.recordingUrl
      ? extra.recordingUrl
      : record.recordingPath
        ? `/calls/${encodeURIComponent(record.id)}/recording`
        : null;
  if (url === null) return null;
  const answeredAt = record.answeredAt ? Date.parse(record.answeredAt) : null;
  return {
    url,
    offsetOf(turn) {
      const explicit = (turn as CallTurn & { recordingOffsetMs?: unknown }).recordingOffsetMs;
      if (typeof explicit === 'number') return explicit / 1000;
      if (answeredAt === null) return null;
      return Math.max(0, (Date.parse(turn.startedAt) - answeredAt) / 1000);
    },
  };
}
