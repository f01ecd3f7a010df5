/**
 * Bytes on their way to the carrier, on one absolute byte timeline (offset 0 = the call's first outbound
 * byte). Chunks are kept as they arrived (no concatenation); {@link take} copies the next frame into a
 * caller-owned buffer.
 *
 * Bytes already taken stay retained until {@link release}d, so the sender can {@link rewind} to a position the
 * carrier has not confirmed playing (a paused reply resumes from the acknowledged word, not from what was
 * cleared at the carrier).
 */
export class OutboundAudioQueue {
  private chunks: Array<{ bytes: Uint8Array; start: number }> = [];
  /** Index of the oldest retained chunk. */
  private first = 0;
  /** Index of the chunk holding the read position, and bytes already taken from it. */
  private head = 0;
  private headOffset = 0;
  private read = 0;
  private end = 0;

  /** Unread bytes. */
  get length(): number {
    return this.end - this.read;
  }

  /** Absolute offset of the next byte {@link take} returns. */
  get readOffset(): number {
    return this.read;
  }

  /** Absolute offset just past the last byte pushed. */
  get endOffset(): number {
    return this.end;
  }

  /** Oldest absolute offset {@link rewind} can go back to. */
  get retainedFrom(): number {
    return this.first < this.chunks.length ? Math.min((this.chunks[this.first] as { start: number }).start, this.read) : this.read;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push({ bytes, start: this.end });
    this.end += bytes.length;
  }

  /**
   * Removes up to `maxBytes` and returns them: a view of `scratch` (valid until the next call), or of the
   * queued chunk itself when the bytes lie within one chunk.
   */
  take(maxBytes: number, scratch: Uint8Array): Uint8Array {
    const want = Math.min(maxBytes, this.length, scratch.length);
    if (want <= 0) return scratch.subarray(0, 0);
    const first = (this.chunks[this.head] as { bytes: Uint8Array }).bytes;
    if (first.length - this.headOffset >= want) {
      const view = first.subarray(this.headOffset, this.headOffset + want);
      this.advance(want);
      return view;
    }
    let copied = 0;
    while (copied < want) {
      const chunk = (this.chunks[this.head] as { bytes: Uint8Array }).bytes;
      const n = Math.min(want - copied, chunk.length - this.headOffset);
      scratch.set(chunk.subarray(this.headOffset, this.headOffset + n), copied);
      copied += n;
      this.advance(n);
    }
    return scratch.subarray(0, want);
  }

  /** Forgets taken bytes before `offset` (the carrier played them). */
  release(offset: number): void {
    while (this.first < this.head) {
      const chunk = this.chunks[this.first] as { bytes: Uint8Array; start: number };
      if (chunk.start + chunk.bytes.length > offset) break;
      this.first++;
    }
    this.compact();
  }

  /** Moves the read position back to `offset` (clamped to what is retained); returns where reading resumes. */
  rewind(offset: number): number {
    const to = Math.min(this.read, Math.max(offset, this.retainedFrom));
    if (to === this.read) return to;
    let i = Math.min(this.head, this.chunks.length - 1);
    while (i > this.first && (this.chunks[i] as { start: number }).start > to) i--;
    this.head = i;
    this.headOffset = to - (this.chunks[i] as { start: number }).start;
    this.read = to;
    return to;
  }

  /** Drops everything, read or not; the timeline continues from the read position. */
  clear(): void {
    this.chunks = [];
    this.first = 0;
    this.head = 0;
    this.headOffset = 0;
    this.end = this.read;
  }

  private advance(n: number): void {
    this.headOffset += n;
    this.read += n;
    const chunk = (this.chunks[this.head] as { bytes: Uint8Array }).bytes;
    if (this.headOffset === chunk.length) {
      this.head++;
      this.headOffset = 0;
    }
  }

  private compact(): void {
    // Drop released chunks now and then, not on every frame.
    if (this.first > 64 || (this.first > 0 && this.first === this.chunks.length)) {
      this.chunks = this.chunks.slice(this.first);
      this.head -= this.first;
      this.first = 0;
    }
  }
}
