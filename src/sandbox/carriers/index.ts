/** Local, protocol-faithful carrier emulators with simulated callees (see twilio/ and plivo/). */
export * from '../../telephony/twilio/emulator/index.ts';
export * from '../../telephony/plivo/emulator/index.ts';
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
