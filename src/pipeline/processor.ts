import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { FrameQueue } from './frame-queue.ts';
import type { Direction, Frame, FrameOf } from './frames.ts';
import { isInterruptible, makeFrame } from './frames.ts';
import type { FrameObserver } from './observer.ts';
import { SwitchboardError } from '../errors.ts';
import { systemClock, type Clock } from '../util/clock.ts';

/** What a processor learns when its pipeline is set up. */
export interface ProcessorContext {
  callId: string;
  log: Logger;
  /** Shared by every processor of a task; empty unless someone observes. */
  observers: FrameObserver[];
  /** Time for the processors' timers and timestamps. @default systemClock */
  clock?: Clock;
}

/** The reason an in-flight operation's `AbortSignal` fired. */
export class InterruptedError extends SwitchboardError {
  constructor(readonly why: 'interruption' | 'cancel' | 'stop') {
    super(`aborted by ${why}`, { code: 'interrupted' });
  }
}

/**
 * A processor timer handle. Typed as Node's so existing subclasses keep their field types; with an injected
 * clock it is that clock's handle, only ever passed back to {@link FrameProcessor.clearTimer}.
 */
type Timer = ReturnType<typeof setTimeout>;

/**
 * Base of every pipeline stage. Frames arrive through {@link queueFrame} from the neighbour upstream or
 * downstream and leave through {@link pushFrame}.
 *
 * Scheduling:
 * - system frames are handled on arrival, in arrival order among themselves (serialised if a handler is
 *   async), overtaking queued data/control frames;
 * - data and control frames are handled one at a time, in order; an async handler holds back the next;
 * - `interruption` drops queued interruptible frames, aborts {@link signal}, runs {@link onInterruption} and
 *   is forwarded at once, so it overtakes even a busy processor;
 * - `cancel` drops everything queued, aborts, forwards and stops the processor;
 * - `end` waits its turn behind queued frames, runs {@link onEnd} (e.g. flush, drain playback), is forwarded
 *   and stops the processor.
 *
 * Synchronous handlers run the whole chain synchronously, so a frame reaches the end of a pipeline of
 * synchronous processors without touching the event loop.
 */
export class FrameProcessor {
  readonly name: string;
  /** Neighbours; set by {@link link}. */
  protected next: FrameProcessor | null = null;
  protected prev: FrameProcessor | null = null;
  protected processorContext: ProcessorContext = { callId: '-', log: silentLogger(), observers: [] };

  private readonly systemQueue = new FrameQueue();
  private readonly dataQueue = new FrameQueue();
  private systemBusy = false;
  private dataBusy = false;
  private started = false;
  private stopped = false;
  private controller = new AbortController();
  private readonly timers = new Set<Timer>();

  constructor(name?: string) {
    this.name = name ?? this.constructor.name;
  }

  /** Links `this → next` in both directions and returns `next`, so links chain. */
  link(next: FrameProcessor): FrameProcessor {
    this.next = next;
    next.prev = this;
    return next;
  }

  /** Called once before the `start` frame; containers pass it on to their children. */
  setup(context: ProcessorContext): void {
    this.processorContext = context;
  }

  get log(): Logger {
    return this.processorContext.log;
  }

  get callId(): string {
    return this.processorContext.callId;
  }

  /** Aborted on interruption, cancel and stop; a fresh signal is issued after each interruption. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Entry point for frames from a neighbour (or a task injecting frames). */
  queueFrame(frame: Frame, direction: Direction = 'downstream'): void {
    if (this.stopped) {
      // Errors raised while later processors finish (flush on end) must still reach the task.
      if (frame.type === 'error' && direction === 'upstream') this.prev?.queueFrame(frame, direction);
      return;
    }
    if (frame.category === 'system') {
      if (frame.type === 'interruption') return this.interrupt(frame, direction);
      if (frame.type === 'cancel') return this.cancelNow(frame, direction);
      if (this.systemBusy) this.systemQueue.push(frame, direction);
      else this.runSystem(frame, direction);
      return;
    }
    this.dataQueue.push(frame, direction);
    if (this.started && !this.dataBusy) void this.drainData();
  }

  /**
   * Handles one frame. The default forwards it unchanged; override to consume, transform or react,
   * and call {@link pushFrame} for what should travel on. May be async: the next frame of the same class
   * waits for it.
   */
  protected processFrame(frame: Frame, direction: Direction): void | Promise<void> {
    this.pushFrame(frame, direction);
  }

  /** Runs before `start` is forwarded. May be async (connect a socket) — later frames wait for it. */
  protected onStart(_frame: FrameOf<'start'>): void | Promise<void> {}

  /** Runs once right after `start` was forwarded: frames pushed now reach the next processor after it. */
  protected onStarted(): void {}

  /** Runs when `end` reaches this processor, before it is forwarded: flush, drain, close gracefully. */
  protected onEnd(_frame: FrameOf<'end'>): void | Promise<void> {}

