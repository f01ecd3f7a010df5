import { systemClock, type Clock, type ClockTimer } from '../../util/clock.ts';

/** How long a call may wait, after its answer markup was served, for its media to start. */
export const DEFAULT_MEDIA_START_TIMEOUT_MS = 15_000;

/**
 * One timer per answered call whose media has not started: when the carrier's socket never connects (or connects
 * and never sends a start message the server accepts) within the timeout, `onExpired` ends the call. Calls leave
 * the watchdog when their session starts or they end.
 */
export class MediaStartWatchdog {
  private readonly timers = new Map<string, ClockTimer>();

  constructor(
    private readonly onExpired: (callId: string, reason: string) => void,
    private readonly timeoutMs: number = DEFAULT_MEDIA_START_TIMEOUT_MS,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Starts (or restarts, when the carrier fetched the markup again) the wait for `callId`'s media. */
  arm(callId: string): void {
    this.disarm(callId);
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(callId);
      this.onExpired(callId, `media never started: no accepted media stream within ${Math.round(this.timeoutMs / 1000)} s of answering`);
    }, this.timeoutMs);
    timer.unref?.();
    this.timers.set(callId, timer);
  }

  disarm(callId: string): void {
    const timer = this.timers.get(callId);
    if (timer === undefined) return;
    this.clock.clearTimeout(timer);
    this.timers.delete(callId);
  }

  /** Calls still waiting for media. */
  get waiting(): number {
    return this.timers.size;
  }

  /** Stops every timer (shutdown finalises those calls itself). Returns the calls that were waiting. */
  disarmAll(): string[] {
    const ids = [...this.timers.keys()];
    for (const id of ids) this.disarm(id);
    return ids;
  }
}
