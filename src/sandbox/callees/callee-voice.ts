/**
 * Voices for simulated callees: text → 8 kHz μ-law plus word timings.
 *
 * - {@link espeakCalleeVoice}: real speech from the offline eSpeak NG voice (default `en-us+f3`, unlike the
 *   bot's default `en-us`), so recordings sound like a conversation and any speech-to-text can follow it.
 * - {@link toneCalleeVoice}: one tone burst per word; no synthesis cost, for load tests and unit tests. The
 *   audio differs per text, so the speech registry still tells lines apart.
 *
 * Synthesis results are cached per voice and text: a hundred concurrent calls running the same persona
 * synthesise each line once.
 */
import { mulawEncode } from '../../audio/g711.ts';
import { synthesizeMulaw8k } from '../../services/tts/offline/espeak-voice.ts';
import type { SpokenWord } from '../speech-registry.ts';

export interface CalleeUtterance {
  text: string;
  /** 8 kHz mono μ-law, exactly the bytes the callee will send. */
  mulaw: Uint8Array;
  words: SpokenWord[];
}

export interface CalleeVoice {
  /** Identifies the voice and its settings (cache key). */
  readonly id: string;
  synthesize(text: string): Promise<CalleeUtterance>;
}

const CACHE_LIMIT = 500;
const cache = new Map<string, Promise<CalleeUtterance>>();

function cached(key: string, make: () => Promise<CalleeUtterance>): Promise<CalleeUtterance> {
  const hit = cache.get(key);
  if (hit) return hit;
  const promise = make();
  cache.set(key, promise);
  promise.catch(() => cache.delete(key));
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  return promise;
}

export interface EspeakCalleeVoiceOptions {
  /** eSpeak voice name. @default 'en-us+f3' */
  voice?: string;
  /** @default 175 */
  wordsPerMinute?: number;
  /** @default 50 */
  pitch?: number;
}

export function espeakCalleeVoice(options: EspeakCalleeVoiceOptions = {}): CalleeVoice {
  const voice = options.voice ?? 'en-us+f3';
  const wordsPerMinute = options.wordsPerMinute ?? 175;
  const pitch = options.pitch ?? 50;
  const id = `espeak:${voice}:${wordsPerMinute}:${pitch}`;
  return {
    id,
    synthesize: (text) =>
      cached(`${id}\n${text}`, async () => {
        const speech = await synthesizeMulaw8k(text, { voice, wordsPerMinute, pitch });
        return { text, mulaw: speech.mulaw, words: speech.words.map((w) => ({ ...w })) };
      }),
  };
}

export interface ToneCalleeVoiceOptions {
  /** Duration of each word's tone. @default 260 */
  wordMs?: number;
  /** Silence between words. @default 80 */
  gapMs?: number;
  /** Peak amplitude as a fraction of full scale. @default 0.3 */
  level?: number;
}

/** A word's tone frequency: 300–1100 Hz, derived from the word so different lines sound (and hash) different. */
function wordFrequency(word: string): number {
  let h = 0;
  for (const ch of word) h = (h * 31 + (ch.codePointAt(0) as number)) >>> 0;
  return 300 + (h % 800);
}

export function toneCalleeVoice(options: ToneCalleeVoiceOptions = {}): CalleeVoice {
  const wordMs = options.wordMs ?? 260;
  const gapMs = options.gapMs ?? 80;
  const level = options.level ?? 0.3;
  const id = `tone:${wordMs}:${gapMs}:${level}`;
  return {
    id,
    synthesize: (text) =>
      cached(`${id}\n${text}`, async () => {
        const words = text.split(/\s+/).filter(Boolean);
        const wordSamples = Math.round(wordMs * 8);
        const gapSamples = Math.round(gapMs * 8);
        const pcm = new Int16Array(words.length * (wordSamples + gapSamples));
        const timings: SpokenWord[] = [];
        words.forEach((word, w) => {
          const start = w * (wordSamples + gapSamples);
          const step = (2 * Math.PI * wordFrequency(word)) / 8000;
          const ramp = 40; // 5 ms fade in/out: no clicks
          for (let i = 0; i < wordSamples; i++) {
            const envelope = Math.min(1, i / ramp, (wordSamples - 1 - i) / ramp);
            pcm[start + i] = Math.round(Math.sin(i * step) * envelope * level * 32767);
          }
          timings.push({ word, startSec: start / 8000, endSec: (start + wordSamples) / 8000 });
        });
        return { text, mulaw: mulawEncode(pcm), words: timings };
      }),
  };
}
