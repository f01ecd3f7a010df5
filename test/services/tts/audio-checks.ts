/** Measurements tests use to tell speech from silence or noise. */
import { mulawDecode } from '../../../src/audio/g711.ts';
import type { AudioPayload } from '../../../src/pipeline/audio-payload.ts';

/** Root-mean-square level of 16-bit samples (full scale 32768). */
export function rms(pcm: Int16Array): number {
  if (pcm.length === 0) return 0;
  let sum = 0;
  for (const v of pcm) sum += v * v;
  return Math.sqrt(sum / pcm.length);
}

/** Samples of a payload as 16-bit PCM. */
export function samplesOf(audio: AudioPayload): Int16Array {
  if (audio.pcm) return audio.pcm;
  return mulawDecode(audio.mulaw ?? new Uint8Array(0));
}

/** Concatenates sample arrays. */
export function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Fraction of 20 ms frames that are loud (speech-like level) — speech has many, silence none, and a tone
 * or noise burst all or nothing.
 */
export function voicedFraction(pcm: Int16Array, sampleRate: number, threshold = 500): number {
  const frame = Math.round(sampleRate * 0.02);
  let loud = 0;
  let frames = 0;
  for (let i = 0; i + frame <= pcm.length; i += frame) {
    frames++;
    if (rms(pcm.subarray(i, i + frame)) > threshold) loud++;
  }
  return frames === 0 ? 0 : loud / frames;
}

/** Median fundamental frequency (Hz) over loud 40 ms frames, by autocorrelation in 60–400 Hz. */
export function medianPitchHz(pcm: Int16Array, sampleRate: number): number {
  const frame = Math.round(sampleRate * 0.04);
  const minLag = Math.floor(sampleRate / 400);
  const maxLag = Math.ceil(sampleRate / 60);
  const pitches: number[] = [];
  for (let i = 0; i + frame + maxLag <= pcm.length; i += frame) {
    const window = pcm.subarray(i, i + frame + maxLag);
    if (rms(window.subarray(0, frame)) < 1000) continue;
    let energy = 0;
    for (let k = 0; k < frame; k++) energy += (window[k] as number) ** 2;
    let best = 0;
    let bestLag = 0;
    for (let lag = minLag; lag <= maxLag; lag++) {
      let sum = 0;
      for (let k = 0; k < frame; k++) sum += (window[k] as number) * (window[k + lag] as number);
      if (sum > best) {
        best = sum;
        bestLag = lag;
      }
    }
    if (bestLag > 0 && best > 0.3 * energy) pitches.push(sampleRate / bestLag);
  }
  pitches.sort((a, b) => a - b);
  return pitches[pitches.length >> 1] ?? 0;
}
