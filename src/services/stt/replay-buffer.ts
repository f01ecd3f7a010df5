/**
 * The recent bytes of an audio stream, addressed by absolute stream position. An STT session keeps here the
 * audio the provider has not finalised yet, so it can replay it to a new connection after a drop.
 *
 * Circular storage that starts small and doubles up to `maxBytes`; beyond that the oldest bytes are dropped
 * (`start` moves forward). Pushing copies the bytes (callers may reuse their buffers).
 */
export class ReplayBuffer {
  /** Absolute position of the oldest byte held. */
  start = 0;
  /** Absolute position just after the newest byte (= total bytes ever pushed). */
  end = 0;
  private buf: Uint8Array;

  constructor(
    readonly maxBytes: number,
    initialBytes = 4096,
  ) {
    this.buf = new Uint8Array(Math.min(initialBytes, maxBytes));
  }

  get length(): number {
    return this.end - this.start;
  }

  push(chunk: Uint8Array): void {
    let src = chunk;
    if (src.length >= this.maxBytes) {
      // Only the newest maxBytes can be kept.
      const skip = src.length - this.maxBytes;
      this.start = this.end + skip;
      this.end = this.start;
      src = src.subarray(skip);
    }
    const need = this.length + src.length;
    if (need > this.buf.length) {
      if (this.buf.length < this.maxBytes) this.grow(Math.min(this.maxBytes, Math.max(need, this.buf.length * 2)));
      if (need > this.buf.length) this.start += need - this.buf.length;
    }
    const cap = this.buf.length;
    const at = this.end % cap;
    const first = Math.min(src.length, cap - at);
    this.buf.set(src.subarray(0, first), at);
    if (first < src.length) this.buf.set(src.subarray(first), 0);
    this.end += src.length;
  }

  /** Forgets bytes before `pos`. */
  dropBefore(pos: number): void {
    if (pos > this.start) this.start = Math.min(pos, this.end);
  }

  /** Calls `fn` with views of the bytes in [from, end), in order, each at most `maxPiece` bytes. */
  forEach(from: number, maxPiece: number, fn: (piece: Uint8Array) => void): void {
    const cap = this.buf.length;
    let pos = Math.max(from, this.start);
    while (pos < this.end) {
      const at = pos % cap;
      const n = Math.min(this.end - pos, cap - at, maxPiece);
      fn(this.buf.subarray(at, at + n));
      pos += n;
    }
  }

  private grow(capacity: number): void {
    const next = new Uint8Array(capacity);
    let pos = this.start;
    this.forEach(this.start, Infinity, (piece) => {
      // Position p lives at p % capacity in the new storage too.
      const at = pos % capacity;
      const first = Math.min(piece.length, capacity - at);
      next.set(piece.subarray(0, first), at);
      if (first < piece.length) next.set(piece.subarray(first), 0);
      pos += piece.length;
    });
    this.buf = next;
  }
}
