import { describe, expect, it } from 'vitest';
import type { Direction, Frame, FrameOf } from '../../src/pipeline/index.ts';
import { FrameProcessor, Pipeline, PipelineTask, makeFrame } from '../../src/pipeline/index.ts';
import { CountingProcessor, DelayProcessor, sleep, texts, types } from './helpers.ts';

function text(t: string) {
  return makeFrame('llm.text', { text: t });
}

function audio() {
  return makeFrame('tts.audio', { audio: { sampleRate: 8000, channels: 1, mulaw: new Uint8Array(160) }, utteranceId: 'u1' });
}

function countAudio(frames: Frame[]): number {
  return frames.filter((f) => f.type === 'tts.audio').length;
}

describe('frame ordering', () => {
  it('keeps data frames in order through sync and async processors with jittery delays', async () => {
    const out: Frame[] = [];
    const processors = Array.from({ length: 10 }, (_, i) =>
      i % 3 === 0 ? new DelayProcessor(`p${i}`, () => Math.floor(Math.random() * 3)) : new CountingProcessor(`p${i}`),
    );
    const task = new PipelineTask(processors, { callId: 'order', onOutput: (f) => out.push(f) });
    const done = task.run();
    const sent = Array.from({ length: 200 }, (_, i) => `t${i}`);
    for (const t of sent) task.queueFrame(text(t));
    task.end();
    expect(await done).toEqual({ kind: 'ended', reason: 'end' });
    expect(texts(out)).toEqual(sent);
    expect(types(out).at(-1)).toBe('end');
  });

  it('lets system frames overtake data queued behind a busy processor', async () => {
    const out: Frame[] = [];
    const slow = new DelayProcessor('slow', (f) => (f.type === 'llm.text' ? 30 : 0));
    const task = new PipelineTask([slow, new CountingProcessor('after')], {
      callId: 'overtake',
      onOutput: (f) => out.push(f),
    });
    const done = task.run();
    task.queueFrame(text('a'));
    task.queueFrame(text('b'));
    task.queueFrame(makeFrame('dtmf.in', { digit: '5' }));
    await sleep(5);
    // 'a' is still being processed; the DTMF frame must already be through.
    expect(types(out)).toEqual(['start', 'dtmf.in']);
    task.end();
    await done;
    expect(types(out)).toEqual(['start', 'dtmf.in', 'llm.text', 'llm.text', 'end']);
  });

  it('runs synchronous processors without touching the event loop', () => {
    const out: Frame[] = [];
    const task = new PipelineTask([new CountingProcessor('a'), new CountingProcessor('b')], {
      callId: 'sync',
      onOutput: (f) => out.push(f),
    });
    void task.run();
    task.queueFrame(text('x'));
    // No await: the frame is already out.
    expect(texts(out)).toEqual(['x']);
    task.cancel();
  });

  it('holds data frames until the processor has started', async () => {
    let release!: () => void;
    class SlowStart extends FrameProcessor {
      protected override onStart(): Promise<void> {
        return new Promise((resolve) => (release = resolve));
      }
    }
    const out: Frame[] = [];
    const task = new PipelineTask([new SlowStart()], { callId: 'start', onOutput: (f) => out.push(f) });
    const done = task.run();
    task.queueFrame(text('early'));
    await sleep(5);
    expect(out).toEqual([]);
    release();
    await sleep(1);
    expect(types(out)).toEqual(['start', 'llm.text']);
    task.end();
    await done;
  });

  it('nests pipelines and carries upstream frames back out', async () => {
    const up: Frame[] = [];
    class Echo extends FrameProcessor {
      protected override processFrame(frame: Frame, direction: Direction): void {
        if (frame.type === 'llm.text') this.pushFrame(makeFrame('transport.message', { message: frame.text }), 'upstream');
        this.pushFrame(frame, direction);
      }
    }
    class Tap extends FrameProcessor {
      protected override processFrame(frame: Frame, direction: Direction): void {
        if (direction === 'upstream') up.push(frame);
        this.pushFrame(frame, direction);
      }
    }
    const out: Frame[] = [];
    const inner = new Pipeline([new CountingProcessor('i1'), new Echo('echo')], 'inner');
    const task = new PipelineTask([new Tap('tap'), inner, new CountingProcessor('o')], {
      callId: 'nest',
      onOutput: (f) => out.push(f),
    });
    const done = task.run();
    task.queueFrame(text('hello'));
    task.end();
    await done;
    expect(texts(out)).toEqual(['hello']);
    expect(up.map((f) => (f as FrameOf<'transport.message'>).message)).toEqual(['hello']);
  });
});

