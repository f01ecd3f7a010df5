/**
 * Cartesia TTS WebSocket wire details for the emulator: request validation with Cartesia's error shapes,
 * voices, and raw output encodings.
 */
import { alawEncode, mulawEncode } from '../../audio/g711.ts';
import { pcm16ToBytes } from '../../audio/pcm.ts';
import type { SpeechOptions } from '../../services/tts/offline/espeak-voice.ts';

export type CartesiaEncoding = 'pcm_s16le' | 'pcm_f32le' | 'pcm_mulaw' | 'pcm_alaw';
export const CARTESIA_ENCODINGS: readonly CartesiaEncoding[] = ['pcm_s16le', 'pcm_f32le', 'pcm_mulaw', 'pcm_alaw'];
export const CARTESIA_SAMPLE_RATES: readonly number[] = [8000, 16000, 22050, 24000, 44100, 48000];

/** A generation request as sent on the socket (fields we read). */
export interface CartesiaGenerationRequest {
  model_id?: unknown;
  transcript?: unknown;
  voice?: unknown;
  output_format?: unknown;
  context_id?: unknown;
  continue?: unknown;
  flush?: unknown;
  add_timestamps?: unknown;
  max_buffer_delay_ms?: unknown;
  language?: unknown;
  cancel?: unknown;
}

/** Context settings fixed by the first request on a context. */
export interface CartesiaContextConfig {
  modelId: string;
  voiceId: string;
  speech: SpeechOptions;
  encoding: CartesiaEncoding;
  sampleRate: number;
  addTimestamps: boolean;
  maxBufferDelayMs: number;
}

/** An error event body, as API version 2026-03-01+ sends it (older versions used `error` instead of title/message). */
export interface CartesiaErrorEvent {
  type: 'error';
  done: true;
  status_code: number;
  error_code: string | null;
  title: string;
  message: string;
  request_id: string;
  context_id?: string;
}

export class CartesiaRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

/** Model ids the emulator accepts: the sonic family, dated or not. */
const MODEL_PATTERN = /^sonic(-(english|multilingual|turbo|latest|2|3|3\.5|\d{4}-\d{2}-\d{2}))*$/;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** eSpeak voices given to unknown-but-well-formed voice ids, picked by a hash of the id. */
const FALLBACK_VOICES = ['en-us', 'en-us+f3', 'en-gb', 'en-us+m3', 'en-gb+f2'];

function voiceIdOf(voice: unknown): string | undefined {
  if (typeof voice === 'string') return voice;
  if (typeof voice !== 'object' || voice === null) return undefined;
  const v = voice as { mode?: unknown; id?: unknown };
  if (v.mode !== undefined && v.mode !== 'id') return undefined;
  return typeof v.id === 'string' ? v.id : undefined;
}

function hash(text: string): number {
  let h = 0;
  for (const ch of text) h = (h * 31 + (ch.codePointAt(0) as number)) >>> 0;
  return h;
}

/**
 * Validates the settings a context is created with. `voices`: known voice ids → eSpeak settings; when it
 * is undefined any UUID is accepted and mapped to a built-in voice.
 */
export function parseContextConfig(
  request: CartesiaGenerationRequest,
  voices: Record<string, SpeechOptions> | undefined,
): CartesiaContextConfig {
  const modelId = request.model_id;
  if (typeof modelId !== 'string' || !MODEL_PATTERN.test(modelId)) {
    throw new CartesiaRequestError(400, 'model_not_found', 'Invalid model', 'The model is not valid, make sure it is a valid model ID.');
  }
  const voiceId = voiceIdOf(request.voice);
  if (voiceId === undefined) {
    throw new CartesiaRequestError(400, 'invalid_request', 'Invalid voice', 'The voice specifier must be a voice ID.');
  }
  const known = voices?.[voiceId];
  if (voices ? !known : !UUID_PATTERN.test(voiceId)) {
    throw new CartesiaRequestError(404, 'voice_not_found', 'Voice not found', `The voice with ID ${voiceId} could not be found.`);
  }
  const format = request.output_format as { container?: unknown; encoding?: unknown; sample_rate?: unknown } | undefined;
  if (
    typeof format !== 'object' ||
    format === null ||
    format.container !== 'raw' ||
    !CARTESIA_ENCODINGS.includes(format.encoding as CartesiaEncoding) ||
    !CARTESIA_SAMPLE_RATES.includes(format.sample_rate as number)
  ) {
    throw new CartesiaRequestError(
      400,
      'invalid_output_format',
      'Invalid output format',
      'The WebSocket endpoint requires output_format with container "raw", an encoding of pcm_f32le, pcm_s16le, pcm_mulaw or pcm_alaw, and a supported sample_rate.',
    );
  }
  const delay = request.max_buffer_delay_ms;
  if (delay !== undefined && delay !== null && (typeof delay !== 'number' || delay < 0 || delay > 5000)) {
    throw new CartesiaRequestError(400, 'invalid_request', 'Invalid request', 'max_buffer_delay_ms must be between 0 and 5000.');
  }
  return {
    modelId,
    voiceId,
    speech: known ?? { voice: FALLBACK_VOICES[hash(voiceId) % FALLBACK_VOICES.length] as string },
    encoding: format.encoding as CartesiaEncoding,
    sampleRate: format.sample_rate as number,
    addTimestamps: request.add_timestamps === true,
    maxBufferDelayMs: typeof delay === 'number' ? delay : 3000,
  };
}

/** Encodes 16-bit PCM for the wire. */
export function encodeCartesiaAudio(pcm: Int16Array, encoding: CartesiaEncoding): Uint8Array {
  switch (encoding) {
    case 'pcm_s16le':
      return pcm16ToBytes(pcm);
    case 'pcm_mulaw':
      return mulawEncode(pcm);
    case 'pcm_alaw':
      return alawEncode(pcm);
    case 'pcm_f32le': {
      const bytes = new Uint8Array(pcm.length * 4);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < pcm.length; i++) view.setFloat32(i * 4, (pcm[i] as number) / 32768, true);
      return bytes;
    }
  }
}

export function errorEvent(error: CartesiaRequestError, requestId: string, contextId: string | undefined): CartesiaErrorEvent {
  return {
    type: 'error',
    done: true,
    status_code: error.status,
    error_code: error.code,
    title: error.title,
    message: error.message,
    request_id: requestId,
    ...(contextId === undefined ? {} : { context_id: contextId }),
  };
}
