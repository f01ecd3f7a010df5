/**
 * The one 20 ms clock an emulator runs all its calls on.
 *
 * A carrier sends caller audio as one frame every 20 ms and plays our audio out at the same rate. Running a
 * timer per call would cost a timer wake-up per call per frame; instead every call subscribes to one clock and
 * all calls are served in the same wake-up. The clock runs only while something is subscribed, so a closed
 * emulator leaves no timer behind.
 *
 * Ticks are scheduled against absolute due times (origin + n × frame), so timer jitter does not accumulate.
 * When the event loop stalls, the missed ticks run back to back (as a carrier's frames would arrive in a burst
 * after a network stall), up to {@link MediaClockOptions.maxCatchUpTicks}; beyond that the clock skips ahead
 * and counts the skipped ticks.
 */

/** Wall-clock milliseconds (epoch based, sub-millisecond, monotonic within the process). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Called on every tick with the tick's nominal time (epoch ms). */
export type TickListener = (tickTime: number) => void;

export interface MediaClockOptions {
  /** Tick period in ms. @default 20 */
  frameMs?: number;
  /** Missed ticks run back to back after a stall, at most this many; the rest are skipped. @default 10 */
  maxCatchUpTicks?: number;
  /** Called when a listener throws (the other listeners still run). @default ignore */
  onListenerError?: (error: unknown) => void;
}

export interface MediaClockStats {
  /** Ticks delivered. */
  ticks: number;
  /** Timer wake-ups (a wake-up after a stall delivers several ticks). */
  wakeUps: number;
  /** How late wake-ups were against their due time: mean, 99th percentile and maximum (ms). */
  meanLatenessMs: number;
  p99LatenessMs: number;
  maxLatenessMs: number;
  /** Ticks delivered late in a catch-up burst (the loop was stalled for more than one period). */
  catchUpTicks: number;
  /** Ticks skipped because the loop stalled for longer than the catch-up allowance. */
  skippedTicks: number;
}

const LATENESS_BUCKET_MS = 0.25;
const LATENESS_BUCKETS = 400; // 0 … 100 ms in 0.25 ms steps; later wake-ups land in the last bucket

export class MediaClock {
  readonly frameMs: number;
  private readonly maxCatchUpTicks: number;
  private readonly onListenerError: (error: unknown) => void;
  private readonly listeners = new Set<TickListener>();
  private timer: NodeJS.Timeout | undefined;
  private isRunning = false;
  private inTick = false;
  private origin = 0;
  private index = 0;
  private readonly latencyHistogram = new Uint32Array(LATENESS_BUCKETS);
  private stats: Omit<MediaClockStats, 'p99LatenessMs' | 'meanLatenessMs'> & { latenessSumMs: number } = {
    ticks: 0,
    wakeUps: 0,
    maxLatenessMs: 0,
    catchUpTicks: 0,
    skippedTicks: 0,
    latenessSumMs: 0,
  };

  constructor(options: MediaClockOptions = {}) {
    this.frameMs = options.frameMs ?? 20;
    this.maxCatchUpTicks = options.maxCatchUpTicks ?? 10;
    this.onListenerError = options.onListenerError ?? (() => {});
  }

  /** Subscribes `listener`; returns the unsubscribe function. The first subscriber starts the clock. */
  add(listener: TickListener): () => void {
    this.listeners.add(listener);
    if (!this.isRunning) {
      this.isRunning = true;
      this.origin = nowMs();
      this.index = 0;
      if (!this.inTick) this.schedule();
    }
    return () => this.remove(listener);
  }

  remove(listener: TickListener): void {
    this.listeners.delete(listener);
    if (this.listeners.size === 0) this.stop();
  }

  /** Number of subscribers (calls with live media). */
  get size(): number {
    return this.listeners.size;
  }

  get running(): boolean {
    return this.isRunning;
  }

  /** Timing accuracy so far (since construction, across start/stop cycles). */
  snapshot(): MediaClockStats {
    const { latenessSumMs, ...rest } = this.stats;
    return {
      ...rest,
      meanLatenessMs: rest.wakeUps > 0 ? latenessSumMs / rest.wakeUps : 0,
      p99LatenessMs: this.percentile(0.99),
    };
  }

  /** Stops the clock (it restarts when something subscribes again). */
  stop(): void {
    this.isRunning = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    const due = this.origin + (this.index + 1) * this.frameMs;
    this.timer = setTimeout(this.onTimer, Math.max(0, due - nowMs()));
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.inTick = true;
    const now = nowMs();
    const due = this.origin + (this.index + 1) * this.frameMs;
    const lateness = Math.max(0, now - due);
    this.recordLateness(lateness);
    let ticks = Math.floor(lateness / this.frameMs) + 1;
    if (ticks > this.maxCatchUpTicks) {
      this.stats.skippedTicks += ticks - this.maxCatchUpTicks;
      this.index += ticks - this.maxCatchUpTicks;
      ticks = this.maxCatchUpTicks;
    }
    if (ticks > 1) this.stats.catchUpTicks += ticks - 1;
    for (let i = 0; i < ticks && this.isRunning; i++) {
      this.index++;
      this.stats.ticks++;
      const tickTime = this.origin + this.index * this.frameMs;
      for (const listener of [...this.listeners]) {
        try {
          listener(tickTime);
        } catch (error) {
          this.onListenerError(error);
        }
      }
    }
    this.inTick = false;
    if (this.isRunning) this.schedule();
  };

  private recordLateness(ms: number): void {
    this.stats.wakeUps++;
    this.stats.latenessSumMs += ms;
    if (ms > this.stats.maxLatenessMs) this.stats.maxLatenessMs = ms;
    const bucket = Math.min(LATENESS_BUCKETS - 1, Math.floor(ms / LATENESS_BUCKET_MS));
    this.latencyHistogram[bucket] = (this.latencyHistogram[bucket] as number) + 1;
  }

  private percentile(q: number): number {
    const total = this.stats.wakeUps;
    if (total === 0) return 0;
    const target = Math.ceil(total * q);
    let seen = 0;
    for (let b = 0; b < LATENESS_BUCKETS; b++) {
      seen += this.latencyHistogram[b] as number;
      if (seen >= target) return (b + 1) * LATENESS_BUCKET_MS;
    }
    return this.stats.maxLatenessMs;
  }
}
