import { systemClock, type Clock, type ClockTimer } from '../util/clock.ts';

/** Something the clock drives: an output that tops up its carrier's playback buffer. */
export interface ClockClient {
  /** Called on every tick with the clock's `now()` (`performance.now()` by default); returns false to leave the clock. */
  tick(nowMs: number): boolean;
}

export interface MediaClockOptions {
  /** Tick period. Outputs keep a lead of a few ticks, so the period bounds pacing granularity. @default 20 */
  periodMs?: number;
  /** Time source (a `ManualClock` in unit tests). @default systemClock */
  clock?: Clock;
}

/**
 * One timer for every call's outbound audio in the process, instead of a timer per call per frame: on each
 * tick every active output sends what its carrier needs. Idle outputs leave the clock, and the timer stops
 * when nothing is active, so an idle process (or a finished test) holds no timer.
 */
export class MediaClock {
  readonly periodMs: number;
  private readonly clients = new Set<ClockClient>();
  private readonly clock: Clock;
  private timer: ClockTimer | undefined;

  constructor(options: MediaClockOptions = {}) {
    this.periodMs = options.periodMs ?? 20;
    this.clock = options.clock ?? systemClock;
  }

  get activeClients(): number {
    return this.clients.size;
  }

  /** Adds a client (idempotent) and runs its first tick at once, so new audio does not wait a period. */
  activate(client: ClockClient): void {
    if (this.clients.has(client)) return;
    this.clients.add(client);
    if (!client.tick(this.clock.now())) {
      this.clients.delete(client);
      return;
    }
    if (!this.timer) this.timer = this.clock.setInterval(() => this.tickAll(), this.periodMs);
  }

  deactivate(client: ClockClient): void {
    this.clients.delete(client);
    if (this.clients.size === 0) this.stopTimer();
  }

  private tickAll(): void {
    const now = this.clock.now();
    for (const client of this.clients) {
      let keep = false;
      try {
        keep = client.tick(now);
      } catch {
        keep = false; // a failing client must not stop the others; it reports its own errors
      }
      if (!keep) this.clients.delete(client);
    }
    if (this.clients.size === 0) this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer) this.clock.clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The process-wide clock used unless a transport is given its own. */
export const sharedMediaClock = new MediaClock();
