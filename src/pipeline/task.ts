import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type { Direction, Frame } from './frames.ts';
import { makeFrame } from './frames.ts';
import type { FrameObserver } from './observer.ts';
import { Pipeline } from './pipeline.ts';
import { FrameProcessor } from './processor.ts';
import { SwitchboardError } from '../errors.ts';
import { systemClock, type Clock, type ClockTimer } from '../util/clock.ts';

export interface PipelineTaskOptions {
  /** Identifies the call in every log line and error. */
  callId: string;
  /** Sample rate of caller audio entering the pipeline. @default 8000 */
  audioInSampleRate?: number;
  /** Sample rate of audio the pipeline sends to the caller. @default 8000 */
  audioOutSampleRate?: number;
  /** @default a silent logger */
  log?: Logger;
  /** See every frame hop (latency metrics). @default [] */
  observers?: FrameObserver[];
  /** How long a graceful end may take before the task cancels instead. @default 30_000 */
  endTimeoutMs?: number;
  /** How long a cancel may take before processors are stopped by force. @default 5_000 */
  cancelTimeoutMs?: number;
  /** Called for every error a processor reports (already logged with the call id). */
  onError?: (error: PipelineError) => void;
  /** Called for every frame that leaves the end of the pipeline (tests, taps). */
  onOutput?: (frame: Frame) => void;
  /** Time for the task's and its processors' timers. @default systemClock */
  clock?: Clock;
}

/** A processor's failure, tagged with the call and the processor that reported it. */
export class PipelineError extends SwitchboardError {
  declare readonly callId: string;
  constructor(
    callId: string,
    readonly processor: string,
    readonly fatal: boolean,
    cause: Error,
  ) {
    const base = cause instanceof SwitchboardError ? cause : undefined;
    super(`[call ${callId}] ${processor}: ${cause.message}`, {
      code: base?.code ?? 'pipeline_error',
      callId,
      httpStatus: base?.httpStatus ?? null,
      providerCode: base?.providerCode ?? null,
      retryable: base?.retryable ?? false,
      cause,
    });
  }
}

export interface TaskOutcome {
  /** `ended`: drained gracefully; `cancelled`: stopped immediately (by request, fatal error or timeout). */
  kind: 'ended' | 'cancelled';
  reason: string;
  /** The fatal processor error that cancelled the task, when that is why it stopped. */
  failure?: PipelineError;
}

/** Receives frames injected by the task and requests coming back up from the pipeline. */
class TaskSource extends FrameProcessor {
  constructor(private readonly onUpstream: (frame: Frame) => void) {
    super('PipelineTask::source');
  }

  override queueFrame(frame: Frame, direction: Direction = 'downstream'): void {
    if (direction === 'downstream') this.pushFrame(frame, direction);
    else this.onUpstream(frame);
  }
}

/** Sees what leaves the pipeline, including the `end`/`cancel` that finish the task. */
class TaskSink extends FrameProcessor {
  constructor(private readonly onDownstream: (frame: Frame) => void) {
    super('PipelineTask::sink');
  }

  override queueFrame(frame: Frame, direction: Direction = 'downstream'): void {
    if (direction === 'downstream') this.onDownstream(frame);
  }
}

/**
 * Runs one pipeline for one call: starts it, injects frames, ends it gracefully (drain) or cancels it
 * (immediately), each with a timeout, and reports processor errors with the call id.
 */
export class PipelineTask {
  readonly callId: string;
  private readonly pipeline: Pipeline;
  private readonly source: TaskSource;
  private readonly options: PipelineTaskOptions;
  private readonly log: Logger;
  private state: 'idle' | 'running' | 'ending' | 'cancelling' | 'done' = 'idle';
  private timer: ClockTimer | undefined;
  private readonly clock: Clock;
  /** The first fatal processor error, reported in the outcome. */
  private failure: PipelineError | undefined;
  private resolveDone!: (outcome: TaskOutcome) => void;
  /** Resolves once the pipeline has stopped, however it stopped. */
  readonly done: Promise<TaskOutcome>;

