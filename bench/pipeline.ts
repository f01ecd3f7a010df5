/**
 * Pipeline engine throughput: frames per second through a 10-processor pipeline of pass-through stages,
 * for data frames (queued path), system frames (the path caller audio takes) and with an observer attached.
 */
import type { Direction, Frame, FrameObserver } from '../src/pipeline/index.ts';
import { FrameProcessor, PipelineTask, makeFrame } from '../src/pipeline/index.ts';
import type { BenchRow, BenchSuite } from './types.ts';

class PassThrough extends FrameProcessor {
  protected override processFrame(frame: Frame, direction: Direction): void {
    this.pushFrame(frame, direction);
  }
}

async function framesPerSecond(kind: 'data' | 'system', observers: FrameObserver[], frames: number): Promise<number> {
  let out = 0;
  const task = new PipelineTask(
    Array.from({ length: 10 }, (_, i) => new PassThrough(`p${i}`)),
    { callId: 'bench', observers, onOutput: () => out++ },
  );
  void task.run();
  const audio = { sampleRate: 8000, channels: 1, mulaw: new Uint8Array(160) };
  const make = kind === 'data' ? () => makeFrame('llm.text', { text: 'x' }) : () => makeFrame('audio.in', { audio });
  for (let i = 0; i < 10_000; i++) task.queueFrame(make()); // warm-up
  const before = out;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < frames; i++) task.queueFrame(make());
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const delivered = out - before;
  task.cancel();
  await task.done;
  if (delivered !== frames) throw new Error(`lost frames: ${frames - delivered}`);
  return frames / seconds;
}

export const benchPipeline: BenchSuite = async () => {
  const rows: BenchRow[] = [];
  const median = async (fn: () => Promise<number>) => {
    const runs = [await fn(), await fn(), await fn()].sort((a, b) => a - b);
    return Math.round(runs[1] as number);
  };
  rows.push({
    name: 'pipeline: data frames through 10 processors',
    value: await median(() => framesPerSecond('data', [], 300_000)),
    unit: 'frames/s',
  });
  rows.push({
    name: 'pipeline: audio (system) frames through 10 processors',
    value: await median(() => framesPerSecond('system', [], 300_000)),
    unit: 'frames/s',
  });
  let hops = 0;
  const observer: FrameObserver = { onHop: () => hops++ };
  rows.push({
    name: 'pipeline: audio frames through 10 processors, 1 observer',
    value: await median(() => framesPerSecond('system', [observer], 200_000)),
    unit: 'frames/s',
  });
  void hops;
  return rows;
};
