/**
 * One context of the Cartesia emulator: its text buffer (`max_buffer_delay_ms`), speech generation with
 * `chunk` / `timestamps` / `flush_done` / `done` events, and its expiry once it has nothing left to say.
 */
import { SpeechGenerator } from '../../services/tts/offline/speech-generator.ts';
import type { WordTiming } from '../../services/tts/offline/word-timing.ts';
import type { SpeechCache } from './speech-cache.ts';
import {
  CartesiaRequestError,
  encodeCartesiaAudio,
  type CartesiaContextConfig,
  type CartesiaGenerationRequest,
} from './cartesia-emulator-wire.ts';

export interface CartesiaEmulatedSpeech {
  contextId: string;
  text: string;
  encoding: string;
  sampleRate: number;
  /** The piece's audio bytes as sent, in order. */
  audio: Uint8Array;
  /** Word timings from the start of this piece's audio. */
  words: WordTiming[];
}

/** Generation settings a context takes from the emulator's options (documented there). */
export interface ContextGeneration {
  ttfbMs?: number;
  realtimeFactor?: number;
  chunkMs?: number;
  onSpeech?: (speech: CartesiaEmulatedSpeech) => void;
}

/** What a context needs from its connection. */
export interface ContextOwner {
  readonly stats: { chunks: number };
  /** How long an idle context lives (`Infinity`: until done or cancel). */
  readonly contextExpiryMs: number;
  send(event: object): void;
  sendError(error: CartesiaRequestError, contextId: string | undefined): void;
  /** The context ended (done or failed). */
  forget(context: CartesiaContext): void;
  /** The context sat idle past its expiry. */
  expire(context: CartesiaContext): void;
}

interface ChunkTag {
  flushId: number;
  /** An empty marker segment: after everything before it, send `flush_done` or `done`. */
  marker?: 'flush' | 'done';
}

export class CartesiaContext {
  private pending = '';
  private flushId = 1;
  private bufferTimer: ReturnType<typeof setTimeout> | undefined;
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;
  /** `performance.now()` of the last chunk sent or input accepted: the expiry clock starts here. */
  private lastActivityAt = performance.now();
  private readonly generator: SpeechGenerator<ChunkTag>;
  inputClosed = false;

  constructor(
    readonly id: string,
    readonly config: CartesiaContextConfig,
    private readonly connection: ContextOwner,
    options: ContextGeneration,
    speechCache: SpeechCache | undefined,
  ) {
    const realtimeFactor = options.realtimeFactor ?? 4;
    const chunkMs = options.chunkMs ?? 40;
    this.generator = new SpeechGenerator<ChunkTag>(
      {
        sampleRate: config.sampleRate,
        speech: config.speech,
        chunkMs,
        firstChunkDelayMs: options.ttfbMs ?? 200,
        realtimeFactor,
        ...(speechCache ? { synthesize: speechCache.synthesize } : {}),
      },
      {
        onSegmentStart: (segment, pcm) => {
          if (!options.onSpeech || pcm.length === 0) return;
          options.onSpeech({
            contextId: id,
            text: segment.text,
            encoding: config.encoding,
            sampleRate: config.sampleRate,
            audio: encodeCartesiaAudio(pcm, config.encoding),
            words: segment.words.map((w) => ({
              ...w,
              startSec: round(w.startSec - segment.startSec),
              endSec: round(w.endSec - segment.startSec),
            })),
          });
        },
        onChunk: (chunk) => {
          this.lastActivityAt = performance.now();
          const data = Buffer.from(encodeCartesiaAudio(chunk.pcm, config.encoding)).toString('base64');
          const stepTime = Number.isFinite(realtimeFactor) ? Math.round((chunk.durationSec * 1000) / realtimeFactor) : 1;
          this.connection.stats.chunks++;
          this.connection.send({
            type: 'chunk',
            data,
            done: false,
            status_code: 206,
            step_time: stepTime,
            context_id: id,
            flush_id: chunk.segment.tag.flushId,
          });
          if (config.addTimestamps && chunk.words.length > 0) {
            this.connection.send({
              type: 'timestamps',
              done: false,
              status_code: 206,
              context_id: id,
              flush_id: chunk.segment.tag.flushId,
              word_timestamps: {
                words: chunk.words.map((w) => w.word),
                start: chunk.words.map((w) => w.startSec),
                end: chunk.words.map((w) => w.endSec),
              },
            });
          }
        },
        onSegmentEnd: (segment) => {
          if (segment.tag.marker === 'flush') {
            this.connection.send({
              type: 'flush_done',
              done: false,
              flush_done: true,
              flush_id: segment.tag.flushId,
              status_code: 206,
              context_id: id,
            });
          } else if (segment.tag.marker === 'done') {
            this.connection.send({ type: 'done', done: true, status_code: 206, context_id: id });
            this.connection.forget(this);
          }
        },
        onIdle: () => this.armExpiry(),
        onError: (error) => {
          this.connection.sendError(new CartesiaRequestError(500, 'internal_error', 'Generation failed', error.message), id);
          this.connection.forget(this);
        },
      },
    );
  }

  /** Applies one generation request (transcript, continue, flush). */
  accept(request: CartesiaGenerationRequest): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.lastActivityAt = performance.now();
    if (typeof request.transcript === 'string') this.pending += request.transcript;
    if (request.continue !== true) {
      // No `continue` (a one-shot request) or `continue: false`: speak everything, then `done`.
      this.inputClosed = true;
      this.release(this.pending);
      this.generator.enqueue('', { flushId: this.flushId, marker: 'done' });
      return;
    }
    if (request.flush === true) {
      this.release(this.pending);
      this.generator.enqueue('', { flushId: this.flushId, marker: 'flush' });
      this.flushId++;
      return;
    }
    if (this.config.maxBufferDelayMs === 0) return this.release(this.pending);
    // Whole sentences go now; an unfinished one waits for more text or the buffer delay.
    const match = /^[\s\S]*[.!?…]["')\]]*\s+/.exec(this.pending);
    if (match) this.release(match[0]);
    if (this.pending.trim() && !this.bufferTimer) {
      this.bufferTimer = setTimeout(() => {
        this.bufferTimer = undefined;
        this.release(this.pending);
      }, this.config.maxBufferDelayMs);
    }
    this.armExpiry();
  }

  cancel(): void {
    this.generator.cancel();
    clearTimeout(this.bufferTimer);
    clearTimeout(this.expiryTimer);
    this.bufferTimer = undefined;
    this.expiryTimer = undefined;
    this.pending = '';
  }

  /** Starts the expiry clock once the context has nothing left to say (and is still open for input). */
  private armExpiry(): void {
    const expiryMs = this.connection.contextExpiryMs;
    if (this.inputClosed || this.generator.busy || this.pending.trim() || this.bufferTimer || !Number.isFinite(expiryMs)) return;
    clearTimeout(this.expiryTimer);
    const wait = Math.max(0, this.lastActivityAt + expiryMs - performance.now());
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      this.connection.expire(this);
    }, wait);
  }

  private release(text: string): void {
    clearTimeout(this.bufferTimer);
    this.bufferTimer = undefined;
    this.pending = this.pending.slice(text.length);
    if (text.trim()) this.generator.enqueue(text, { flushId: this.flushId });
  }
}

function round(sec: number): number {
  return Math.round(sec * 1000) / 1000;
}
