import type { AudioTranscription } from 'openai/resources/realtime/realtime';
import type { RealtimeInputFormat } from './openai-realtime-emulator-audio.ts';

/** The effective configuration of an emulated transcription session. */
export interface TranscriptionSessionConfig {
  format: RealtimeInputFormat;
  /** null: no transcription (OpenAI's default until a model is set). */
  transcription: AudioTranscription | null;
  /** null: the client commits. `semantic_vad` is emulated as server VAD with an eagerness-based silence. */
  turnDetection: { threshold: number; prefixPaddingMs: number; silenceDurationMs: number } | null;
  noiseReduction: 'near_field' | 'far_field' | null;
  logprobs: boolean;
}

/** A `session.update` the server refuses; becomes an `error` event with this code and param. */
export class SessionUpdateError extends Error {
  constructor(
    readonly code: string,
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = 'SessionUpdateError';
  }
}

/** Transcription models the API lists for `audio.input.transcription.model` (openai 6.49 `AudioTranscription`). */
export const TRANSCRIPTION_MODELS = new Set([
  'whisper-1',
  'gpt-4o-transcribe',
  'gpt-4o-mini-transcribe',
  'gpt-4o-mini-transcribe-2025-12-15',
  'gpt-4o-transcribe-diarize',
  'gpt-realtime-whisper',
]);

const FORMATS = new Set<string>(['audio/pcm', 'audio/pcmu', 'audio/pcma']);
/** Silence before semantic VAD ends a turn, by eagerness (its documented maxima are 8/4/2 s; typical ends come far sooner). */
const SEMANTIC_SILENCE_MS: Record<string, number> = { low: 1000, medium: 500, auto: 500, high: 250 };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(param: string, value: unknown, expected: string): never {
  throw new SessionUpdateError('invalid_value', param, `Invalid value: ${JSON.stringify(value)} for '${param}'. ${expected}`);
}

/**
 * Applies a GA transcription `session.update` to `current` (null: OpenAI's defaults — 24 kHz PCM, no
 * transcription, server VAD 0.5/300 ms/500 ms). Fields left out keep their value; `null` turns turn detection,
 * transcription or noise reduction off. Refusals use OpenAI's usual codes (`invalid_value`,
 * `missing_required_parameter`) with the field's path as `param`; the exact wording is the emulator's.
 */
export function parseSessionUpdate(session: unknown, current: TranscriptionSessionConfig | null): TranscriptionSessionConfig {
  const next: TranscriptionSessionConfig = current
    ? { ...current }
    : {
        format: 'audio/pcm',
        transcription: null,
        turnDetection: { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 500 },
        noiseReduction: null,
        logprobs: false,
      };
  if (session === undefined && current === null) return next;
  if (!isObject(session)) throw new SessionUpdateError('missing_required_parameter', 'session', "Missing required parameter: 'session'.");
  if (session.type !== 'transcription') {
    invalid('session.type', session.type, "This connection was opened with intent=transcription: use 'transcription'.");
  }
  const input = isObject(session.audio) && isObject(session.audio.input) ? session.audio.input : {};
  if (input.format !== undefined) {
    const format = input.format;
    if (!isObject(format) || typeof format.type !== 'string' || !FORMATS.has(format.type)) {
      invalid(
        'session.audio.input.format.type',
        isObject(format) ? format.type : format,
        "Supported values are: 'audio/pcm', 'audio/pcmu' and 'audio/pcma'.",
      );
    }
    if (format.type === 'audio/pcm' && format.rate !== undefined && format.rate !== 24_000) {
      invalid('session.audio.input.format.rate', format.rate, 'Only 24000 is supported.');
    }
    next.format = format.type as RealtimeInputFormat;
  }
  if (input.transcription === null) next.transcription = null;
  else if (input.transcription !== undefined) {
    const t = input.transcription;
    if (!isObject(t)) return invalid('session.audio.input.transcription', t, 'Expected an object or null.');
    if (typeof t.model !== 'string' || !TRANSCRIPTION_MODELS.has(t.model)) {
      invalid(
        'session.audio.input.transcription.model',
        t.model,
        `Supported values are: ${[...TRANSCRIPTION_MODELS].map((m) => `'${m}'`).join(', ')}.`,
      );
    }
    if (t.language !== undefined && (typeof t.language !== 'string' || !/^[a-z]{2,3}$/.test(t.language))) {
      invalid('session.audio.input.transcription.language', t.language, 'Expected an ISO-639-1 code such as "en".');
    }
    next.transcription = {
      model: t.model,
      ...(typeof t.language === 'string' ? { language: t.language } : {}),
      ...(typeof t.prompt === 'string' ? { prompt: t.prompt } : {}),
    };
  }
  if (input.turn_detection === null) next.turnDetection = null;
  else if (input.turn_detection !== undefined) next.turnDetection = parseTurnDetection(input.turn_detection);
  if (input.noise_reduction === null) next.noiseReduction = null;
  else if (isObject(input.noise_reduction)) {
    const type = input.noise_reduction.type;
    if (type !== 'near_field' && type !== 'far_field')
      invalid('session.audio.input.noise_reduction.type', type, "Supported values are: 'near_field' and 'far_field'.");
    next.noiseReduction = type;
  }
  if (session.include !== undefined) {
    const include = session.include;
    if (include !== null && (!Array.isArray(include) || include.some((v) => v !== 'item.input_audio_transcription.logprobs'))) {
      invalid('session.include', include, "Supported values are: 'item.input_audio_transcription.logprobs'.");
    }
    next.logprobs = Array.isArray(include) && include.length > 0;
  }
  if (next.transcription?.model === 'gpt-realtime-whisper' && next.turnDetection) {
    invalid('session.audio.input.turn_detection', 'server_vad', 'gpt-realtime-whisper transcription sessions need turn_detection null.');
  }
  return next;
}

function parseTurnDetection(value: unknown): NonNullable<TranscriptionSessionConfig['turnDetection']> {
  if (!isObject(value)) return invalid('session.audio.input.turn_detection', value, 'Expected an object or null.');
  if (value.type === 'semantic_vad') {
    const eagerness = typeof value.eagerness === 'string' ? value.eagerness : 'auto';
    const silence = SEMANTIC_SILENCE_MS[eagerness];
    if (silence === undefined)
      invalid('session.audio.input.turn_detection.eagerness', eagerness, "Supported values are: 'low', 'medium', 'high' and 'auto'.");
    return { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: silence };
  }
  if (value.type !== 'server_vad')
    invalid('session.audio.input.turn_detection.type', value.type, "Supported values are: 'server_vad' and 'semantic_vad'.");
  const number = (key: string, fallback: number, min: number, max: number): number => {
    const v = value[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || v < min || v > max)
      invalid(`session.audio.input.turn_detection.${key}`, v, `Expected a number from ${min} to ${max}.`);
    return v;
  };
  return {
    threshold: number('threshold', 0.5, 0, 1),
    prefixPaddingMs: number('prefix_padding_ms', 300, 0, 10_000),
    silenceDurationMs: number('silence_duration_ms', 500, 0, 10_000),
  };
}
