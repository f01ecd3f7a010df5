import type { Direction, Frame } from './frames.ts';
import type { ProcessorContext } from './processor.ts';
import { FrameProcessor } from './processor.ts';

/**
 * Hands frames straight through with no queue or lifecycle of its own: the entry and exit of a
 * {@link Pipeline}, so a nested pipeline costs one extra call per hop.
 */
class PipelineEdge extends FrameProcessor {
  constructor(
    name: string,
    private readonly forward: (frame: Frame, direction: Direction) => void,
  ) {
    super(name);
  }

  override queueFrame(frame: Frame, direction: Direction = 'downstream'): void {
    this.forward(frame, direction);
  }
}

/**
 * A chain of processors that behaves as one processor, so pipelines nest. Downstream frames enter at the
 * first processor and leave after the last; upstream frames the other way.
 */
export class Pipeline extends FrameProcessor {
  readonly processors: readonly FrameProcessor[];
  private readonly entry: FrameProcessor;
  private readonly exit: FrameProcessor;

  constructor(processors: FrameProcessor[], name = 'Pipeline') {
    super(name);
    this.processors = processors;
    // Upstream frames leaving the first processor go to our upstream neighbour, and vice versa.
    const head = new PipelineEdge(`${name}::source`, (frame, direction) => {
      if (direction === 'upstream') this.prev?.queueFrame(frame, direction);
    });
    const tail = new PipelineEdge(`${name}::sink`, (frame, direction) => {
      if (direction === 'downstream') this.next?.queueFrame(frame, direction);
    });
    let cursor: FrameProcessor = head;
    for (const processor of processors) cursor = cursor.link(processor);
    cursor.link(tail);
    this.entry = processors[0] ?? tail;
    this.exit = processors[processors.length - 1] ?? head;
  }

  override setup(context: ProcessorContext): void {
    super.setup(context);
    for (const processor of this.processors) processor.setup(context);
  }

  override queueFrame(frame: Frame, direction: Direction = 'downstream'): void {
    if (direction === 'downstream') this.entry.queueFrame(frame, direction);
    else this.exit.queueFrame(frame, direction);
  }

  override stop(): void {
    for (const processor of this.processors) processor.stop();
    super.stop();
  }

  /** Every leaf processor, depth first. */
  leaves(): FrameProcessor[] {
    return this.processors.flatMap((processor) => (processor instanceof Pipeline ? processor.leaves() : [processor]));
  }
}
