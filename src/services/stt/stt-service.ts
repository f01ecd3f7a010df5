import type { Logger } from '../../log.ts';
import { SwitchboardError } from '../../errors.ts';

/**
 * Speech-to-text provider contract: a service creates one streaming {@link SttSession} per call.
 *
 * Timeline: every time in a session's events is in seconds on the **call's input timeline** — the position
 * in the caller's audio as given to {@link SttSession.sendAudio} (`atSec`), so muted stretches and provider
 * reconnections do not shift results against our VAD's timestamps.
 */

/** Audio encodings sessions take. `linear16` is 16-bit little-endian PCM. */
export type SttAudioEncoding = 'mulaw' | 'linear16';

export interface SttInputFormat {
  encoding: SttAudioEncoding;
  /** Hz, mono. */
  sampleRate: number;
}

export interface SttService {
  /** Provider name used in logs, metrics and errors (e.g. `deepgram`). */
  readonly provider: string;
  /**
   * The format sessions should be fed when the call's audio arrives as `source`. Returns `source` itself when
   * the provider takes it as is (Deepgram: μ-law and linear16 at any rate), so callers convert only when the
   * result differs.
   */
  inputFormatFor(source: SttInputFormat): SttInputFormat;
  createSession(options: SttSessionOptions): SttSession;
}

export interface SttSessionOptions {
  /** Carried by every error and log line. */
  callId: string;
  /** What {@link SttSession.sendAudio} will receive; normally `service.inputFormatFor(callAudio)`. */
  input: SttInputFormat;
  /** @default a silent logger */
  log?: Logger;
}

export interface SttWord {
  /** Normalised word (lower case, no punctuation) as the provider returns it. */
  word: string;
  /** With punctuation/casing when the provider formats (smart_format/punctuate); else equals `word`. */
  punctuated: string;
  startSec: number;
  endSec: number;
  confidence: number;
}

export interface SttTranscript {
  /** Empty for results on silence (providers report those too). */
  text: string;
  /** False for interim results, which later results revise. */
  final: boolean;
  /** The provider detected the end of the utterance (endpointing) on this final. */
  speechFinal: boolean;
  /** This final answers a {@link SttSession.finalize} request. */
  fromFinalize: boolean;
  /** 0…1. */
  confidence: number;
  language?: string;
  /** The span of audio this result covers, on the call's input timeline. */
  startSec: number;
  endSec: number;
  words: SttWord[];
}

export interface SttReconnectInfo {
  /** 1 for the first retry after a drop. */
  attempt: number;
  /** Backoff before this attempt. */
  delayMs: number;
  /** Why the previous connection ended. */
  cause: SttError;
}

export interface SttReconnectedInfo {
  attempt: number;
  /** Audio re-sent to the new connection: everything after the last final result. */
  replayedSec: number;
}

export interface SttCloseResult {
  /** Seconds of audio the session sent to the provider (each second counted once, replays excluded). */
  audioSec: number;
  /** The provider confirmed the end of the stream (Deepgram: Metadata + close 1000) within the timeout. */
  flushed: boolean;
  /** Provider request id of the last connection, when known. */
  requestId?: string;
}

/** Events of a session; listeners run synchronously on the socket's event. */
export interface SttSessionEvents {
  /** Connected (the first time). */
  open: { requestId?: string };
  transcript: SttTranscript;
  /** The provider's own VAD heard speech start (`atSec` on the call timeline). */
  speechStarted: { atSec: number };
  /** The provider saw a gap after the last word (`lastWordEndSec` on the call timeline). */
  utteranceEnd: { lastWordEndSec: number };
  /** A connection ended unexpectedly (non-fatal, a reconnect follows) or the session failed (`fatal`). */
  error: SttError;
  reconnecting: SttReconnectInfo;
  reconnected: SttReconnectedInfo;
}

export type SttEventName = keyof SttSessionEvents;
export type SttListener<K extends SttEventName> = (payload: SttSessionEvents[K]) => void;

/**
 * A streaming recognition session for one call. Audio may be sent at once (before the connection is up): the
 * session buffers it. Call {@link close} (graceful) or {@link abort} (immediate) exactly once at the end.
 */
export interface SttSession {
  readonly callId: string;
  readonly input: SttInputFormat;
  /** Starts connecting; resolves on the first open, rejects with a fatal {@link SttError}. */
  connect(): Promise<void>;
  /**
   * Audio in the session's input format. `atSec` = position of the chunk's first sample on the call's input
   * timeline; omit it for audio contiguous with the previous chunk. The bytes are copied; the caller may
   * reuse its buffer.
   */
  sendAudio(chunk: Uint8Array, atSec?: number): void;
  /** End of the user's turn: ask the provider to finalise what it has heard now. */
  finalize(): void;
  /** Send a keep-alive now (sessions also send them on their own while no audio flows). */
  keepAlive(): void;
  /** Flush: ask the provider for the remaining results and wait for them, at most `timeoutMs`. */
  close(timeoutMs?: number): Promise<SttCloseResult>;
  /** Close at once; no more events. */
  abort(): void;
  on<K extends SttEventName>(event: K, listener: SttListener<K>): () => void;
}

/**
 * A provider failure with the call, the provider, and the provider's own code where there is one. On the
 * shared base: `code` is the provider's code (or `stt_error`), `httpStatus` the handshake's rejection status
 * (null otherwise), and a failure is `retryable` unless it is `fatal`.
 */
export class SttError extends SwitchboardError {
  declare readonly callId: string;
  readonly provider: string;
  /** The session cannot continue (retries exhausted, or a rejection retrying cannot fix). */
  readonly fatal: boolean;
  /** WebSocket close code (e.g. 1011) when a connection closed. */
  readonly closeCode: number | undefined;
  /** Close reason from the provider (e.g. `NET-0001`). */
  readonly closeReason: string | undefined;

  constructor(
    message: string,
    details: {
      callId: string;
      provider: string;
      fatal: boolean;
      closeCode?: number;
      closeReason?: string;
      /** HTTP status when the handshake was rejected (401 bad key, 400 bad parameters). */
      httpStatus?: number;
      /** The provider's own error code when it sent one (OpenAI `error.code`, e.g. `invalid_api_key`). */
      providerCode?: string;
      cause?: unknown;
    },
  ) {
    super(`[${details.provider} call ${details.callId}] ${message}`, {
      code: details.providerCode ?? 'stt_error',
      callId: details.callId,
      httpStatus: details.httpStatus ?? null,
      providerCode: details.providerCode ?? null,
      retryable: !details.fatal,
      cause: details.cause,
    });
    this.provider = details.provider;
    this.fatal = details.fatal;
    this.closeCode = details.closeCode;
    this.closeReason = details.closeReason;
  }
}

/** Typed listener registry shared by session implementations. */
export class SttEvents {
  private readonly listeners: { [K in SttEventName]?: Array<SttListener<K>> } = {};

  on<K extends SttEventName>(event: K, listener: SttListener<K>): () => void {
    const list = (this.listeners[event] ??= []) as Array<SttListener<K>>;
    list.push(listener);
    return () => {
      const i = list.indexOf(listener);
      if (i >= 0) list.splice(i, 1);
    };
  }

  emit<K extends SttEventName>(event: K, payload: SttSessionEvents[K]): void {
    const list = this.listeners[event] as Array<SttListener<K>> | undefined;
    if (!list) return;
    for (const listener of list.slice()) listener(payload);
  }

  clear(): void {
    for (const key of Object.keys(this.listeners) as SttEventName[]) delete this.listeners[key];
  }
}