describe('interruption', () => {
  it('drops queued audio, aborts in-flight work, overtakes the busy processor and reaches every processor', async () => {
    const out: Frame[] = [];
    const interruptionsSeen: string[] = [];
    class Watcher extends FrameProcessor {
      protected override onInterruption(): void {
        interruptionsSeen.push(this.name);
      }
    }
    const slow = new DelayProcessor('tts', (f) => (f.type === 'tts.audio' ? 20 : 0));
    const task = new PipelineTask([new Watcher('w1'), slow, new Watcher('w2')], {
      callId: 'interrupt',
      onOutput: (f) => out.push(f),
    });
    const done = task.run();
    for (let i = 0; i < 10; i++) task.queueFrame(audio());
    await sleep(30); // first frame out, second in flight, eight queued
    const before = countAudio(out);
    task.queueFrame(makeFrame('interruption', { reason: 'barge-in' }));
    // The interruption overtakes the busy processor and is out at once.
    expect(types(out).at(-1)).toBe('interruption');
    expect(interruptionsSeen).toEqual(['w1', 'w2']);
    expect(slow.aborted).toBe(1);
    task.queueFrame(text('after'));
    task.end('bye');
    expect(await done).toEqual({ kind: 'ended', reason: 'bye' });
    expect(before).toBeGreaterThanOrEqual(1);
    expect(countAudio(out)).toBe(before); // nothing queued before the interruption came out after it
    expect(types(out).slice(-3)).toEqual(['interruption', 'llm.text', 'end']);
  });

  it('keeps a queued end when an interruption arrives mid-pipeline', async () => {
    const out: Frame[] = [];
    const slow = new DelayProcessor('tts', (f) => (f.type === 'tts.audio' ? 20 : 0));
    const task = new PipelineTask([new CountingProcessor('agent'), slow, new CountingProcessor('output')], {
      callId: 'interrupt-end',
      onOutput: (f) => out.push(f),
    });
    const done = task.run();
    for (let i = 0; i < 10; i++) task.queueFrame(audio());
    task.end('goodbye said');
    await sleep(30);
    const before = countAudio(out);
    // A barge-in decided inside the pipeline (as the turn processor does) reaches the busy TTS stage.
    slow.queueFrame(makeFrame('interruption', { reason: 'barge-in' }), 'downstream');
    expect(await done).toEqual({ kind: 'ended', reason: 'goodbye said' });
    expect(countAudio(out)).toBe(before);
    expect(types(out).slice(-2)).toEqual(['interruption', 'end']);
  });

  it('issues a fresh abort signal after an interruption so later work runs', async () => {
    const out: Frame[] = [];
    const slow = new DelayProcessor('slow', (f) => (f.type === 'llm.text' ? 5 : 0));
    const task = new PipelineTask([slow], { callId: 'fresh', onOutput: (f) => out.push(f) });
    const done = task.run();
    task.queueFrame(text('old'));
    await sleep(1);
    task.queueFrame(makeFrame('interruption', { reason: 'x' }));
    task.queueFrame(text('new'));
    task.end();
    await done;
    expect(texts(out)).toEqual(['new']);
  });
});
