/** The parts carrier emulators share (each carrier's own emulator lives in `src/telephony/<carrier>/emulator/`). */
export type {
  ClearRecord,
  EmulatedCallRecord,
  MarkRecord,
  MarkupRecord,
  ProtocolErrorRecord,
  StatusTransition,
  StreamRecord,
} from './shared/call-record.ts';
export { lateFrameSummary } from './shared/call-record.ts';
export { MediaClock, nowMs, type MediaClockOptions, type MediaClockStats } from './shared/media-clock.ts';
export type { PlayoutStats, Underrun } from './shared/playout-buffer.ts';
export type { WebhookRecord } from './shared/webhook.ts';
export { CallTimeoutError } from './shared/emulated-call.ts';
export { emulatorStats, type EmulatorStats } from './shared/emulator-stats.ts';
