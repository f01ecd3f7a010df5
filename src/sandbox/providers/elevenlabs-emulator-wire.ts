/**
 * ElevenLabs TTS WebSocket wire details for the emulator: output formats, model and voice checks, and
 * character alignment built from word timings.
 */
import { alawEncode, mulawEncode } from '../../audio/g711.ts';
import { pcm16ToBytes } from '../../audio/pcm.ts';
import type { SpeechOptions } from '../../services/tts/offline/espeak-voice.ts';
import type { WordTiming } from '../../services/tts/offline/word-timing.ts';

/** Output formats the real API lists. The emulator produces the raw ones (PCM, μ-law, A-law). */
export const ELEVENLABS_OUTPUT_FORMATS: readonly string[] = [
  'mp3_22050_32',
  'mp3_44100_32',
  'mp3_44100_64',
  'mp3_44100_96',
  'mp3_44100_128',
  'mp3_44100_192',
  'pcm_8000',
  'pcm_16000',
  'pcm_22050',
  'pcm_24000',
  'pcm_44100',
  'pcm_48000',
  'ulaw_8000',
  'alaw_8000',
  'opus_48000_32',
  'opus_48000_64',
  'opus_48000_96',
  'opus_48000_128',
  'opus_48000_192',
];

export const ELEVENLABS_MODELS: readonly string[] = [
  'eleven_flash_v2_5',
  'eleven_flash_v2',
  'eleven_turbo_v2_5',
  'eleven_turbo_v2',
  'eleven_multilingual_v2',
  'eleven_multilingual_v1',
  'eleven_monolingual_v1',
  'eleven_v3',
];

/**
 * How reply keys are spelled. The API reference and the SDKs' `FinalOutputMulti` / `AudioOutputMulti` use
 * camelCase (`isFinal`, `contextId`, `normalizedAlignment`, `charStartTimesMs`); some SDK serialisers map the
 * same fields to snake_case on the wire (`is_final`, `context_id`, `normalized_alignment`,
 * `char_start_times_ms`, `char_durations_ms`), so a client must accept both. Which one the live service sends
 * today is not documented: camelCase is the default because the API reference shows it.
 */
export type ElevenLabsKeyStyle = 'camelCase' | 'snake_case';

export interface ReplyKeys {
  isFinal: string;
  contextId: string;
  normalizedAlignment: string;
  charStartTimesMs: string;
  charDurationsMs: string;
}

/** The reply keys for a style; `durationsKey` picks the camelCase durations spelling (both exist). */
export function replyKeys(style: ElevenLabsKeyStyle, durationsKey: 'charDurationsMs' | 'charsDurationsMs' = 'charDurationsMs'): ReplyKeys {
  if (style === 'snake_case') {
    return {
      isFinal: 'is_final',
      contextId: 'context_id',
      normalizedAlignment: 'normalized_alignment',
      charStartTimesMs: 'char_start_times_ms',
      charDurationsMs: 'char_durations_ms',
    };
  }
  return {
    isFinal: 'isFinal',
    contextId: 'contextId',
    normalizedAlignment: 'normalizedAlignment',
    charStartTimesMs: 'charStartTimesMs',
    charDurationsMs: durationsKey,
  };
}

export interface RawOutputFormat {
  encoding: 'pcm' | 'ulaw' | 'alaw';
  sampleRate: number;
}

