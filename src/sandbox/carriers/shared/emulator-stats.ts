/** Emulator-wide counters for tests and the benchmark (computed on demand from the call records). */
import type { EmulatedCallRecord } from './call-record.ts';
import type { MediaClock, MediaClockStats } from './media-clock.ts';

export interface EmulatorStats {
  calls: number;
  /** Calls not yet ended. */
  liveCalls: number;
  /** Calls by current status. */
  byStatus: Record<string, number>;
  /** Bot audio received, in 20 ms frames, over all streams. */
  framesReceived: number;
  /** Frames that arrived more than 20 ms after they were due (see PlayoutBuffer). */
  lateFrames: number;
  maxLatenessMs: number;
  /** Marks / checkpoints received, and how many were acknowledged as played. */
  marksReceived: number;
  marksPlayed: number;
  protocolErrors: number;
  /** Webhooks that got no response or an HTTP status ≥ 400. */
  failedWebhooks: number;
  clock: MediaClockStats;
}

export function emulatorStats(records: Iterable<EmulatedCallRecord>, clock: MediaClock): EmulatorStats {
  const stats: EmulatorStats = {
    calls: 0,
    liveCalls: 0,
    byStatus: {},
    framesReceived: 0,
    lateFrames: 0,
    maxLatenessMs: 0,
    marksReceived: 0,
    marksPlayed: 0,
    protocolErrors: 0,
    failedWebhooks: 0,
    clock: clock.snapshot(),
  };
  for (const record of records) {
    stats.calls++;
    if (record.endedAt === null) stats.liveCalls++;
    stats.byStatus[record.status] = (stats.byStatus[record.status] ?? 0) + 1;
    stats.protocolErrors += record.protocolErrors.length;
    stats.failedWebhooks += record.callbacks.filter((c) => c.status === null || c.status >= 400).length;
    for (const stream of record.streams) {
      stats.framesReceived += stream.playout.framesReceived;
      stats.lateFrames += stream.playout.lateFrames;
      stats.maxLatenessMs = Math.max(stats.maxLatenessMs, stream.playout.maxLatenessMs);
      stats.marksReceived += stream.marks.length;
      stats.marksPlayed += stream.marks.filter((m) => m.outcome === 'played').length;
    }
  }
  return stats;
}
