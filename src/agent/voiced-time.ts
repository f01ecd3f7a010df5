/** Silence inside speech shorter than this (a gap between words) still counts as voicing. */
export const PAUSE_GRACE_MS = 100;

/**
 * Voiced time of one stretch of caller sound, from VAD's onset, pause and resume events. VAD's stop decision
 * lags by `stopSecs`, so only voiced time is counted: a short "yeah" must not ride that lag. Pauses shorter
 * than {@link PAUSE_GRACE_MS} (gaps between words) count as voiced.
 */
export class VoicedTime {
  private closedMs = 0;
  /** When the current voiced stretch began; undefined while in a real pause. */
  private since: number | undefined;
  /** Start of a pause inside the current stretch, not yet known to be real. */
  private pauseAt: number | undefined;

  constructor(onsetMs: number) {
    this.since = onsetMs;
  }

  /** The caller is voicing (or in a pause still within the grace). */
  get voicing(): boolean {
    return this.since !== undefined && this.pauseAt === undefined;
  }

  /** Start of the current pause, if the caller is quiet. */
  get quietSince(): number | undefined {
    return this.since === undefined ? this.lastPauseAt : this.pauseAt;
  }

  private lastPauseAt: number | undefined;

  paused(atMs: number): void {
    if (this.since !== undefined && this.pauseAt === undefined) this.pauseAt = atMs;
  }

  resumed(atMs: number): void {
    if (this.since !== undefined && this.pauseAt !== undefined && atMs - this.pauseAt > PAUSE_GRACE_MS) {
      this.closedMs += Math.max(0, this.pauseAt - this.since); // a real pause: its time does not count
      this.since = atMs;
    }
    this.since ??= atMs;
    this.pauseAt = undefined;
  }

  /** A pause that has outlasted the grace is real: the stretch ends where it began. */
  settle(nowMs: number): void {
    if (this.since !== undefined && this.pauseAt !== undefined && nowMs - this.pauseAt >= PAUSE_GRACE_MS) {
      this.closedMs += Math.max(0, this.pauseAt - this.since);
      this.lastPauseAt = this.pauseAt;
      this.since = undefined;
      this.pauseAt = undefined;
    }
  }

  /** Voiced ms up to `nowMs` (a pause within the grace counts). */
  total(nowMs: number): number {
    if (this.since === undefined) return this.closedMs;
    return (
      this.closedMs +
      Math.max(0, (this.pauseAt ?? nowMs) - this.since) +
      (this.pauseAt !== undefined ? Math.min(PAUSE_GRACE_MS, nowMs - this.pauseAt) : 0)
    );
  }

  /** When the voiced time reaches `ms` if the caller keeps voicing (undefined in a real pause). */
  dueAt(ms: number): number | undefined {
    if (this.since === undefined) return undefined;
    return this.since + (ms - this.closedMs);
  }
}
