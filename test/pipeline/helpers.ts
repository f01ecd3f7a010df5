import type { Direction, Frame, FrameOf } from '../../src/pipeline/index.ts';
import { FrameProcessor } from '../../src/pipeline/index.ts';

/** Forwards every frame after an optional async delay, recording what it handled. */
export class DelayProcessor extends FrameProcessor {
  readonly seen: Frame[] = [];
  aborted = 0;

  constructor(
    name: string,
    private readonly delayMs: (frame: Frame) => number = () => 0,
  ) {
    super(name);
  }

  protected override async processFrame(frame: Frame, direction: Direction): Promise<void> {
    this.seen.push(frame);
    const ms = this.delayMs(frame);
    if (ms > 0) {
      const signal = this.signal;
      await new Promise<void>((resolve) => {
        const onAbort = () => {
          clearTimeout(timer);
          this.aborted++;
          resolve();
        };
        const timer = setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, ms);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      if (signal.aborted) return; // in-flight work cancelled: the frame is dropped
    }
    this.pushFrame(frame, direction);
  }
}

/** Synchronous pass-through (the common case) that counts frames. */
export class CountingProcessor extends FrameProcessor {
  count = 0;
  protected override processFrame(frame: Frame, direction: Direction): void {
    this.count++;
    this.pushFrame(frame, direction);
  }
}

export function types(frames: Frame[]): string[] {
  return frames.map((f) => f.type);
}

export function texts(frames: Frame[]): string[] {
  return frames.filter((f): f is FrameOf<'llm.text'> => f.type === 'llm.text').map((f) => f.text);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
