import type { Direction, Frame } from './frames.ts';

/** One hop of a frame from one processor to the next. */
export interface FrameHop {
  source: string;
  destination: string;
  frame: Frame;
  direction: Direction;
  /** `performance.now()` when the frame was pushed. */
  atMs: number;
}

/**
 * Sees every frame hop without sitting in the pipeline (latency metrics, debugging). Called synchronously
 * on the hot path: keep it cheap. With no observer attached the engine skips the call entirely.
 */
export interface FrameObserver {
  onHop(hop: FrameHop): void;
}
