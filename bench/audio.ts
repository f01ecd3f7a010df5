/**
 * Audio core micro-benchmarks: per-frame cost of the codec, resampler, volume meter and Silero VAD.
 *
 * Each figure is the median of several timed rounds after a warm-up, in µs per unit of audio: wall-clock for
 * the synchronous DSP, process CPU time (all threads, incl. onnxruntime's) for the async VAD rows. Costs for 20 ms
 * frames are what one call leg pays per media packet; VAD windows are 32 ms (256 samples at 8 kHz), so a
 * window's cost × 20/32 is its share per 20 ms of audio.
 */
import { alawDecode, alawEncode, mulawDecode, mulawEncode } from '../src/audio/g711.ts';
import { StreamResampler } from '../src/audio/resampler.ts';
import { SileroBatcher } from '../src/audio/vad/silero-batcher.ts';
import { SILERO_STATE_SIZE, SileroModel, type SileroInference, type SileroSampleRate } from '../src/audio/vad/silero-model.ts';
import { VadAnalyzer } from '../src/audio/vad/vad-analyzer.ts';
import { VolumeMeter } from '../src/audio/volume.ts';
import type { BenchRow, BenchSuite } from './types.ts';

/** Deterministic speech-like test signal: noise plus a few harmonics, around −20 dBFS. */
function testSignal(samples: number, rate: number): Int16Array {
  const x = new Int16Array(samples);
  let seed = 12345;
  for (let i = 0; i < samples; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const noise = (seed / 2 ** 32 - 0.5) * 1500;
    const t = i / rate;
    x[i] = Math.round(
      noise + 1500 * Math.sin(2 * Math.PI * 180 * t) + 900 * Math.sin(2 * Math.PI * 540 * t) + 600 * Math.sin(2 * Math.PI * 1260 * t),
    );
  }
  return x;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** µs per call of a synchronous function: warm-up, then the median of `rounds` rounds of `iterations` calls. */
function timeSync(fn: () => void, iterations: number, rounds = 7): number {
  for (let i = 0; i < iterations; i++) fn();
  const perRound: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    perRound.push(Number(process.hrtime.bigint() - t0) / 1000 / iterations);
  }
  return median(perRound);
}

/** CPU µs per call of an async function awaited call by call (steadier than wall time on a busy box). */
async function cpuAsync(fn: () => Promise<unknown>, iterations: number, rounds = 5): Promise<number> {
  return (await timeAsyncWithCpu(fn, iterations, rounds)).cpu;
}

/** Wall-clock and process CPU µs per call (CPU includes onnxruntime's worker threads). */
async function timeAsyncWithCpu(fn: () => Promise<unknown>, iterations: number, rounds = 5): Promise<{ wall: number; cpu: number }> {
  for (let i = 0; i < Math.max(20, iterations / 4); i++) await fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await fn();
    wall.push(Number(process.hrtime.bigint() - t0) / 1000 / iterations);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / iterations);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

function benchG711(rows: BenchRow[]): void {
  const pcm = testSignal(160, 8000);
  const coded = new Uint8Array(160);
  const decoded = new Int16Array(160);
  let sink = 0;
  rows.push({
    name: 'μ-law decode+encode per 20 ms @ 8 kHz (160 samples)',
    value: round(
      timeSync(() => {
        mulawEncode(pcm, coded);
        sink += mulawDecode(coded, decoded)[7] as number;
      }, 50_000),
      3,
    ),
    unit: 'µs',
  });
  rows.push({
    name: 'A-law decode+encode per 20 ms @ 8 kHz (160 samples)',
    value: round(
      timeSync(() => {
        alawEncode(pcm, coded);
        sink += alawDecode(coded, decoded)[7] as number;
      }, 50_000),
      3,
    ),
    unit: 'µs',
  });
  if (sink === 0.5) console.log(sink); // keep the work observable
}

function benchResampler(rows: BenchRow[]): void {
  for (const [from, to] of [
    [8000, 16000],
    [16000, 8000],
    [8000, 24000],
    [48000, 8000],
  ] as const) {
    const r = new StreamResampler(from, to);
    const input = testSignal(from / 50, from);
    const out = new Int16Array(Math.ceil(input.length * (to / from)) + 2);
    rows.push({
      name: `resample ${from / 1000}→${to / 1000} kHz per 20 ms (${r.tapsPerOutput} taps/output, ${r.latencySamples} samples delay)`,
      value: round(timeSync(() => r.process(input, out), 1_500)),
      unit: 'µs',
    });
  }
}

function benchVolume(rows: BenchRow[]): void {
  const meter = new VolumeMeter(8000);
  const window = Float32Array.from(testSignal(256, 8000), (s) => s / 32768);
  rows.push({
    name: 'volume (K-weighted loudness + smoothing) per 32 ms window @ 8 kHz',
    value: round(
      timeSync(() => meter.measure(window), 50_000),
      3,
    ),
    unit: 'µs',
  });
}

