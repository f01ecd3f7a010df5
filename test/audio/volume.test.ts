import { afterAll, describe, expect, it } from 'vitest';
import { VolumeMeter, loudnessToVolume } from '../../src/audio/volume.ts';
import { FixtureDir, espeakWav, nonSilentExtent, readSamples } from './fixtures.ts';

const dir = new FixtureDir();
afterAll(() => dir.remove());

function sine(rate: number, freq: number, dbfs: number, n: number): Float32Array {
  const a = 10 ** (dbfs / 20);
  return Float32Array.from({ length: n }, (_, i) => a * Math.sin((2 * Math.PI * freq * i) / rate));
}

/** Steady-state volume: feeds 32 ms blocks until the filters and smoothing have settled. */
function settled(rate: number, signal: Float32Array): number {
  const meter = new VolumeMeter(rate);
  const block = Math.round(rate * 0.032);
  for (let i = 0; i + block <= signal.length; i += block) meter.measure(signal, i, i + block);
  return meter.lastVolume;
}

describe('VolumeMeter', () => {
  it('reads a 1 kHz tone like BS.1770 says (full-scale sine = −3.01 LUFS), at 8 and 16 kHz', () => {
    // −20 dBFS sine → −23.01 LUFS → +90.31 (int16 units) = 67.3 → (67.3 + 20) / 100 = 0.873.
    for (const rate of [8000, 16000]) {
      expect(settled(rate, sine(rate, 1000, -20, rate))).toBeCloseTo(0.873, 2);
    }
    // 10 dB quieter is 0.1 lower on the scale.
    expect(settled(8000, sine(8000, 1000, -30, 8000))).toBeCloseTo(0.773, 2);
  });

  it('reads digital silence as 0, and clamps to [0, 1]', () => {
    expect(settled(8000, new Float32Array(4000))).toBe(0);
    expect(settled(8000, sine(8000, 1000, -120, 4000))).toBe(0);
    expect(loudnessToVolume(200)).toBe(1);
    expect(loudnessToVolume(-50)).toBe(0);
  });

  it('smooths with factor 0.2 per block', () => {
    const meter = new VolumeMeter(8000);
    const loud = sine(8000, 1000, -20, 256);
    const first = meter.measure(loud);
    const raw = meter.lastVolume;
    expect(first).toBeCloseTo(0.2 * raw, 6);
    const second = meter.measure(loud);
    expect(second).toBeCloseTo(first + 0.2 * (meter.lastVolume - first), 6);
    meter.reset();
    expect(meter.smoothed).toBe(0);
  });

  it('puts 8 kHz telephone speech above the default minVolume (0.6) and line noise below it', () => {
    const speech = readSamples(espeakWav(dir, 'Hello, I am calling about my bill.', 8000));
    const [a, b] = nonSilentExtent(speech);
    const meter = new VolumeMeter(8000);
    const x = Float32Array.from(speech.subarray(a, b + 1), (s) => s / 32768);
    let loudest = 0;
    let sum = 0;
    let blocks = 0;
    for (let i = 0; i + 256 <= x.length; i += 256) {
      loudest = Math.max(loudest, meter.measure(x, i, i + 256));
      sum += meter.lastVolume;
      blocks++;
    }
    expect(loudest).toBeGreaterThan(0.75);
    expect(sum / blocks).toBeGreaterThan(0.6);

    let seed = 7;
    const noise = Float32Array.from({ length: 8000 }, () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return (seed / 2 ** 32 - 0.5) * 2 * 10 ** (-60 / 20); // uniform, peak −60 dBFS
    });
    expect(settled(8000, noise)).toBeLessThan(0.55);
  });
});
