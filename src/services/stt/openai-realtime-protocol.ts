import type {
  RealtimeAudioFormats,
  RealtimeError,
  RealtimeTranscriptionSessionAudioInputTurnDetection,
  SessionUpdateEvent,
} from 'openai/resources/realtime/realtime';
import type { ReconnectSettings } from './reconnect-policy.ts';
import type { SttInputFormat } from './stt-service.ts';
import { SttError } from './stt-service.ts';

/**
 * Wire facts of OpenAI Realtime **transcription** sessions, the options of {@link OpenAIRealtimeSttService}, and how
 * failures become {@link SttError}s.
 *
 * Verified (types: the `openai` npm package 6.49.0, `resources/realtime/realtime.d.ts`, imported here so the
 * compiler checks our frames against them; behaviour: OpenAI's realtime-transcription guide and public issue
 * threads):
 * - URL `wss://api.openai.com/v1/realtime?intent=transcription` **without** `model` (a `model` query opens a
 *   conversation session, which rejects the transcription update: "You must not provide a model parameter for
 *   transcription sessions", openai/openai-python#2253); `Authorization: Bearer <key>`; no beta header (GA).
 * - `session.update` with `session.type: "transcription"`, `audio.input.format` (`audio/pcmu` = 8 kHz μ-law,
 *   `audio/pcma`, or `audio/pcm` at 24 kHz only), `audio.input.transcription {model, language?, prompt?}`,
 *   `audio.input.turn_detection` (`server_vad` {threshold 0.5, prefix_padding_ms 300, silence_duration_ms 500
 *   by default}, `semantic_vad`, or null = the client commits), `audio.input.noise_reduction`, and
 *   `include: ["item.input_audio_transcription.logprobs"]`.
 * - Server events: `input_audio_buffer.speech_started {audio_start_ms, item_id}` / `speech_stopped
 *   {audio_end_ms, item_id}` (ms of all audio appended during the session, prefix padding included),
 *   `input_audio_buffer.committed {item_id, previous_item_id}`, then
 *   `conversation.item.input_audio_transcription.delta {item_id, content_index?, delta?, logprobs?}` and
 *   `.completed {item_id, content_index, transcript, usage, logprobs?}` or `.failed {item_id, content_index,
 *   error}`; `error {error: {type, code, message, param, event_id}}`. No word timings are sent.
 * - A commit of under 100 ms of audio fails with code `input_audio_buffer_commit_empty`.
 *
 * Why no SDK client: the official `OpenAIRealtimeWS` (openai ≤ 6.49, the last line that runs on Node 20) always
 * appends `?model=` (or `?call_id=`) to the URL and offers no other query, so it cannot open a transcription
 * session. The session uses a thin `ws` client instead (ws is what the SDK itself uses); it accepts `ws:` as well
 * as `wss:` base URLs, so emulators need no TLS.
 */
export interface OpenAISttOptions {
  /** @default process.env.OPENAI_API_KEY */
  apiKey?: string;
  /** Realtime base URL; `/realtime?intent=transcription` is appended (`http(s)` maps to `ws(s)`). @default 'wss://api.openai.com/v1' */
  baseUrl?: string;
  /** Transcription model (`gpt-4o-transcribe`, `gpt-4o-mini-transcribe`, `whisper-1`…). @default 'gpt-4o-transcribe' */
  model?: string;
  /** ISO-639-1 language of the caller; improves accuracy and latency. `''` lets the model detect it. @default 'en' */
  language?: string;
  /** Free-text hint for the gpt-4o models (keywords for whisper-1). @default none */
  prompt?: string;
  /**
   * Provider turn detection: server VAD commits each utterance itself (the analogue of Deepgram's endpointing),
   * `null` leaves every commit to {@link SttSession.finalize}. Fields left out take OpenAI's defaults.
   * @default { type: 'server_vad', silence_duration_ms: 500 }
   */
  turnDetection?: RealtimeTranscriptionSessionAudioInputTurnDetection | null;
  /** Input noise reduction (`near_field` suits handsets). @default none */
  noiseReduction?: 'near_field' | 'far_field';
  /** Ask for token logprobs; the transcript's confidence is derived from them. @default true */
  logprobs?: boolean;
  /** Audio goes out in messages of at least this much (each one is base64 inside JSON). @default 40 */
  sendIntervalMs?: number;
  /** WebSocket ping cadence while no audio flows (OpenAI has no application keep-alive message). @default 10000 */
  keepAliveIntervalMs?: number;
  /** Handshake timeout per connection attempt. @default 5000 */
  connectTimeoutMs?: number;
  /** Default wait for outstanding transcriptions in {@link SttSession.close}. @default 3000 */
  closeTimeoutMs?: number;
  /** Untranscribed audio kept for replay after a drop. @default 30 */
  maxReplaySec?: number;
  /** Own reconnection with replay after a drop. @default see ReconnectSettings */
  reconnect?: ReconnectSettings;
  /** TLS trust for this connection only (an emulator's certificate as `ca`). @default system CAs, verified */
  tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean };
}

export const OPENAI_STT_PROVIDER = 'openai';
export const DEFAULT_OPENAI_STT_MODEL = 'gpt-4o-transcribe';
export const DEFAULT_OPENAI_REALTIME_BASE_URL = 'wss://api.openai.com/v1';
/** OpenAI refuses commits of less audio than this. */
export const MIN_COMMIT_MS = 100;

