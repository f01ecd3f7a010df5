import type { Clock } from '../../util/clock.ts';
import type { MediaWatchdogOptions } from '../../transports/websocket-media-channel.ts';

/** Time limits on a call's media, from answer to shutdown (all documented in the README's Hardening section). */
export interface MediaLifecycleOptions {
  /** After the answer markup is served, how long until an accepted stream's session must have started. @default 15000 */
  mediaStartTimeoutMs?: number;
  /** How long an accepted media socket may take to send its carrier's start message. @default 5000 */
  startMessageTimeoutMs?: number;
  /** Pings and the inbound-media watchdog of each stream. @default pings every 5 s, 10 s without inbound audio */
  watchdog?: MediaWatchdogOptions;
  /** At shutdown, how long to wait for carrier hang-ups of live and ringing calls before giving up. @default 5000 */
  shutdownHangUpTimeoutMs?: number;
  /** Time source for the media-start timers. @default systemClock */
  clock?: Clock;
}

/** @see MediaLifecycleOptions */
export const DEFAULT_SHUTDOWN_HANGUP_TIMEOUT_MS = 5000;
