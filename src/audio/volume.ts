/**
 * Loudness-based volume measure for the VAD's `minVolume` gate, following Pipecat's definition so the same
 * thresholds mean the same thing:
 *
 *   1. K-weight the block (ITU-R BS.1770: +4 dB high shelf at 1.5 kHz, Q 1/√2, then a 38 Hz high-pass, Q 0.5;
 *      biquads designed for the actual sample rate, as pyloudnorm does).
 *   2. loudness = -0.691 + 10·log10(mean square), computed on **16-bit sample values** (Pipecat feeds int16
 *      values to pyloudnorm unscaled), i.e. loudness = LUFS re full scale + 90.31.
 *   3. volume = clamp((loudness + 20) / 100, 0, 1).
 *   4. smoothed = previous + 0.2 · (volume − previous), once per block (one VAD window, 32 ms).
 *
 * So volume 0.6 (the default `minVolume`) ≈ −50 LUFS re full scale: ordinary telephone speech (−20 … −35 dBFS)
 * reads 0.75–0.9, line noise (< −55 dBFS) stays below 0.55, digital silence reads 0.
 *
 * Differences from Pipecat, on purpose: the filter state carries across blocks (pyloudnorm restarts it every
 * block, which adds a start-up transient), and a block quieter than the BS.1770 absolute gate simply reads 0.
 * At 8 kHz the shelf at 1.5 kHz is well below Nyquist, so the weighting stays meaningful for telephone audio.
 */

/** A biquad section (RBJ cookbook form), a0-normalised. */
interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

function highShelf(sampleRate: number, gainDb: number, q: number, freq: number): Biquad {
  const a = 10 ** (gainDb / 40);
  const w0 = (2 * Math.PI * freq) / sampleRate;
  const cos = Math.cos(w0);
  const alpha = Math.sin(w0) / (2 * q);
  const sqrtA2alpha = 2 * Math.sqrt(a) * alpha;
  const a0 = a + 1 - (a - 1) * cos + sqrtA2alpha;
  return {
    b0: (a * (a + 1 + (a - 1) * cos + sqrtA2alpha)) / a0,
    b1: (-2 * a * (a - 1 + (a + 1) * cos)) / a0,
    b2: (a * (a + 1 + (a - 1) * cos - sqrtA2alpha)) / a0,
    a1: (2 * (a - 1 - (a + 1) * cos)) / a0,
    a2: (a + 1 - (a - 1) * cos - sqrtA2alpha) / a0,
  };
}

function highPass(sampleRate: number, q: number, freq: number): Biquad {
  const w0 = (2 * Math.PI * freq) / sampleRate;
  const cos = Math.cos(w0);
  const alpha = Math.sin(w0) / (2 * q);
  const a0 = 1 + alpha;
  return {
    b0: (1 + cos) / 2 / a0,
    b1: -(1 + cos) / a0,
    b2: (1 + cos) / 2 / a0,
    a1: (-2 * cos) / a0,
    a2: (1 - alpha) / a0,
  };
}

/** Loudness (in Pipecat's int16 units) mapped to the 0…1 volume scale. */
export function loudnessToVolume(loudness: number): number {
  const v = (loudness + 20) / 100;
  return v > 1 ? 1 : v > 0 ? v : 0;
}

/** BS.1770 absolute gate (−70 LUFS re full scale) expressed as a mean square of ±1-scaled samples. */
const ABSOLUTE_GATE_MEAN_SQUARE = 10 ** ((-70 + 0.691) / 10);

export interface VolumeMeterOptions {
  /** Exponential smoothing factor applied per measured block. @default 0.2 (Pipecat) */
  smoothing?: number;
}

/**
 * Per-stream volume meter. Call {@link measure} once per block (the VAD calls it once per window); it returns
 * the smoothed volume and keeps the raw value of the last block in {@link lastVolume}. Allocation-free.
 */
export class VolumeMeter {
  readonly sampleRate: number;
  smoothing: number;
  /** Smoothed volume after the last block (0…1). */
  smoothed = 0;
  /** Unsmoothed volume of the last block (0…1). */
  lastVolume = 0;

  private readonly shelf: Biquad;
  private readonly hp: Biquad;
  // Transposed direct form II state of each section.
  private s1 = 0;
  private s2 = 0;
  private h1 = 0;
  private h2 = 0;

  constructor(sampleRate: number, opts: VolumeMeterOptions = {}) {
    if (!(sampleRate >= 4000)) throw new RangeError(`VolumeMeter: sample rate ${sampleRate} too low for K-weighting`);
    this.sampleRate = sampleRate;
    this.smoothing = opts.smoothing ?? 0.2;
    this.shelf = highShelf(sampleRate, 4.0, 1 / Math.SQRT2, 1500);
    this.hp = highPass(sampleRate, 0.5, 38);
  }

  /**
   * Measures one block of samples scaled to ±1 (`samples[start, end)`), updates the smoothed volume and returns
   * it.
   */
  measure(samples: Float32Array, start = 0, end = samples.length): number {
    const { b0, b1, b2, a1, a2 } = this.shelf;
    const hp = this.hp;
    let s1 = this.s1;
    let s2 = this.s2;
    let h1 = this.h1;
    let h2 = this.h2;
    let sumSquares = 0;
    for (let i = start; i < end; i++) {
      const x = samples[i] as number;
      const y = b0 * x + s1;
      s1 = b1 * x - a1 * y + s2;
      s2 = b2 * x - a2 * y;
      const z = hp.b0 * y + h1;
      h1 = hp.b1 * y - hp.a1 * z + h2;
      h2 = hp.b2 * y - hp.a2 * z;
      sumSquares += z * z;
    }
    // Flush denormals / decayed state so long silences stay cheap and exactly silent.
    this.s1 = Math.abs(s1) < 1e-20 ? 0 : s1;
    this.s2 = Math.abs(s2) < 1e-20 ? 0 : s2;
    this.h1 = Math.abs(h1) < 1e-20 ? 0 : h1;
    this.h2 = Math.abs(h2) < 1e-20 ? 0 : h2;
    const n = end - start;
    const meanSquare = n > 0 ? sumSquares / n : 0;
    // Loudness re full scale + 20·log10(32768) gives Pipecat's int16-unit loudness.
    this.lastVolume = meanSquare < ABSOLUTE_GATE_MEAN_SQUARE ? 0 : loudnessToVolume(-0.691 + 10 * Math.log10(meanSquare) + 90.309);
    this.smoothed += this.smoothing * (this.lastVolume - this.smoothed);
    return this.smoothed;
  }

  /** Clears filter state and smoothing (e.g. when a stream restarts). */
  reset(): void {
    this.s1 = this.s2 = this.h1 = this.h2 = 0;
    this.smoothed = 0;
    this.lastVolume = 0;
  }
}
