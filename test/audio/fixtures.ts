/**
 * Test audio made on the fly with espeak-ng (speech) and sox (conversion, silence, noise), in a temp dir.
 * Both tools are installed on the dev box and in CI (apt).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWav, writeWav } from '../../src/audio/wav.ts';

export class FixtureDir {
  readonly path = mkdtempSync(join(tmpdir(), 'switchboard-audio-'));
  private n = 0;

  file(name: string): string {
    return join(this.path, `${this.n++}-${name}`);
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Speaks `text` with espeak-ng and converts it with sox to mono 16-bit at `rate`; returns the WAV path. */
export function espeakWav(dir: FixtureDir, text: string, rate: number): string {
  const raw = dir.file('espeak.wav');
  run('espeak-ng', ['-w', raw, text]);
  const out = dir.file(`speech-${rate}.wav`);
  run('sox', [raw, '-r', String(rate), '-b', '16', '-c', '1', out]);
  return out;
}

export function readSamples(path: string): Int16Array {
  return readWav(new Uint8Array(readFileSync(path))).samples;
}

/** Index range [first, last] of samples whose magnitude exceeds `threshold` (≈ −50 dBFS by default). */
export function nonSilentExtent(samples: Int16Array, threshold = 100): [number, number] {
  let a = 0;
  let b = samples.length - 1;
  while (a < samples.length && Math.abs(samples[a] as number) <= threshold) a++;
  while (b > a && Math.abs(samples[b] as number) <= threshold) b--;
  return [a, b];
}

export interface UtteranceFile {
  path: string;
  samples: Int16Array;
  /** True [start, end) of each utterance in seconds: the non-silent extent of each clip where it was placed. */
  truth: Array<{ start: number; end: number }>;
}

/**
 * Places espeak utterances (trimmed to their non-silent extent) after `leadSecs` of silence, separated by the
 * given silent gaps, followed by `tailSecs` of silence, and writes the result as a WAV at `rate`.
 */
export function utteranceFile(
  dir: FixtureDir,
  rate: number,
  texts: string[],
  gapsSecs: number[],
  leadSecs = 0.7,
  tailSecs = 1.5,
): UtteranceFile {
  const clips = texts.map((t) => {
    const s = readSamples(espeakWav(dir, t, rate));
    const [a, b] = nonSilentExtent(s);
    return s.subarray(a, b + 1);
  });
  const gap = (i: number): number => Math.round((i < gapsSecs.length ? (gapsSecs[i] as number) : tailSecs) * rate);
  let total = Math.round(leadSecs * rate);
  clips.forEach((c, i) => (total += c.length + gap(i)));
  const samples = new Int16Array(total);
  const truth: UtteranceFile['truth'] = [];
  let at = Math.round(leadSecs * rate);
  clips.forEach((c, i) => {
    samples.set(c, at);
    truth.push({ start: at / rate, end: (at + c.length) / rate });
    at += c.length + gap(i);
  });
  const path = dir.file(`utterances-${rate}.wav`);
  writeFileSync(path, writeWav({ sampleRate: rate, channels: 1, samples }));
  return { path, samples, truth };
}
