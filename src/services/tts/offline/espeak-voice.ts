/**
 * Offline speech with eSpeak NG (WASM build, GPL-3.0-or-later): no account, no network, no native binary.
 * Used by the offline TTS service and by the provider emulators, and to voice the sandbox's simulated caller.
 *
 * Speed on the 2-core dev machine (Node 20, `bench/tts.ts`): ~280× real time for speech alone, ~135× with
 * word timings (a second, word-gapped synthesis), i.e. ~7 ms of CPU per second of speech; the engine starts
 * in ~0.3–0.8 s once per process. Synthesis is synchronous and blocks the event loop for that time.
 *
 * Word timings are derived from the audio (see word-timing.ts): word starts within 26 ms on average
 * (90th percentile 64 ms) of eSpeak's own word events.
 */
import { readWav } from '../../../audio/wav.ts';
import { toPayload, type TtsAudioFormat } from '../audio-format.ts';
import { resampleWhole } from '../../../audio/pcm.ts';
import type { AudioPayload } from '../../../pipeline/audio-payload.ts';
import { EspeakError, getEspeakEngine, type EspeakEngine } from './espeak-engine.ts';
import { deriveWordTimings, type WordTiming } from './word-timing.ts';

export type { WordTiming } from './word-timing.ts';

export interface SpeechOptions {
  /**
   * eSpeak voice: a language (`en-us`, `en-gb`, `de`…) optionally with a variant (`en-us+f3`, `en-gb+m2`,
   * `en+Annie`). The sandbox uses different voices for the bot and the simulated caller.
   * @default 'en-us'
   */
  voice?: string;
  /** Speaking rate in words per minute (eSpeak accepts 80–450). @default 175 */
  wordsPerMinute?: number;
  /** Base pitch, 0–99. @default 50 */
  pitch?: number;
  /** Measure word timings (costs a second synthesis). @default true */
  wordTimings?: boolean;
}

/** Speech as eSpeak produced it: mono 16-bit PCM at eSpeak's native rate (22 050 Hz). */
export interface SynthesizedSpeech {
  pcm: Int16Array;
  sampleRate: number;
  /** Word timings in seconds from the first sample; empty when `wordTimings` is false or nothing was said. */
  words: WordTiming[];
}

/** Speech in a requested format (see {@link synthesizeAs}). */
export interface EncodedSpeech {
  audio: AudioPayload;
  words: WordTiming[];
  durationSec: number;
}

export const DEFAULT_VOICE = 'en-us';
export const DEFAULT_WORDS_PER_MINUTE = 175;

const INPUT_PATH = '/tmp/switchboard-input.txt';
const OUTPUT_PATH = '/tmp/switchboard-output.wav';

function clampRate(wpm: number | undefined): number {
  const rate = Math.round(wpm ?? DEFAULT_WORDS_PER_MINUTE);
  if (!Number.isFinite(rate)) return DEFAULT_WORDS_PER_MINUTE;
  return Math.min(450, Math.max(80, rate));
}

function synthesizeOnce(engine: EspeakEngine, text: string, args: string[]): { pcm: Int16Array; sampleRate: number } {
  engine.fs.writeFile(INPUT_PATH, text);
  try {
    // -b 1: the input is UTF-8; -f: read it from a file, so text starting with "-" is never an option.
    const run = engine.run([...args, '-b', '1', '-w', OUTPUT_PATH, '-f', INPUT_PATH]);
    if (run.exitCode !== 0 || !engine.fs.analyzePath(OUTPUT_PATH).exists) {
      const message = run.stderr.join(' ').trim() || `espeak-ng exited with status ${run.exitCode}`;
      throw new EspeakError(message.replace(/^Error:\s*/, ''), run.exitCode);
    }
    const wav = readWav(engine.fs.readFile(OUTPUT_PATH));
    return { pcm: wav.samples, sampleRate: wav.sampleRate };
  } finally {
    if (engine.fs.analyzePath(OUTPUT_PATH).exists) engine.fs.unlink(OUTPUT_PATH);
    engine.fs.unlink(INPUT_PATH);
  }
}

