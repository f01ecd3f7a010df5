/**
 * Time as a dependency: real-time parts (processors' timers, the media clock, paced output, turn-taking) take a
 * {@link Clock} so unit tests drive time with {@link ManualClock} instead of waiting on the wall clock.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale (`performance.now()` for the system clock). */
  now(): number;
  setTimeout(callback: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer | undefined): void;
  setInterval(callback: () => void, ms: number): ClockTimer;
  clearInterval(timer: ClockTimer | undefined): void;
}

/** An opaque timer handle; `unref()` lets the process exit while it is pending (a no-op on manual clocks). */
export interface ClockTimer {
  unref?(): unknown;
}

/** The process's real clock: `performance.now()` and Node's timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout> | undefined),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (timer) => clearInterval(timer as ReturnType<typeof setInterval> | undefined),
};

interface ManualTimer extends ClockTimer {
  at: number;
  seq: number;
  callback: () => void;
  /** Repeat period for intervals; 0 for one-shot timers. */
  every: number;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to: `advance(ms)` runs every timer that falls due, in time order, with
 * `now()` set to each timer's due time while it runs (timers scheduled by callbacks run too if due).
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Set<ManualTimer>();

  constructor(startMs = 0) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  /** Timers still pending. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  setTimeout(callback: () => void, ms: number): ClockTimer {
    return this.add(callback, ms, 0);
  }

  setInterval(callback: () => void, ms: number): ClockTimer {
    return this.add(callback, ms, Math.max(1, ms));
  }

  clearTimeout(timer: ClockTimer | undefined): void {
    if (!timer) return;
    (timer as ManualTimer).cancelled = true;
    this.timers.delete(timer as ManualTimer);
  }

  clearInterval(timer: ClockTimer | undefined): void {
    this.clearTimeout(timer);
  }

  /** Moves time forward by `ms`, running due timers in order. */
  advance(ms: number): void {
    const target = this.time + Math.max(0, ms);
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.time = next.at;
      if (next.every > 0) next.at += next.every;
      else this.timers.delete(next);
      next.callback();
    }
    this.time = target;
  }

  /** Runs timers until none is left (bounded, so a self-rescheduling interval cannot loop forever). */
  runAll(maxMs = 3_600_000): void {
    const limit = this.time + maxMs;
    while (this.timers.size > 0 && this.time < limit) {
      const next = this.nextDue(limit);
      if (!next) break;
      this.advance(next.at - this.time);
    }
  }

  private add(callback: () => void, ms: number, every: number): ManualTimer {
    const timer: ManualTimer = { at: this.time + Math.max(0, ms), seq: this.seq++, callback, every, cancelled: false, unref: () => timer };
    this.timers.add(timer);
    return timer;
  }

  private nextDue(limit: number): ManualTimer | undefined {
    let next: ManualTimer | undefined;
    for (const timer of this.timers) {
      if (timer.at > limit) continue;
      if (!next || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq)) next = timer;
    }
    return next;
  }
}