/** A WebSocket close the emulator answers a bad request with: code, reason and the JSON message sent first. */
export class ElevenLabsPolicyError extends Error {
  constructor(
    readonly closeCode: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

export function parseOutputFormat(value: string | null): RawOutputFormat {
  const format = value ?? 'mp3_44100_128';
  if (!ELEVENLABS_OUTPUT_FORMATS.includes(format)) {
    throw new ElevenLabsPolicyError(1008, 'invalid_output_format', `Invalid output_format '${format}'.`);
  }
  const [codec, rate] = format.split('_');
  if (codec !== 'pcm' && codec !== 'ulaw' && codec !== 'alaw') {
    throw new ElevenLabsPolicyError(
      1003,
      'unsupported_output_format',
      `The emulator produces raw audio only (pcm_*, ulaw_8000, alaw_8000), not '${format}'.`,
    );
  }
  return { encoding: codec, sampleRate: Number(rate) };
}

export function checkModel(model: string | null): string {
  const id = model ?? 'eleven_multilingual_v2';
  if (!ELEVENLABS_MODELS.includes(id)) {
    throw new ElevenLabsPolicyError(1008, 'model_not_found', `A model with model ID '${id}' does not exist.`);
  }
  return id;
}

const FALLBACK_VOICES = ['en-us', 'en-us+f3', 'en-gb', 'en-us+m3', 'en-gb+f2'];

/** Voice ids look like "21m00Tcm4TlvDq8ikWAM" (20 characters); known ids may map to chosen eSpeak voices. */
export function voiceFor(voiceId: string, voices: Record<string, SpeechOptions> | undefined): SpeechOptions {
  const known = voices?.[voiceId];
  if (known) return known;
  if (voices || !/^[A-Za-z0-9]{20}$/.test(voiceId)) {
    throw new ElevenLabsPolicyError(1008, 'voice_not_found', `A voice with the voice_id '${voiceId}' was not found.`);
  }
  let h = 0;
  for (const ch of voiceId) h = (h * 31 + (ch.codePointAt(0) as number)) >>> 0;
  return { voice: FALLBACK_VOICES[h % FALLBACK_VOICES.length] as string };
}

export function encodeElevenLabsAudio(pcm: Int16Array, format: RawOutputFormat): Uint8Array {
  if (format.encoding === 'ulaw') return mulawEncode(pcm);
  if (format.encoding === 'alaw') return alawEncode(pcm);
  return pcm16ToBytes(pcm);
}

/** Start and duration (seconds, on the same timeline as the words) of every character of `text`. */
export interface CharTimeline {
  chars: string[];
  startSec: number[];
  durationSec: number[];
}

/**
 * Spreads word timings over the characters of `text` (the text as sent, spaces and punctuation included):
 * a word's characters share its span evenly, and the characters between two words share the gap.
 */
export function charTimeline(text: string, words: WordTiming[], startSec: number, endSec: number): CharTimeline {
  const chars = [...text];
  const start = new Array<number>(chars.length).fill(Number.NaN);
  const end = new Array<number>(chars.length).fill(Number.NaN);
  let cursor = 0;
  const codeUnitToChar: number[] = [];
  chars.forEach((ch, i) => {
    for (let k = 0; k < ch.length; k++) codeUnitToChar.push(i);
  });
  for (const word of words) {
    const at = text.indexOf(word.word, cursor);
    if (at < 0) continue;
    const first = codeUnitToChar[at] as number;
    const last = codeUnitToChar[at + word.word.length - 1] as number;
    const count = last - first + 1;
    for (let c = 0; c < count; c++) {
      start[first + c] = word.startSec + ((word.endSec - word.startSec) * c) / count;
      end[first + c] = word.startSec + ((word.endSec - word.startSec) * (c + 1)) / count;
    }
    cursor = at + word.word.length;
  }
  // Characters outside words fill the gaps between their neighbours.
  let i = 0;
  while (i < chars.length) {
    if (!Number.isNaN(start[i] as number)) {
      i++;
      continue;
    }
    let j = i;
    while (j < chars.length && Number.isNaN(start[j] as number)) j++;
    const from = i === 0 ? startSec : (end[i - 1] as number);
    const to = j === chars.length ? Math.max(from, endSec) : (start[j] as number);
    for (let k = i; k < j; k++) {
      start[k] = from + ((to - from) * (k - i)) / (j - i);
      end[k] = from + ((to - from) * (k - i + 1)) / (j - i);
    }
    i = j;
  }
  return { chars, startSec: start, durationSec: start.map((s, k) => (end[k] as number) - s) };
}