  /** Runs on interruption after queues were cleared and {@link signal} aborted. Keep it synchronous. */
  protected onInterruption(_frame: FrameOf<'interruption'>, _direction: Direction): void {}

  /** Runs once when the processor stops (after end or cancel): release sockets and resources. */
  protected onStop(): void {}

  /** Sends a frame to the neighbour in `direction`. */
  pushFrame(frame: Frame, direction: Direction = 'downstream'): void {
    const target = direction === 'downstream' ? this.next : this.prev;
    const observers = this.processorContext.observers;
    if (observers.length !== 0) {
      const hop = { source: this.name, destination: target?.name ?? '-', frame, direction, atMs: this.taskClock.now() };
      for (const observer of observers) observer.onHop(hop);
    }
    target?.queueFrame(frame, direction);
  }

  /** Reports an error upstream (towards the task) with the call id; fatal errors end the call. */
  pushError(error: unknown, fatal = false): void {
    const err = error instanceof Error ? error : new Error(String(error));
    this.log.error({ callId: this.callId, processor: this.name, err, fatal }, 'processor error');
    this.pushFrame(makeFrame('error', { error: err, fatal, processor: this.name }), 'upstream');
  }

  /** The task's clock (injectable, so unit tests drive time by hand). */
  protected get taskClock(): Clock {
    return this.processorContext.clock ?? systemClock;
  }

  /** A timeout on the task's clock that is cleared automatically when the processor stops. */
  protected setTimer(callback: () => void, ms: number): Timer {
    const timer = this.taskClock.setTimeout(() => {
      this.timers.delete(timer);
      callback();
    }, ms) as Timer;
    this.timers.add(timer);
    return timer;
  }

  protected clearTimer(timer: Timer | undefined): void {
    if (timer === undefined) return;
    this.taskClock.clearTimeout(timer);
    this.timers.delete(timer);
  }

  /** Stops the processor: no more frames are handled, timers are cleared, in-flight work is aborted. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.systemQueue.clear();
    this.dataQueue.clear();
    for (const timer of this.timers) this.taskClock.clearTimeout(timer);
    this.timers.clear();
    this.controller.abort(new InterruptedError('stop'));
    try {
      this.onStop();
    } catch (error) {
      this.log.error({ callId: this.callId, processor: this.name, err: error }, 'error while stopping');
    }
  }

  private interrupt(frame: FrameOf<'interruption'>, direction: Direction): void {
    this.dataQueue.retain((queued) => !isInterruptible(queued));
    this.controller.abort(new InterruptedError('interruption'));
    this.controller = new AbortController();
    try {
      this.onInterruption(frame, direction);
    } catch (error) {
      this.pushError(error);
    }
    this.pushFrame(frame, direction);
  }

  private cancelNow(frame: FrameOf<'cancel'>, direction: Direction): void {
    this.controller.abort(new InterruptedError('cancel'));
    this.systemQueue.clear();
    this.dataQueue.clear();
    this.pushFrame(frame, direction);
    this.stop();
  }

  private runSystem(frame: Frame, direction: Direction): void {
    let pending: void | Promise<void>;
    try {
      pending = frame.type === 'start' ? this.handleStart(frame) : this.processFrame(frame, direction);
    } catch (error) {
      this.pushError(error);
      return;
    }
    if (pending) {
      this.systemBusy = true;
      pending.then(
        () => this.afterSystem(),
        (error: unknown) => {
          if (!(error instanceof InterruptedError)) this.pushError(error);
          this.afterSystem();
        },
      );
    }
  }

  private afterSystem(): void {
    this.systemBusy = false;
    while (!this.systemBusy && this.systemQueue.length > 0 && !this.stopped) {
      const [frame, direction] = this.systemQueue.shift();
      this.runSystem(frame, direction);
    }
  }

  private handleStart(frame: FrameOf<'start'>): void | Promise<void> {
    const pending = this.onStart(frame);
    if (pending) return pending.then(() => this.afterStart(frame));
    this.afterStart(frame);
  }

  private afterStart(frame: FrameOf<'start'>): void {
    if (this.stopped) return;
    this.started = true;
    this.pushFrame(frame, 'downstream');
    try {
      this.onStarted();
    } catch (error) {
      this.pushError(error);
    }
    if (this.dataQueue.length > 0 && !this.dataBusy) void this.drainData();
  }

  private async drainData(): Promise<void> {
    this.dataBusy = true;
    while (this.dataQueue.length > 0 && !this.stopped) {
      const [frame, direction] = this.dataQueue.shift();
      try {
        const pending = frame.type === 'end' ? this.handleEnd(frame) : this.processFrame(frame, direction);
        if (pending) await pending;
      } catch (error) {
        if (!(error instanceof InterruptedError)) this.pushError(error);
      }
    }
    this.dataBusy = false;
  }

  private async handleEnd(frame: FrameOf<'end'>): Promise<void> {
    try {
      await this.onEnd(frame);
    } catch (error) {
      this.pushError(error);
    }
    if (this.stopped) return;
    this.pushFrame(frame, 'downstream');
    this.stop();
  }
}
