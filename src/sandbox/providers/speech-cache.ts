/**
 * A memo cache in front of eSpeak for the TTS emulators.
 *
 * eSpeak synthesis is synchronous: a sentence blocks the event loop for tens of milliseconds (two runs of
 * the WASM program when word timings are on). The emulators usually share a process with the carrier
 * emulator, whose 20 ms media clock then wakes up late, so a load test would blame the server for frames the
 * emulator delayed. A bot repeats itself a lot (the sandbox policy's replies are templates), so each distinct
 * (text, voice settings) is synthesised once and reused.
 *
 * Speech is cached at the rate it is asked for: resampling eSpeak's 22 050 Hz output costs about as much as
 * synthesising it. Cached speech is shared between requests: callers only read it (the speech generator
 * copies what it sends).
 */
import { resampleWhole } from '../../audio/pcm.ts';
import type { EspeakEngine } from '../../services/tts/offline/espeak-engine.ts';
import { synthesizeWith, type SpeechOptions, type SynthesizedSpeech } from '../../services/tts/offline/espeak-voice.ts';

export interface SpeechCacheOptions {
  /** Distinct (text, voice settings) kept; the least recently used goes first. @default 500 */
  maxEntries?: number;
  /** The synthesis being cached. @default synthesizeWith (eSpeak) */
  synthesize?: (engine: EspeakEngine, text: string, speech: SpeechOptions | undefined) => SynthesizedSpeech;
}

export interface SpeechCacheStats {
  hits: number;
  misses: number;
  entries: number;
}

export interface SpeechCache {
  /** `synthesizeWith`, resampled to `sampleRate` (when given); pass it as the speech generator's `synthesize`. */
  synthesize(engine: EspeakEngine, text: string, speech: SpeechOptions | undefined, sampleRate?: number): SynthesizedSpeech;
  stats(): SpeechCacheStats;
}

function cacheKey(text: string, speech: SpeechOptions | undefined, sampleRate: number | undefined): string {
  const s = speech ?? {};
  return JSON.stringify([s.voice ?? null, s.wordsPerMinute ?? null, s.pitch ?? null, s.wordTimings ?? true, sampleRate ?? null, text]);
}

export function createSpeechCache(options: SpeechCacheOptions = {}): SpeechCache {
  const maxEntries = options.maxEntries ?? 500;
  const synthesize = options.synthesize ?? synthesizeWith;
  const entries = new Map<string, SynthesizedSpeech>();
  let hits = 0;
  let misses = 0;
  return {
    synthesize(engine, text, speech, sampleRate) {
      const key = cacheKey(text, speech, sampleRate);
      const hit = entries.get(key);
      if (hit) {
        hits++;
        // Re-insert: Map order is the eviction order (least recently used first).
        entries.delete(key);
        entries.set(key, hit);
        return hit;
      }
      misses++;
      const native = synthesize(engine, text, speech); // errors (unknown voice) are not cached
      const made =
        sampleRate === undefined || sampleRate === native.sampleRate
          ? native
          : { ...native, pcm: resampleWhole(native.pcm, native.sampleRate, sampleRate), sampleRate };
      entries.set(key, made);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
      return made;
    },
    stats: () => ({ hits, misses, entries: entries.size }),
  };
}
