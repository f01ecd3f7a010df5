import type { Direction, Frame } from './frames.ts';

/**
 * FIFO of (frame, direction) pairs on a growable ring buffer: O(1) push/shift without the O(n)
 * `Array.shift` that a long TTS backlog would otherwise pay per frame.
 */
export class FrameQueue {
  private frames: Array<Frame | undefined> = new Array(16);
  private directions: Direction[] = new Array(16);
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(frame: Frame, direction: Direction): void {
    if (this.count === this.frames.length) this.grow();
    const tail = (this.head + this.count) & (this.frames.length - 1);
    this.frames[tail] = frame;
    this.directions[tail] = direction;
    this.count++;
  }

  /** Removes the oldest entry; call only when `length > 0`. */
  shift(): [Frame, Direction] {
    const i = this.head;
    const frame = this.frames[i] as Frame;
    this.frames[i] = undefined;
    this.head = (i + 1) & (this.frames.length - 1);
    this.count--;
    return [frame, this.directions[i] as Direction];
  }

  /** Keeps only the entries for which `keep` is true, preserving order. */
  retain(keep: (frame: Frame) => boolean): void {
    const kept: Array<[Frame, Direction]> = [];
    while (this.count > 0) {
      const entry = this.shift();
      if (keep(entry[0])) kept.push(entry);
    }
    this.head = 0;
    for (const [frame, direction] of kept) this.push(frame, direction);
  }

  clear(): void {
    this.frames.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  private grow(): void {
    const size = this.frames.length;
    const frames: Array<Frame | undefined> = new Array(size * 2);
    const directions: Direction[] = new Array(size * 2);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) & (size - 1);
      frames[k] = this.frames[i];
      directions[k] = this.directions[i] as Direction;
    }
    this.frames = frames;
    this.directions = directions;
    this.head = 0;
  }
}
