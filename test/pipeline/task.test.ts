import { createHook } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import type { Direction, Frame, FrameHop, FrameOf } from '../../src/pipeline/index.ts';
import { FrameProcessor, PipelineError, PipelineTask, makeFrame } from '../../src/pipeline/index.ts';
import { CountingProcessor, DelayProcessor, sleep, texts, types } from './helpers.ts';

const text = (t: string) => makeFrame('llm.text', { text: t });

/** Counts timers created and not yet fired or cleared while `track` is on (async_hooks sees every Timeout). */
function timerTracker() {
  const live = new Set<number>();
  const hook = createHook({
    init(asyncId, type) {
      if (type === 'Timeout') live.add(asyncId);
    },
    destroy(asyncId) {
      live.delete(asyncId);
    },
  });
  hook.enable();
  return {
    get live() {
      return live.size;
    },
    stop: () => hook.disable(),
  };
}

describe('graceful end vs cancel', () => {
  it('end drains queued frames first; onEnd runs before end is forwarded', async () => {
    const out: Frame[] = [];
    const order: string[] = [];
    class Flusher extends FrameProcessor {
      protected override async onEnd(): Promise<void> {
        await sleep(10);
        order.push('flushed');
        this.pushFrame(text('flush'));
      }
    }
    const task = new PipelineTask([new DelayProcessor('slow', () => 3), new Flusher()], {
      callId: 'end',
      onOutput: (f) => {
        out.push(f);
        if (f.type === 'end') order.push('end-out');
      },
    });
    const done = task.run();
    for (let i = 0; i < 5; i++) task.queueFrame(text(`t${i}`));
    task.end('done');
    expect(await done).toEqual({ kind: 'ended', reason: 'done' });
    expect(texts(out)).toEqual(['t0', 't1', 't2', 't3', 't4', 'flush']);
    expect(order).toEqual(['flushed', 'end-out']);
  });

  it('cancel overtakes queued frames and finishes at once', async () => {
    const out: Frame[] = [];
    const slow = new DelayProcessor('slow', () => 50);
    const task = new PipelineTask([slow], { callId: 'cancel', onOutput: (f) => out.push(f) });
    const done = task.run();
    for (let i = 0; i < 5; i++) task.queueFrame(text(`t${i}`));
    await sleep(5);
    const t0 = performance.now();
    task.cancel('hangup');
    expect(await done).toEqual({ kind: 'cancelled', reason: 'hangup' });
    expect(performance.now() - t0).toBeLessThan(20);
    expect(texts(out)).toEqual([]);
    expect(slow.aborted).toBe(1);
    expect(slow.isStopped).toBe(true);
  });

  it('cancels when a graceful end exceeds its timeout', async () => {
    class Stuck extends FrameProcessor {
      protected override onEnd(): Promise<void> {
        return new Promise(() => {}); // never finishes flushing
      }
    }
    const task = new PipelineTask([new Stuck()], { callId: 'stuck', endTimeoutMs: 30 });
    const done = task.run();
    task.end('bye');
    const outcome = await done;
    expect(outcome.kind).toBe('cancelled');
    expect(outcome.reason).toContain('end timed out');
  });

  it('a processor can ask the task to end from inside the pipeline (upstream task.end)', async () => {
    const out: Frame[] = [];
    class HangsUp extends FrameProcessor {
      protected override processFrame(frame: Frame, direction: Direction): void {
        this.pushFrame(frame, direction);
        if (frame.type === 'llm.text' && frame.text === 'goodbye') {
          this.pushFrame(makeFrame('task.end', { reason: 'agent hung up' }), 'upstream');
        }
      }
    }
    const task = new PipelineTask([new CountingProcessor('a'), new HangsUp()], {
      callId: 'upreq',
      onOutput: (f) => out.push(f),
    });
    const done = task.run();
    task.queueFrame(text('goodbye'));
    expect(await done).toEqual({ kind: 'ended', reason: 'agent hung up' });
    expect(types(out)).toEqual(['start', 'llm.text', 'end']);
  });
});

