/**
 * Recorded sounds for simulated callees (the persona `play` step): a WAV file turned into the 8 kHz μ-law a
 * carrier carries, at a chosen gain, with the words of an optional transcript placed on its audio so the
 * speech registry (and through it the STT emulators) can recognise it. Sounds without a transcript — a cough,
 * a laugh, a door, a TV in the room — are not registered: STT hears something it cannot transcribe.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { mulawEncode } from '../../audio/g711.ts';
import { downmixToMono, resampleWhole } from '../../audio/pcm.ts';
import { readWav } from '../../audio/wav.ts';
import type { SpokenWord } from '../speech-registry.ts';

export interface SoundClip {
  /** What the clip says (its transcript), or '' for a sound without words. */
  text: string;
  mulaw: Uint8Array;
  /** Words of the transcript placed on the audio; empty without a transcript. */
  words: SpokenWord[];
  /** Seconds from the clip's start to the start of its first and the end of its last audible 20 ms frame. */
  audible: [number, number];
}

/** Frames quieter than this (dBFS RMS) are silence when placing words and finding a clip's end. */
const AUDIBLE_DBFS = -50;
const FRAME = 160;

/** Reads a WAV file (any rate, channels, PCM/float/G.711) as 8 kHz mono 16-bit PCM, `gainDb` applied. */
export async function loadClipPcm(path: string, gainDb = 0): Promise<Int16Array> {
  const wav = readWav(new Uint8Array(await readFile(path)));
  let pcm = wav.channels > 1 ? downmixToMono(wav.samples, wav.channels) : wav.samples;
  if (wav.sampleRate !== 8000) pcm = resampleWhole(pcm, wav.sampleRate, 8000);
  if (gainDb !== 0) {
    const factor = 10 ** (gainDb / 20);
    pcm = Int16Array.from(pcm, (s) => Math.max(-32768, Math.min(32767, Math.round(s * factor))));
  }
  return pcm;
}

/** Per 20 ms frame: is it audible? */
function audibleFrames(pcm: Int16Array): boolean[] {
  const threshold = (32768 * 10 ** (AUDIBLE_DBFS / 20)) ** 2;
  const frames: boolean[] = [];
  for (let i = 0; i < pcm.length; i += FRAME) {
    let sum = 0;
    const end = Math.min(pcm.length, i + FRAME);
    for (let j = i; j < end; j++) sum += (pcm[j] as number) ** 2;
    frames.push(sum / Math.max(1, end - i) > threshold);
  }
  return frames;
}

/**
 * Places `transcript`'s words on the audible stretches of the clip, each word taking a share of the audible
 * time proportional to its length. A guess (no recogniser runs here), good enough for the STT emulators,
 * which report a word once its audio has arrived.
 */
export function placeWords(pcm: Int16Array, transcript: string): SpokenWord[] {
  const words = transcript.split(/\s+/).filter(Boolean);
  if (words.length === 0) return [];
  const audible = audibleFrames(pcm);
  const audibleIndex: number[] = [];
  audible.forEach((on, i) => {
    if (on) audibleIndex.push(i);
  });
  if (audibleIndex.length === 0) return [];
  const weights = words.map((w) => Math.max(1, w.replace(/[^\p{L}\p{N}]/gu, '').length));
  const total = weights.reduce((a, b) => a + b, 0);
  const frameSec = FRAME / 8000;
  const placed: SpokenWord[] = [];
  let used = 0;
  words.forEach((word, i) => {
    const from = Math.floor((used / total) * audibleIndex.length);
    used += weights[i] as number;
    const to = Math.max(from, Math.ceil((used / total) * audibleIndex.length) - 1);
    const startSec = (audibleIndex[from] as number) * frameSec;
    const endSec = ((audibleIndex[Math.min(to, audibleIndex.length - 1)] as number) + 1) * frameSec;
    placed.push({ word, startSec, endSec });
  });
  return placed;
}

/** Seconds to the start of the first and the end of the last audible frame ([0, 0] for silence). */
export function audibleSpan(pcm: Int16Array): [number, number] {
  const audible = audibleFrames(pcm);
  const first = audible.indexOf(true);
  const last = audible.lastIndexOf(true);
  return last < 0 ? [0, 0] : [(first * FRAME) / 8000, ((last + 1) * FRAME) / 8000];
}

const cache = new Map<string, Promise<SoundClip>>();

/** Loads a clip (cached per file, gain and transcript). Relative paths resolve against `baseDir`. */
export function loadSoundClip(path: string, options: { gainDb?: number; transcript?: string; baseDir?: string } = {}): Promise<SoundClip> {
  const file = isAbsolute(path) ? path : resolve(options.baseDir ?? process.cwd(), path);
  const key = `${file}\n${options.gainDb ?? 0}\n${options.transcript ?? ''}`;
  let clip = cache.get(key);
  if (!clip) {
    clip = (async () => {
      const pcm = await loadClipPcm(file, options.gainDb ?? 0);
      const text = options.transcript?.trim() ?? '';
      const known = text ? await knownWords(file, text) : undefined;
      return { text, mulaw: mulawEncode(pcm), words: text ? (known ?? placeWords(pcm, text)) : [], audible: audibleSpan(pcm) };
    })();
    clip.catch(() => cache.delete(key));
    if (cache.size > 500) cache.delete(cache.keys().next().value as string);
    cache.set(key, clip);
  }
  return clip;
}

/**
 * Word timings saved beside a clip (`<name>.words.json`, written when the clip was synthesised), given the
 * transcript's spelling; undefined when there are none or they do not fit the transcript.
 */
async function knownWords(file: string, transcript: string): Promise<SpokenWord[] | undefined> {
  const sidecar = file.replace(/\.wav$/i, '.words.json');
  if (sidecar === file || !existsSync(sidecar)) return undefined;
  const timed = JSON.parse(await readFile(sidecar, 'utf8')) as Array<{ word: string; startSec: number; endSec: number }>;
  const written = transcript.split(/\s+/).filter(Boolean);
  if (timed.length !== written.length) return undefined;
  return timed.map((w, i) => ({ word: written[i] as string, startSec: w.startSec, endSec: w.endSec }));
}