/**
 * Synthesises `text` on an already started engine (synchronous: blocks for the synthesis, a few ms per
 * second of speech). Throws {@link EspeakError} for an unknown voice.
 */
export function synthesizeWith(engine: EspeakEngine, text: string, options: SpeechOptions = {}): SynthesizedSpeech {
  const voice = options.voice ?? DEFAULT_VOICE;
  if (!/^[\w+\-./]+$/.test(voice)) throw new EspeakError(`invalid voice name "${voice}"`, 1);
  const wpm = clampRate(options.wordsPerMinute);
  const pitch = Math.min(99, Math.max(0, Math.round(options.pitch ?? 50)));
  const args = ['-v', voice, '-s', String(wpm), '-p', String(pitch)];
  const speech = synthesizeOnce(engine, text, args);
  if (options.wordTimings === false || speech.pcm.length === 0) return { ...speech, words: [] };
  // Word gap in eSpeak units (10 ms at 175 wpm, shrinking at faster rates): ≥ 200 ms of silence per boundary.
  const gapUnits = Math.max(10, Math.round((30 * wpm) / DEFAULT_WORDS_PER_MINUTE));
  const probe = synthesizeOnce(engine, text, [...args, '-g', String(gapUnits)]);
  // Pauses between clauses are ≥ 150 ms at 175 wpm; stop closures inside words stay under ~80 ms.
  const pauseMs = Math.max(60, (100 * DEFAULT_WORDS_PER_MINUTE) / wpm);
  const words = deriveWordTimings(text, speech.pcm, probe.pcm, speech.sampleRate, pauseMs);
  return { ...speech, words };
}

/** Starts the engine now (it starts on first use otherwise; ~150 ms). */
export async function loadEspeak(): Promise<void> {
  await getEspeakEngine();
}

/** Synthesises `text` with eSpeak: PCM at 22 050 Hz plus word timings. */
export async function synthesizeSpeech(text: string, options: SpeechOptions = {}): Promise<SynthesizedSpeech> {
  return synthesizeWith(await getEspeakEngine(), text, options);
}

/** Synthesises `text` and converts it to `format` (any rate the resampler supports; μ-law or PCM). */
export async function synthesizeAs(text: string, format: TtsAudioFormat, options: SpeechOptions = {}): Promise<EncodedSpeech> {
  const speech = await synthesizeSpeech(text, options);
  const pcm = resampleWhole(speech.pcm, speech.sampleRate, format.sampleRate);
  return { audio: toPayload(pcm, format), words: speech.words, durationSec: pcm.length / format.sampleRate };
}

/** Telephony convenience: `text` as 8 kHz μ-law bytes plus word timings. */
export async function synthesizeMulaw8k(
  text: string,
  options: SpeechOptions = {},
): Promise<{ mulaw: Uint8Array; sampleRate: 8000; words: WordTiming[] }> {
  const { audio, words } = await synthesizeAs(text, { encoding: 'mulaw', sampleRate: 8000 }, options);
  return { mulaw: audio.mulaw ?? new Uint8Array(0), sampleRate: 8000, words };
}

/**
 * Voices eSpeak knows for a language (e.g. `en`), or all of them; `variant` lists the names usable after `+`
 * (`en-us+Annie`).
 */
export async function listEspeakVoices(language?: string): Promise<Array<{ language: string; name: string; gender: string }>> {
  const engine = await getEspeakEngine();
  const run = engine.run([language ? `--voices=${language}` : '--voices']);
  return run.stdout.slice(1).flatMap((line) => {
    const match = /^\s*\d+\s+(\S+)\s+\S*\/(\S)\s+(\S+)/.exec(line);
    return match ? [{ language: match[1] as string, gender: match[2] as string, name: match[3] as string }] : [];
  });
}

export { EspeakError } from './espeak-engine.ts';
