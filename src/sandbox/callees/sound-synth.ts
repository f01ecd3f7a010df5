/**
 * Sounds for simulated callees (persona `play` steps), made on demand from specs such as the conversation
 * corpus's `sounds.json` — nothing is downloaded and no audio is checked in: speech from the offline eSpeak
 * voice (voicemail greetings, TV voices, laughs), and synthesised coughs,
 * door slams, noise bursts and beeps. Each file is 8 kHz mono 16-bit WAV at the level the spec asks for
 * (RMS over its audible part, dBFS). Deterministic: the same spec always gives the same bytes.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resampleWhole } from '../../audio/pcm.ts';
import { writeWav } from '../../audio/wav.ts';
import { synthesizeSpeech } from '../../services/tts/offline/espeak-voice.ts';

export type SoundSpec =
  | {
      kind: 'speech';
      text: string;
      voice?: string;
      wordsPerMinute?: number;
      pitch?: number;
      levelDbfs: number;
      room?: boolean;
      pauseMs?: number;
    }
  | { kind: 'tone'; frequencyHz: number; durationMs: number; levelDbfs: number }
  | { kind: 'cough'; seed: number; bursts: number; levelDbfs: number }
  | { kind: 'door'; seed: number; levelDbfs: number }
  | { kind: 'noise'; seed: number; durationMs: number; color: 'white' | 'pink'; levelDbfs: number }
  | { kind: 'laugh'; text: string; voice?: string; pitch?: number; wordsPerMinute?: number; levelDbfs: number };

const RATE = 8000;
/** Part of every sound's hash: bump it when rendering changes, so cached files are made again. */
const RENDER_VERSION = 4;

function rng(seed: number): () => number {
  let x = (seed * 2654435761) >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

function resample(pcm: Int16Array, from: number): Float64Array {
  return Float64Array.from(from === RATE ? pcm : resampleWhole(pcm, from, RATE));
}

/** Scales so the RMS over frames louder than 40 dB below the peak frame is `levelDbfs`. */
function normalise(x: Float64Array, levelDbfs: number): Int16Array {
  const frame = 160;
  const energies: number[] = [];
  for (let i = 0; i < x.length; i += frame) {
    let e = 0;
    for (let j = i; j < Math.min(x.length, i + frame); j++) e += (x[j] as number) ** 2;
    energies.push(e / frame);
  }
  const peak = Math.max(...energies, 1e-12);
  const loud = energies.filter((e) => e > peak * 1e-4);
  const rms = Math.sqrt(loud.reduce((a, b) => a + b, 0) / Math.max(1, loud.length));
  const gain = (32768 * 10 ** (levelDbfs / 20)) / Math.max(rms, 1e-9);
  return Int16Array.from(x, (v) => Math.max(-32768, Math.min(32767, Math.round(v * gain))));
}

/** A small room: a low-pass and three early reflections (a TV across the room). */
function room(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length + 800);
  let lp = 0;
  for (let i = 0; i < x.length; i++) {
    lp += 0.35 * ((x[i] as number) - lp);
    out[i] = (out[i] as number) + lp;
    for (const [delay, g] of [
      [240, 0.45],
      [440, 0.3],
      [720, 0.18],
    ] as const) {
      out[i + delay] = (out[i + delay] as number) + lp * g;
    }
  }
  return out;
}

async function speech(
  text: string,
  voice: string | undefined,
  wordsPerMinute: number | undefined,
  pitch: number | undefined,
): Promise<{ audio: Float64Array; words: Array<{ word: string; startSec: number; endSec: number }> }> {
  const s = await synthesizeSpeech(text, {
    ...(voice ? { voice } : {}),
    ...(wordsPerMinute ? { wordsPerMinute } : {}),
    ...(pitch !== undefined ? { pitch } : {}),
  });
  // eSpeak pads each sentence with silence; trimmed, the pauses between sentences are the spec's own.
  const full = resample(s.pcm, s.sampleRate);
  const [from, to] = audibleRange(full);
  const shift = from / RATE;
  return {
    audio: full.subarray(from, to),
    words: s.words.map((w) => ({ word: w.word, startSec: Math.max(0, w.startSec - shift), endSec: Math.max(0, w.endSec - shift) })),
  };
}

/** Sample range of `x` from its first to its last 10 ms block above −50 dBFS (all of it when silent). */
function audibleRange(x: Float64Array): [number, number] {
  const block = 80;
  const threshold = (32768 * 10 ** (-50 / 20)) ** 2;
  let first = -1;
  let last = -1;
  for (let i = 0; i < x.length; i += block) {
    let e = 0;
    const end = Math.min(x.length, i + block);
    for (let j = i; j < end; j++) e += (x[j] as number) ** 2;
    if (e / (end - i) > threshold) {
      if (first < 0) first = i;
      last = end;
    }
  }
  return first < 0 ? [0, x.length] : [first, last];
}

/** A rendered sound, with the words it says where they are known (synthesised speech). */
interface Rendered {
  pcm: Int16Array;
  words?: Array<{ word: string; startSec: number; endSec: number }>;
}

