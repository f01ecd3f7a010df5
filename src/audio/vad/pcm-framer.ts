/**
 * Cuts a stream of 16-bit PCM chunks of any size into fixed windows of float samples scaled to ±1.
 *
 * `append` copies the chunk immediately (callers may reuse their buffer), `take` copies the next whole window
 * into a caller-owned buffer. The internal queue grows only when more than its capacity is waiting, so steady
 * streaming does not allocate.
 */
export class PcmFramer {
  readonly windowSize: number;
  private queue: Float32Array;
  private readPos = 0;
  private writePos = 0;
  /** Samples appended since construction/reset. */
  appended = 0;
  /** Samples handed out by `take` since construction/reset. */
  taken = 0;

  constructor(windowSize: number) {
    this.windowSize = windowSize;
    this.queue = new Float32Array(windowSize * 8);
  }

  /** Whole windows waiting. */
  get available(): number {
    return Math.floor((this.writePos - this.readPos) / this.windowSize);
  }

  append(pcm: Int16Array): void {
    const n = pcm.length;
    if (this.writePos + n > this.queue.length) {
      const waiting = this.writePos - this.readPos;
      if (waiting + n > this.queue.length) {
        const bigger = new Float32Array(Math.max(this.queue.length * 2, waiting + n));
        bigger.set(this.queue.subarray(this.readPos, this.writePos));
        this.queue = bigger;
      } else {
        this.queue.copyWithin(0, this.readPos, this.writePos);
      }
      this.readPos = 0;
      this.writePos = waiting;
    }
    const q = this.queue;
    let w = this.writePos;
    for (let i = 0; i < n; i++) q[w++] = (pcm[i] as number) / 32768;
    this.writePos = w;
    this.appended += n;
  }

  /** Copies the next window into `into` (length ≥ windowSize); returns false if no whole window is waiting. */
  take(into: Float32Array): boolean {
    if (this.writePos - this.readPos < this.windowSize) return false;
    into.set(this.queue.subarray(this.readPos, this.readPos + this.windowSize));
    this.readPos += this.windowSize;
    this.taken += this.windowSize;
    if (this.readPos === this.writePos) this.readPos = this.writePos = 0;
    return true;
  }

  /** Drops everything waiting and restarts the sample counters. */
  reset(): void {
    this.readPos = this.writePos = 0;
    this.appended = this.taken = 0;
  }
}
