/**
 * Bytes waiting to be sent to the carrier, kept as the chunks they arrived in (no concatenation);
 * {@link take} copies the next frame into a caller-owned buffer.
 */
export class OutboundAudioQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // index of the first chunk in use
  private offset = 0; // bytes already taken from chunks[head]
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  /**
   * Removes up to `maxBytes` and returns them: a view of `scratch` (valid until the next call), or of the
   * queued chunk itself when the bytes lie within one chunk.
   */
  take(maxBytes: number, scratch: Uint8Array): Uint8Array {
    const want = Math.min(maxBytes, this.size, scratch.length);
    const first = this.chunks[this.head] as Uint8Array;
    if (first.length - this.offset >= want) {
      const view = first.subarray(this.offset, this.offset + want);
      this.advance(want);
      return view;
    }
    let copied = 0;
    while (copied < want) {
      const chunk = this.chunks[this.head] as Uint8Array;
      const n = Math.min(want - copied, chunk.length - this.offset);
      scratch.set(chunk.subarray(this.offset, this.offset + n), copied);
      copied += n;
      this.advance(n);
    }
    return scratch.subarray(0, want);
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.offset = 0;
    this.size = 0;
  }

  private advance(n: number): void {
    this.offset += n;
    this.size -= n;
    const chunk = this.chunks[this.head] as Uint8Array;
    if (this.offset === chunk.length) {
      this.head++;
      this.offset = 0;
      // Drop consumed chunks now and then, not on every frame.
      if (this.head > 64 || this.head === this.chunks.length) {
        this.chunks = this.chunks.slice(this.head);
        this.head = 0;
      }
    }
  }
}