function silence(ms: number): Float64Array {
  return new Float64Array(Math.round((ms / 1000) * RATE));
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Band-limited noise burst with a fast attack and exponential decay. */
function burst(random: () => number, ms: number, decayMs: number, lowHz: number, highHz: number): Float64Array {
  const n = Math.round((ms / 1000) * RATE);
  const out = new Float64Array(n);
  const hp = Math.exp((-2 * Math.PI * lowHz) / RATE);
  const lpk = 1 - Math.exp((-2 * Math.PI * highHz) / RATE);
  let lp = 0;
  let prevIn = 0;
  let prevOut = 0;
  for (let i = 0; i < n; i++) {
    const white = random() * 2 - 1;
    lp += lpk * (white - lp);
    const high = hp * (prevOut + lp - prevIn);
    prevIn = lp;
    prevOut = high;
    const t = i / RATE;
    const env = Math.min(1, i / (0.005 * RATE)) * Math.exp(-t / (decayMs / 1000));
    out[i] = high * env;
  }
  return out;
}

async function render(spec: SoundSpec): Promise<Rendered> {
  switch (spec.kind) {
    case 'speech': {
      // Sentences are spoken one by one with a pause between them (voicemail greetings breathe).
      const sentences = spec.text.match(/[^.!?]+[.!?]+/g) ?? [spec.text];
      const parts: Float64Array[] = [silence(150)];
      const words: NonNullable<Rendered['words']> = [];
      let offsetSec = 0.15;
      for (const sentence of sentences) {
        const said = await speech(sentence.trim(), spec.voice, spec.wordsPerMinute, spec.pitch);
        for (const w of said.words) words.push({ word: w.word, startSec: offsetSec + w.startSec, endSec: offsetSec + w.endSec });
        const pause = silence(spec.pauseMs ?? 350);
        parts.push(said.audio, pause);
        offsetSec += (said.audio.length + pause.length) / RATE;
      }
      const audio = concat(parts);
      return { pcm: normalise(spec.room ? room(audio) : audio, spec.levelDbfs), words };
    }
    case 'laugh': {
      const { audio } = await speech(spec.text, spec.voice, spec.wordsPerMinute ?? 260, spec.pitch ?? 80);
      return { pcm: normalise(room(audio), spec.levelDbfs) };
    }
    case 'tone': {
      const n = Math.round((spec.durationMs / 1000) * RATE);
      const ramp = 0.01 * RATE;
      const tone = Float64Array.from(
        { length: n },
        (_, i) => Math.sin((2 * Math.PI * spec.frequencyHz * i) / RATE) * Math.min(1, i / ramp, (n - 1 - i) / ramp),
      );
      return { pcm: normalise(concat([silence(20), tone, silence(20)]), spec.levelDbfs) };
    }
    case 'cough': {
      const random = rng(spec.seed);
      const parts: Float64Array[] = [silence(60)];
      for (let b = 0; b < spec.bursts; b++) {
        parts.push(burst(random, 180 + random() * 120, 60 + random() * 50, 250 + random() * 150, 2200 + random() * 1200));
        parts.push(silence(90 + random() * 120));
      }
      return { pcm: normalise(concat(parts), spec.levelDbfs) };
    }
    case 'door': {
      const random = rng(spec.seed);
      const n = Math.round(0.45 * RATE);
      const thump = Float64Array.from({ length: n }, (_, i) => {
        const t = i / RATE;
        return Math.sin(2 * Math.PI * (70 + 30 * random()) * t) * Math.exp(-t / 0.07) * 0.9;
      });
      const click = burst(random, 450, 25, 100, 3800);
      const rattle = burst(random, 450, 120, 800, 3000);
      const mixed = Float64Array.from(thump, (v, i) => v + (click[i] as number) * 0.8 + (rattle[i] as number) * 0.15);
      return { pcm: normalise(concat([silence(40), mixed]), spec.levelDbfs) };
    }
    case 'noise': {
      const random = rng(spec.seed);
      const n = Math.round((spec.durationMs / 1000) * RATE);
      const out = new Float64Array(n);
      // Pink by Paul Kellet's economical filter; white as is. 20 ms fades.
      let b0 = 0;
      let b1 = 0;
      let b2 = 0;
      const fade = 0.02 * RATE;
      for (let i = 0; i < n; i++) {
        const white = random() * 2 - 1;
        let v = white;
        if (spec.color === 'pink') {
          b0 = 0.99765 * b0 + white * 0.099046;
          b1 = 0.963 * b1 + white * 0.2965164;
          b2 = 0.57 * b2 + white * 1.0526913;
          v = b0 + b1 + b2 + white * 0.1848;
        }
        out[i] = v * Math.min(1, i / fade, (n - 1 - i) / fade);
      }
      return { pcm: normalise(concat([silence(20), out, silence(20)]), spec.levelDbfs) };
    }
  }
}

/**
 * Makes every sound of `specs` missing from `dir` (`<name>.wav`, and `<name>.words.json` with the word timings
 * of synthesised speech, which `play` steps with a transcript use); a sound whose spec changed is made again
 * (a hash of the spec is kept beside it). Returns the folder.
 */
export async function ensureSounds(specs: Record<string, SoundSpec>, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  for (const [name, spec] of Object.entries(specs)) {
    const file = join(dir, `${name}.wav`);
    const stamp = join(dir, `${name}.spec`);
    const hash = createHash('sha256').update(JSON.stringify({ RENDER_VERSION, spec })).digest('hex').slice(0, 16);
    if (existsSync(file) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) continue;
    const rendered = await render(spec);
    writeFileSync(file, writeWav({ sampleRate: RATE, channels: 1, samples: rendered.pcm }));
    if (rendered.words) writeFileSync(join(dir, `${name}.words.json`), JSON.stringify(rendered.words));
    writeFileSync(stamp, hash);
  }
  return dir;
}
