import { describe, expect, it } from 'vitest';
import { StreamResampler } from '../../src/audio/resampler.ts';

const RATES = [8000, 16000, 24000, 48000];
const PAIRS = RATES.flatMap((a) => RATES.filter((b) => b !== a).map((b) => [a, b] as const));

function tone(rate: number, freq: number, seconds: number, amplitude = 16000): Int16Array {
  const n = Math.round(rate * seconds);
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
  return x;
}

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function oneShot(r: StreamResampler, x: Int16Array): Int16Array {
  return concat([r.process(x), r.flush()]);
}

/** SNR (dB) of `y` against an ideal sine delayed by `delaySecs`, over the middle of the signal. */
function snrAgainstSine(y: Int16Array, rate: number, freq: number, amplitude: number, delaySecs: number): number {
  let signal = 0;
  let noise = 0;
  const margin = Math.round(rate * 0.1); // skip filter start-up and tail
  for (let i = margin; i < y.length - margin; i++) {
    const ref = amplitude * Math.sin(2 * Math.PI * freq * (i / rate - delaySecs));
    signal += ref * ref;
    noise += ((y[i] as number) - ref) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}

/** Deterministic pseudo-random generator (tests must not be flaky). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('StreamResampler', () => {
  it('1 kHz tone survives 8 → 16 → 8 kHz with SNR ≥ 40 dB (aligned for the filter delay)', () => {
    const x = tone(8000, 1000, 1);
    const up = new StreamResampler(8000, 16000);
    const down = new StreamResampler(16000, 8000);
    const y = oneShot(down, oneShot(up, x));
    const delay = up.latencySamples / 16000 + down.latencySamples / 8000;
    const snr = snrAgainstSine(y, 8000, 1000, 16000, delay);
    expect(snr).toBeGreaterThanOrEqual(40);
    // The tone is also where the latency says it is: a one-sample misalignment would cost far more than 40 dB.
    expect(snrAgainstSine(y, 8000, 1000, 16000, delay + 1 / 8000)).toBeLessThan(20);
  });

  for (const [from, to] of PAIRS) {
    it(`${from} → ${to}: a 1 kHz tone comes out as a 1 kHz tone at the new rate (SNR ≥ 40 dB), right length`, () => {
      const r = new StreamResampler(from, to);
      const x = tone(from, 1000, 0.5);
      const y = oneShot(r, x);
      expect(y.length).toBe(Math.ceil((x.length * to) / from) + r.latencySamples);
      expect(snrAgainstSine(y, to, 1000, 16000, r.latencySamples / to)).toBeGreaterThanOrEqual(40);
    });

    it(`${from} → ${to}: random chunking (incl. 1- and 160-sample chunks) gives exactly the one-shot output`, () => {
      const rnd = lcg(from + to);
      const x = new Int16Array(Math.round(from * 0.3));
      for (let i = 0; i < x.length; i++) x[i] = Math.round((rnd() * 2 - 1) * 12000 + 8000 * Math.sin(i / 7));
      const reference = oneShot(new StreamResampler(from, to), x);
      const r = new StreamResampler(from, to);
      const parts: Int16Array[] = [];
      const sizes = [1, 160, 1, 1, 0, 160, 3];
      for (let i = 0, k = 0; i < x.length; k++) {
        const n = k < sizes.length ? (sizes[k] as number) : 1 + Math.floor(rnd() * 400);
        parts.push(r.process(x.subarray(i, i + n)));
        i += n;
      }
      parts.push(r.flush());
      expect(Array.from(concat(parts))).toEqual(Array.from(reference));
    });
  }

  it('removes content above the new Nyquist frequency when downsampling (no aliasing)', () => {
    for (const [from, freq] of [
      [48000, 6000],
      [16000, 5000],
      [24000, 4400],
    ] as const) {
      const r = new StreamResampler(from, 8000);
      const y = oneShot(r, tone(from, freq, 0.5));
      let energy = 0;
      for (let i = 800; i < y.length - 800; i++) energy += (y[i] as number) ** 2;
      const rms = Math.sqrt(energy / (y.length - 1600));
      expect(20 * Math.log10(rms / (16000 / Math.SQRT2)), `${from} Hz, ${freq} Hz tone`).toBeLessThan(-60);
    }
  });

  it('keeps the telephone band flat: 300 Hz and 3.3 kHz pass 8 → 16 kHz within 0.5 dB', () => {
    for (const freq of [300, 3300]) {
      const r = new StreamResampler(8000, 16000);
      const y = oneShot(r, tone(8000, freq, 0.5));
      let energy = 0;
      for (let i = 1600; i < y.length - 1600; i++) energy += (y[i] as number) ** 2;
      const gainDb = 20 * Math.log10(Math.sqrt(energy / (y.length - 3200)) / (16000 / Math.SQRT2));
      expect(Math.abs(gainDb), `${freq} Hz`).toBeLessThan(0.5);
    }
  });

  it('Float32 entry points match the Int16 ones', () => {
    const x = tone(8000, 440, 0.2);
    const viaInt = oneShot(new StreamResampler(8000, 24000), x);
    const f = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) f[i] = (x[i] as number) / 32768;
    const r = new StreamResampler(8000, 24000);
    const parts = [r.processFloat32(f.subarray(0, 333)), r.processFloat32(f.subarray(333)), r.flushFloat32()];
    const viaFloat = parts.flatMap((p) => Array.from(p, (v) => Math.round(v * 32768) + 0)); // + 0 turns -0 into 0
    expect(viaFloat).toEqual(Array.from(viaInt));
  });

  it('writes into a caller buffer, and reset() starts over as if new', () => {
    const x = tone(16000, 700, 0.05);
    const r = new StreamResampler(16000, 8000);
    const out = new Int16Array(1000);
    const first = r.process(x, out);
    expect(first.buffer).toBe(out.buffer);
    const firstCopy = Array.from(first);
    r.process(tone(16000, 1234, 0.05));
    r.reset();
    expect(Array.from(r.process(x))).toEqual(firstCopy);
    expect(() => r.process(x, new Int16Array(10))).toThrow(/too small/);
  });

  it('passes audio through unchanged when both rates are equal', () => {
    const x = tone(16000, 5000, 0.1); // above the telephone band: a real filter would touch it
    const r = new StreamResampler(16000, 16000);
    expect(r.latencySamples).toBe(0);
    expect(Array.from(oneShot(r, x))).toEqual(Array.from(x));
  });

  it('flush() on an unused resampler returns nothing', () => {
    expect(new StreamResampler(8000, 16000).flush()).toHaveLength(0);
  });

  it('rejects unusable rates with a clear error', () => {
    expect(() => new StreamResampler(0, 8000)).toThrow(/fromRate/);
    expect(() => new StreamResampler(8000, 12345.5)).toThrow(/toRate/);
    expect(() => new StreamResampler(7919, 8000)).toThrow(/phases/);
  });
});