describe('errors', () => {
  it('reports a processor error with the call id and processor name, and keeps going', async () => {
    const errors: PipelineError[] = [];
    const out: Frame[] = [];
    class Flaky extends FrameProcessor {
      protected override processFrame(frame: Frame, direction: Direction): void {
        if (frame.type === 'llm.text' && frame.text === 'bad') throw new Error('boom');
        this.pushFrame(frame, direction);
      }
    }
    const task = new PipelineTask([new CountingProcessor('before'), new Flaky('flaky')], {
      callId: 'call-42',
      onError: (e) => errors.push(e),
      onOutput: (f) => out.push(f),
    });
    const done = task.run();
    task.queueFrame(text('ok1'));
    task.queueFrame(text('bad'));
    task.queueFrame(text('ok2'));
    task.end();
    expect((await done).kind).toBe('ended');
    expect(texts(out)).toEqual(['ok1', 'ok2']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(PipelineError);
    expect(errors[0]!.callId).toBe('call-42');
    expect(errors[0]!.processor).toBe('flaky');
    expect(errors[0]!.message).toContain('boom');
    expect(errors[0]!.fatal).toBe(false);
  });

  it('a fatal error cancels the pipeline', async () => {
    const errors: PipelineError[] = [];
    class Dies extends FrameProcessor {
      protected override processFrame(frame: Frame, direction: Direction): void {
        if (frame.type === 'llm.text') this.pushError(new Error('provider unreachable'), true);
        else this.pushFrame(frame, direction);
      }
    }
    const task = new PipelineTask([new CountingProcessor('a'), new Dies('stt')], {
      callId: 'fatal',
      onError: (e) => errors.push(e),
    });
    const done = task.run();
    task.queueFrame(text('x'));
    const outcome = await done;
    expect(outcome.kind).toBe('cancelled');
    expect(outcome.reason).toContain('provider unreachable');
    expect(errors.map((e) => e.fatal)).toEqual([true]);
  });

  it('errors raised while flushing on end still reach the task', async () => {
    const errors: PipelineError[] = [];
    class FailsOnEnd extends FrameProcessor {
      protected override onEnd(): void {
        throw new Error('flush failed');
      }
    }
    const task = new PipelineTask([new CountingProcessor('a'), new CountingProcessor('b'), new FailsOnEnd('tts')], {
      callId: 'end-err',
      onError: (e) => errors.push(e),
    });
    const done = task.run();
    task.end();
    expect((await done).kind).toBe('ended');
    expect(errors.map((e) => e.processor)).toEqual(['tts']);
  });
});

describe('resources', () => {
  it('leaves no timers alive after a pipeline ends or is cancelled', async () => {
    class Ticker extends FrameProcessor {
      protected override onStart(): void {
        const tick = () => this.setTimer(tick, 5);
        tick();
        this.setTimer(() => {}, 60_000);
      }
    }
    for (const how of ['end', 'cancel'] as const) {
      const timers = timerTracker();
      const task = new PipelineTask([new Ticker('t1'), new DelayProcessor('d', () => 10), new Ticker('t2')], {
        callId: how,
      });
      const done = task.run();
      task.queueFrame(text('x'));
      await sleep(15);
      expect(timers.live).toBeGreaterThanOrEqual(4); // two tickers, two long timers, the delay
      if (how === 'end') task.end();
      else task.cancel();
      await done;
      await new Promise((resolve) => setImmediate(resolve)); // destroy hooks run after the tick
      timers.stop();
      expect(timers.live).toBe(0);
    }
  });
});

describe('observers', () => {
  it('see every hop of a frame with source, destination and time', async () => {
    const hops: FrameHop[] = [];
    const task = new PipelineTask([new CountingProcessor('a'), new CountingProcessor('b')], {
      callId: 'obs',
      observers: [{ onHop: (h) => hops.push(h) }],
    });
    const done = task.run();
    const frame = text('hi');
    task.queueFrame(frame);
    task.end();
    await done;
    const path = hops.filter((h) => h.frame.id === frame.id).map((h) => `${h.source}->${h.destination}`);
    expect(path).toEqual(['PipelineTask::source->Pipeline', 'a->b', 'b->Pipeline::sink']);
    const times = hops.filter((h) => h.frame.id === frame.id).map((h) => h.atMs);
    expect([...times].sort((x, y) => x - y)).toEqual(times);
  });

  it('frames carry scheduling class and unique ids', () => {
    const a = makeFrame('end', { reason: 'x' }) as FrameOf<'end'>;
    const b = makeFrame('audio.in', { audio: { sampleRate: 8000, channels: 1, pcm: new Int16Array(160) } });
    expect(a.category).toBe('control');
    expect(a.uninterruptible).toBe(true);
    expect(b.category).toBe('system');
    expect(b.id).toBeGreaterThan(a.id);
  });
});
