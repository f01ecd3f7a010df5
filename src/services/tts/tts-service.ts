/**
 * The text-to-speech service contract every provider implements (Cartesia, ElevenLabs, offline eSpeak).
 *
 * - A {@link TtsService} lives for one call and may hold a WebSocket for the whole call.
 * - Each utterance (one bot reply, or one `tts.speak`) is a {@link TtsStream}: one provider context that
 *   text is pushed to incrementally (sentence by sentence), then finished — or cancelled on barge-in.
 * - A stream reports, through its listener, audio in the format asked for, word timings relative to the
 *   start of the utterance's audio, then exactly one terminal event: `done` or `error`. After `cancel()`
 *   nothing at all is reported.
 */
import type { AudioPayload } from '../../pipeline/audio-payload.ts';
import type { TtsAudioFormat } from './audio-format.ts';
import { SwitchboardError } from '../../errors.ts';

export type { TtsAudioFormat, TtsEncoding } from './audio-format.ts';

/** A spoken word and where it sits on its utterance's audio timeline. */
export interface TtsWord {
  word: string;
  /** Seconds from the first sample of the utterance's audio. */
  startSec: number;
  endSec: number;
}

export type TtsStreamEvent =
  /** Audio in the stream's format; chunks are contiguous and in order. */
  | { type: 'audio'; audio: AudioPayload }
  /** Timings of words spoken so far (each word reported once, in order). */
  | { type: 'words'; words: TtsWord[] }
  /** All audio for the pushed text has been delivered (after {@link TtsStream.finish}). Terminal. */
  | { type: 'done' }
  /** The provider failed this utterance. Terminal. */
  | { type: 'error'; error: TtsError };

export type TtsStreamListener = (event: TtsStreamEvent) => void;

export interface TtsStreamOptions {
  /** Becomes the provider's context id; unique per service. */
  utteranceId: string;
  /** Audio format the listener receives; a provider that cannot produce it natively converts. */
  format: TtsAudioFormat;
}

export type TtsStreamState = 'open' | 'finishing' | 'done' | 'cancelled' | 'failed';

/** One utterance on one provider context. */
export interface TtsStream {
  readonly utteranceId: string;
  readonly format: TtsAudioFormat;
  readonly state: TtsStreamState;
  /**
   * Appends text to the utterance. Sent as is: pieces are concatenated verbatim, so include the space
   * between sentences. Ignored unless the stream is open.
   */
  pushText(text: string): void;
  /** Asks the provider to generate everything pushed so far without waiting for more text. */
  flush(): void;
  /** No more text: the provider speaks the rest and the stream ends with `done`. */
  finish(): void;
  /** Stops now (barge-in): tells the provider to drop the context; no further event is reported. */
  cancel(): void;
}

/** A provider connection for one call. */
export interface TtsService {
  /** Provider name for logs, metrics and errors: `cartesia`, `elevenlabs`, `offline`. */
  readonly provider: string;
  /**
   * Connects ahead of the first utterance (optional: streams connect on demand). `format`: what streams
   * will most likely ask for (providers whose output format is per connection pick it from this).
   */
  connect(format?: TtsAudioFormat): Promise<void>;
  /** Opens an utterance. Failures (connection, provider errors) arrive as an `error` event, never a throw. */
  createStream(options: TtsStreamOptions, listener: TtsStreamListener): TtsStream;
  /** Cancels open streams and closes connections. The service is not used afterwards. */
  close(): Promise<void>;
}

/**
 * A provider failure with the provider's own error code when it gave one (also the base's `code` and
 * `providerCode`); `status` is the base's `httpStatus`. Retryable when the provider answered 429 or 5xx.
 */
export class TtsError extends SwitchboardError {
  readonly provider: string;
  /** Provider error code (`model_not_found`, `max_active_conversations`, WebSocket close code…) or ours. */
  declare readonly code: string;
  /** HTTP-like status the provider reported, if any. */
  readonly status: number | undefined;
  readonly utteranceId: string | undefined;

  constructor(message: string, details: { provider: string; code: string; status?: number; utteranceId?: string; cause?: unknown }) {
    super(`${details.provider}: ${message} (${details.code})`, {
      code: details.code,
      httpStatus: details.status ?? null,
      providerCode: details.code,
      retryable: details.status !== undefined && (details.status === 429 || details.status >= 500),
      cause: details.cause,
    });
    this.provider = details.provider;
    this.status = details.status;
    this.utteranceId = details.utteranceId;
  }
}

/**
 * Shared bookkeeping for provider streams: state transitions and the rule that nothing is reported after
 * a terminal event or a cancel. Providers implement the `send*` hooks and call the `emit*` methods.
 */
export abstract class BaseTtsStream implements TtsStream {
  private current: TtsStreamState = 'open';

  constructor(
    readonly utteranceId: string,
    readonly format: TtsAudioFormat,
    private readonly listener: TtsStreamListener,
  ) {}

  get state(): TtsStreamState {
    return this.current;
  }

  /** True once no more events may be reported. */
  get closed(): boolean {
    return this.current === 'done' || this.current === 'cancelled' || this.current === 'failed';
  }

  pushText(text: string): void {
    if (this.current !== 'open' || text.length === 0) return;
    this.sendText(text);
  }

  flush(): void {
    if (this.current === 'open') this.sendFlush();
  }

  finish(): void {
    if (this.current !== 'open') return;
    this.current = 'finishing';
    this.sendFinish();
  }

  cancel(): void {
    if (this.closed) return;
    this.current = 'cancelled';
    this.sendCancel();
  }

  protected abstract sendText(text: string): void;
  protected abstract sendFlush(): void;
  protected abstract sendFinish(): void;
  protected abstract sendCancel(): void;

  protected emitAudio(audio: AudioPayload | undefined): void {
    if (audio && !this.closed) this.listener({ type: 'audio', audio });
  }

  protected emitWords(words: TtsWord[]): void {
    if (words.length > 0 && !this.closed) this.listener({ type: 'words', words });
  }

  protected emitDone(): void {
    if (this.closed) return;
    this.current = 'done';
    this.listener({ type: 'done' });
  }

  protected emitError(error: TtsError): void {
    if (this.closed) return;
    this.current = 'failed';
    this.listener({ type: 'error', error });
  }
}