  constructor(pipeline: FrameProcessor | FrameProcessor[], options: PipelineTaskOptions) {
    this.callId = options.callId;
    this.options = options;
    this.log = (options.log ?? silentLogger()).child({ callId: options.callId });
    this.pipeline = Array.isArray(pipeline) ? new Pipeline(pipeline) : pipeline instanceof Pipeline ? pipeline : new Pipeline([pipeline]);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.source = new TaskSource((frame) => this.handleUpstream(frame));
    const sink = new TaskSink((frame) => this.handleDownstream(frame));
    this.source.link(this.pipeline).link(sink);
    this.clock = options.clock ?? systemClock;
    const context = { callId: this.callId, log: this.log, observers: options.observers ?? [], clock: this.clock };
    this.source.setup(context);
    this.pipeline.setup(context);
    sink.setup(context);
  }

  /** Sends `start` and resolves when the pipeline has stopped. */
  run(): Promise<TaskOutcome> {
    if (this.state === 'idle') {
      this.state = 'running';
      this.source.queueFrame(
        makeFrame('start', {
          callId: this.callId,
          audioInSampleRate: this.options.audioInSampleRate ?? 8000,
          audioOutSampleRate: this.options.audioOutSampleRate ?? 8000,
        }),
      );
    }
    return this.done;
  }

  /** Injects a frame at the head of the pipeline. */
  queueFrame(frame: Frame): void {
    if (this.state === 'done') return;
    this.source.queueFrame(frame, 'downstream');
  }

  /** Graceful end: everything queued is processed first. Cancels if it takes longer than `endTimeoutMs`. */
  end(reason = 'end'): void {
    if (this.state !== 'running') return;
    this.state = 'ending';
    this.log.debug({ reason }, 'pipeline ending');
    this.source.queueFrame(makeFrame('end', { reason }));
    this.timer = this.clock.setTimeout(() => {
      this.log.warn({ reason, timeoutMs: this.options.endTimeoutMs ?? 30_000 }, 'graceful end timed out; cancelling');
      this.cancel(`end timed out (${reason})`);
    }, this.options.endTimeoutMs ?? 30_000);
  }

  /** Immediate stop: overtakes queued frames and aborts in-flight work. */
  cancel(reason = 'cancel'): void {
    if (this.state === 'done' || this.state === 'cancelling') return;
    if (this.state === 'idle') return this.finish({ kind: 'cancelled', reason });
    this.state = 'cancelling';
    this.clock.clearTimeout(this.timer);
    this.log.debug({ reason }, 'pipeline cancelling');
    this.timer = this.clock.setTimeout(() => {
      this.log.warn({ reason }, 'cancel did not reach the end of the pipeline; stopping processors by force');
      this.finish({ kind: 'cancelled', reason });
    }, this.options.cancelTimeoutMs ?? 5_000);
    this.source.queueFrame(makeFrame('cancel', { reason }));
  }

  private handleUpstream(frame: Frame): void {
    switch (frame.type) {
      case 'task.end':
        return this.end(frame.reason);
      case 'task.cancel':
        return this.cancel(frame.reason);
      case 'error': {
        const error = new PipelineError(this.callId, frame.processor, frame.fatal, frame.error);
        this.options.onError?.(error);
        if (frame.fatal) {
          this.failure ??= error;
          this.cancel(`fatal error in ${frame.processor}: ${frame.error.message}`);
        }
        return;
      }
      default:
        return;
    }
  }

  private handleDownstream(frame: Frame): void {
    this.options.onOutput?.(frame);
    if (frame.type === 'end') this.finish({ kind: 'ended', reason: frame.reason });
    else if (frame.type === 'cancel') this.finish({ kind: 'cancelled', reason: frame.reason });
  }

  private finish(outcome: TaskOutcome): void {
    if (this.state === 'done') return;
    if (this.failure && outcome.kind === 'cancelled') outcome = { ...outcome, failure: this.failure };
    this.state = 'done';
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    // Stop everything, including processors a timed-out cancel never reached, so no timer or socket survives.
    this.pipeline.stop();
    this.source.stop();
    this.log.debug(outcome, 'pipeline finished');
    this.resolveDone(outcome);
  }
}