async function benchSilero(rows: BenchRow[]): Promise<void> {
  const model = await SileroModel.load();
  for (const rate of [8000, 16000] as const satisfies readonly SileroSampleRate[]) {
    const rowLength = rate === 8000 ? 288 : 576;
    const pcm = testSignal(rowLength, rate);
    const input = Float32Array.from(pcm, (s) => s / 32768);
    const state = new Float32Array(SILERO_STATE_SIZE);
    const perWindow = await cpuAsync(() => model.infer(input, state, rate), 600);
    rows.push({ name: `Silero VAD step (CPU): one 32 ms window @ ${rate / 1000} kHz, batch 1`, value: round(perWindow, 1), unit: 'µs' });
    if (rate === 8000) {
      rows.push({
        name: 'Silero VAD step (CPU) @ 8 kHz, share per 20 ms of audio (window cost × 20/32)',
        value: round((perWindow * 20) / 32, 1),
        unit: 'µs',
      });
    }
  }
  // Many streams in one inference: cost per stream window.
  for (const batch of [1, 8, 32, 64]) {
    const inputs = new Float32Array(batch * 288);
    const base = testSignal(288, 8000);
    for (let b = 0; b < batch; b++) for (let i = 0; i < 288; i++) inputs[b * 288 + i] = (base[(i + 7 * b) % 288] as number) / 32768;
    const states = new Float32Array(batch * SILERO_STATE_SIZE);
    const perBatch = await cpuAsync(() => model.runBatch(inputs, states, batch, 8000), Math.max(50, Math.round(2_000 / batch)));
    rows.push({
      name: `Silero VAD (CPU) @ 8 kHz, batch ${batch}: per-stream cost of one 32 ms window`,
      value: round(perBatch / batch, 1),
      unit: 'µs',
    });
  }
}

async function benchAnalyzer(rows: BenchRow[]): Promise<void> {
  // Whole per-call path: framing, volume, gate, inference, state machine, fed 20 ms frames.
  for (const [label, signal] of [
    ['speech-like audio', testSignal(8000 * 4, 8000)],
    ['digital silence (energy gate skips inference)', new Int16Array(8000 * 4)],
  ] as const) {
    const analyzer = await VadAnalyzer.create({ sampleRate: 8000 });
    let offset = 0;
    const frame = (): Promise<unknown> => {
      if (offset + 160 > signal.length) offset = 0;
      const chunk = signal.subarray(offset, offset + 160);
      offset += 160;
      return analyzer.process(chunk);
    };
    rows.push({
      name: `VadAnalyzer.process (CPU) per 20 ms frame @ 8 kHz, ${label}`,
      value: round(await cpuAsync(frame, 2_000), 1),
      unit: 'µs',
    });
  }
}

/** 32 concurrent call legs, each fed one 20 ms frame per tick: per-stream cost with and without the batcher. */
async function benchManyStreams(rows: BenchRow[]): Promise<void> {
  const streams = 32;
  const signal = testSignal(8000 * 4, 8000);
  const model = await SileroModel.load();
  for (const [label, inference] of [
    ['separate inferences', model],
    ['SileroBatcher', new SileroBatcher(model)],
  ] as const satisfies ReadonlyArray<readonly [string, SileroInference]>) {
    const analyzers = Array.from({ length: streams }, () => new VadAnalyzer(inference, { sampleRate: 8000 }));
    let offset = 0;
    const tick = (): Promise<unknown> => {
      if (offset + 160 * streams > signal.length) offset = 0;
      const at = offset;
      offset += 160;
      // Streams are offset in time so they do not see identical audio.
      return Promise.all(analyzers.map((a, i) => a.process(signal.subarray(at + i * 160, at + i * 160 + 160))));
    };
    const perTick = await timeAsyncWithCpu(tick, 100);
    rows.push({
      name: `VadAnalyzer, ${streams} concurrent streams (${label}): per-stream wall time per 20 ms frame`,
      value: round(perTick.wall / streams, 1),
      unit: 'µs',
    });
    rows.push({
      name: `VadAnalyzer, ${streams} concurrent streams (${label}): per-stream CPU time per 20 ms frame`,
      value: round(perTick.cpu / streams, 1),
      unit: 'µs',
    });
  }
}

export const benchAudio: BenchSuite = async () => {
  const rows: BenchRow[] = [];
  benchG711(rows);
  benchResampler(rows);
  benchVolume(rows);
  await benchSilero(rows);
  await benchAnalyzer(rows);
  await benchManyStreams(rows);
  return rows;
};