/** `{base}/realtime?intent=transcription` with an http(s) base mapped to ws(s). */
export function transcriptionUrl(baseUrl = DEFAULT_OPENAI_REALTIME_BASE_URL): string {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/realtime`);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  url.searchParams.set('intent', 'transcription');
  return url.toString();
}

/** 8 kHz μ-law goes as `audio/pcmu` untouched; anything else as 24 kHz PCM, the only PCM rate accepted. */
export function openAIInputFormatFor(source: SttInputFormat): SttInputFormat {
  if (source.encoding === 'mulaw' && source.sampleRate === 8000) return source;
  return { encoding: 'linear16', sampleRate: 24_000 };
}

export function audioFormatFor(input: SttInputFormat): RealtimeAudioFormats {
  if (input.encoding === 'mulaw' && input.sampleRate === 8000) return { type: 'audio/pcmu' };
  if (input.encoding === 'linear16' && input.sampleRate === 24_000) return { type: 'audio/pcm', rate: 24_000 };
  throw new Error(`OpenAI Realtime takes 8 kHz μ-law or 24 kHz PCM, not ${input.encoding} at ${input.sampleRate} Hz`);
}

/** The `session.update` that turns the connection into a transcription session. */
export function transcriptionSessionUpdate(options: OpenAISttOptions, input: SttInputFormat, eventId: string): SessionUpdateEvent {
  const language = options.language ?? 'en';
  const turnDetection =
    options.turnDetection === undefined ? { type: 'server_vad' as const, silence_duration_ms: 500 } : options.turnDetection;
  return {
    type: 'session.update',
    event_id: eventId,
    session: {
      type: 'transcription',
      audio: {
        input: {
          format: audioFormatFor(input),
          transcription: {
            model: options.model ?? DEFAULT_OPENAI_STT_MODEL,
            ...(language ? { language } : {}),
            ...(options.prompt ? { prompt: options.prompt } : {}),
          },
          turn_detection: turnDetection,
          ...(options.noiseReduction ? { noise_reduction: { type: options.noiseReduction } } : {}),
        },
      },
      ...(options.logprobs === false ? {} : { include: ['item.input_audio_transcription.logprobs' as const] }),
    },
  };
}

/** Mean token probability (0…1) from logprobs; undefined without any. */
export function confidenceFromLogprobs(logprobs: ReadonlyArray<{ logprob: number }> | null | undefined): number | undefined {
  if (!logprobs || logprobs.length === 0) return undefined;
  const mean = logprobs.reduce((sum, p) => sum + p.logprob, 0) / logprobs.length;
  return Math.min(1, Math.max(0, Math.exp(mean)));
}

/** Codes no retry can fix: the session fails. */
const FATAL_CODES = new Set(['invalid_api_key', 'insufficient_quota', 'model_not_found', 'unsupported_country_region_territory']);

type ErrorContext = { callId: string; provider: string };

/** An `error` event as an SttError. Errors about our `session.update` are fatal: the configuration is wrong. */
export function errorFromEvent(error: RealtimeError, context: ErrorContext & { aboutSessionUpdate: boolean }): SttError {
  const code = error.code ?? undefined;
  const param = error.param ? ` (param ${error.param})` : '';
  return new SttError(`OpenAI error ${code ?? error.type}: ${error.message}${param}`, {
    callId: context.callId,
    provider: context.provider,
    fatal: context.aboutSessionUpdate || (code !== undefined && FATAL_CODES.has(code)),
    ...(code ? { providerCode: code } : {}),
  });
}

/** How a connection ended, as the socket reported it. */
export interface RealtimeConnectionEnd {
  /** The session was configured (`session.updated` arrived). */
  ready: boolean;
  /** HTTP status and parsed `{error}` body when the upgrade was refused. */
  rejected?: { status: number; error?: Partial<RealtimeError> };
  error?: Error;
  close?: { code: number; reason: string };
}

/**
 * Turns a connection's end into an error. A refused upgrade carries OpenAI's JSON error body (401
 * `invalid_api_key`); 4xx other than 408/429 are fatal since retrying cannot fix them.
 */
export function describeConnectionEnd(end: RealtimeConnectionEnd, context: ErrorContext & { connectTimeoutMs: number }): SttError {
  const base = { callId: context.callId, provider: context.provider, cause: end.error };
  if (end.rejected) {
    const { status, error } = end.rejected;
    const code = typeof error?.code === 'string' ? error.code : undefined;
    const hint = status === 401 || status === 403 ? ' (check OPENAI_API_KEY)' : '';
    const detail = error?.message ? `: ${error.message}` : '';
    const fatal = (status >= 400 && status < 500 && status !== 408 && status !== 429) || (code !== undefined && FATAL_CODES.has(code));
    return new SttError(`OpenAI rejected the connection: HTTP ${status}${hint}${detail}`, {
      ...base,
      fatal,
      httpStatus: status,
      ...(code ? { providerCode: code } : {}),
    });
  }
  const message = end.error?.message ?? '';
  if (/Opening handshake has timed out/i.test(message)) {
    return new SttError(`connection timed out after ${context.connectTimeoutMs} ms`, { ...base, fatal: false });
  }
  if (message && !end.close) return new SttError(`connection failed: ${message}`, { ...base, fatal: false });
  const code = end.close?.code;
  const reason = end.close?.reason ?? '';
  return new SttError(`connection closed ${code ?? '?'}${reason ? ` ${reason}` : ''}${message ? `: ${message}` : ''}`, {
    ...base,
    fatal: false,
    ...(code !== undefined ? { closeCode: code } : {}),
    ...(reason ? { closeReason: reason } : {}),
  });
}
