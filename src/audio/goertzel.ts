/**
 * Goertzel: the power of one frequency in a block of samples, without a full FFT. A bank of them finds pure
 * tones (voicemail beeps, DTMF) for a few multiply-adds per sample and frequency.
 *
 * Power is normalised so that a full-scale sine exactly at the frequency reads 1 over any block length, and
 * {@link toneRatio} compares it with the block's energy: ≈ 1 for a pure tone, small for speech or noise.
 */

/** Coefficients of one frequency at one sample rate. */
export interface GoertzelBin {
  frequency: number;
  coefficient: number;
  cos: number;
  sin: number;
}

export function goertzelBin(frequency: number, sampleRate: number): GoertzelBin {
  const w = (2 * Math.PI * frequency) / sampleRate;
  return { frequency, coefficient: 2 * Math.cos(w), cos: Math.cos(w), sin: Math.sin(w) };
}

/**
 * Power of `bin`'s frequency in `samples[from, to)` (16-bit PCM values): |X(f)|² scaled so a full-scale sine
 * at f reads 1 (an amplitude-A sine reads (A/32768)²).
 */
export function goertzelPower(samples: ArrayLike<number>, bin: GoertzelBin, from = 0, to = samples.length): number {
  let s1 = 0;
  let s2 = 0;
  const c = bin.coefficient;
  for (let i = from; i < to; i++) {
    const s0 = (samples[i] as number) + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const real = s1 - s2 * bin.cos;
  const imag = s2 * bin.sin;
  const n = to - from;
  if (n <= 0) return 0;
  const scale = 2 / (n * 32768);
  return (real * real + imag * imag) * scale * scale;
}

/** Mean square of `samples[from, to)` on the same scale as {@link goertzelPower} (a full-scale sine reads 1). */
export function blockPower(samples: ArrayLike<number>, from = 0, to = samples.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) {
    const s = (samples[i] as number) / 32768;
    sum += s * s;
  }
  const n = to - from;
  return n > 0 ? (2 * sum) / n : 0;
}

/** Share of a block's energy at one frequency: ≈ 1 for a pure tone there, near 0 for broadband sound. */
export function toneRatio(tonePower: number, totalPower: number): number {
  return totalPower > 0 ? Math.min(1, tonePower / totalPower) : 0;
}
