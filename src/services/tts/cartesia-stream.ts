/**
 * One utterance on Cartesia: text pushed to a provider context with `continue: true`, then
 * `no_more_inputs`, audio and word timestamps read back from the context.
 *
 * Cartesia expires a context 1 s after its last audio went out, and input on an expired context is "not
 * supported" (docs.cartesia.ai, Contexts). When the LLM pauses longer than that between two sentences,
 * the utterance continues on a new context (`<utteranceId>~2`, `~3`, …), and its word timestamps (seconds
 * from that context's start) are moved by the audio the earlier contexts produced, so the utterance keeps
 * one timeline and playback truth stays exact:
 * - before sending, a context idle (no input sent, no event back, its last input answered) for
 *   `reopenAfterIdleMs` is not continued: the text goes to a new context, and the old one is told
 *   `no_more_inputs` (it ends with `done` if still alive);
 * - if an input reaches an expired context anyway (network delay), the service answers with an error event:
 *   the text sent since that context's last audio goes again on a new context;
 * - events of a newer context wait until every older context has ended (`done`, error, or silent for
 *   `expiryMs`, after which Cartesia has dropped it), so audio never interleaves.
 */
import type { TTSWS, TTSWSContext } from '@cartesia/cartesia-js/resources/tts/ws';
import type { WebsocketResponse } from '@cartesia/cartesia-js/resources/tts';
import type { Clock, ClockTimer } from '../../util/clock.ts';
import { AudioConverter, type TtsAudioFormat } from './audio-format.ts';
import { BaseTtsStream, TtsError, type TtsStreamListener, type TtsStreamOptions } from './tts-service.ts';

/** What a stream needs from its service. */
export interface CartesiaStreamHost {
  /** Registers a provider context with the utterance's settings on `socket`. */
  openContext(socket: TTSWS, contextId: string, native: TtsAudioFormat & { cartesiaEncoding: string }): TTSWSContext;
  /** Sends `push` with the service's generation settings. */
  push(context: TTSWSContext, transcript: string): Promise<void>;
  wrap(error: unknown, utteranceId: string): TtsError;
  forget(stream: CartesiaStream): void;
}

export interface CartesiaStreamTiming {
  /** See `CartesiaTtsOptions.reopenAfterIdleMs`. */
  reopenAfterIdleMs: number;
  /** See `CartesiaTtsOptions.contextExpiryMs`. */
  expiryMs: number;
  clock: Clock;
}

/** One provider context of the utterance. */
interface Part {
  context: TTSWSContext;
  /** Clock time (ms) of the last input sent or event received. */
  lastActivityAt: number;
  /** The service answered something on it (so its settings were accepted). */
  answered: boolean;
  /** Audio arrived after the last input went out: the service is not still working on that input. */
  heardSinceInput: boolean;
  /** Text sent since the last audio arrived: what an expired context dropped. */
  unvoiced: string[];
  /** Native-format seconds of audio delivered from it. */
  audioSec: number;
  finishSent: boolean;
  /** No further event will come (done, error, cancel, or silent past expiry). */
  ended: boolean;
  /** Events waiting for the parts before it to end. */
  held: WebsocketResponse[];
  expiryTimer: ClockTimer | undefined;
}

/** Cartesia's native raw formats: μ-law or 16-bit PCM at its listed rates; anything else is converted. */
function nativeFormat(format: TtsAudioFormat): TtsAudioFormat & { cartesiaEncoding: 'pcm_mulaw' | 'pcm_s16le' } {
  const rates = [8000, 16000, 22050, 24000, 44100, 48000];
  if (rates.includes(format.sampleRate)) {
    return { ...format, cartesiaEncoding: format.encoding === 'mulaw' ? 'pcm_mulaw' : 'pcm_s16le' };
  }
  return { encoding: 'pcm16', sampleRate: 24000, cartesiaEncoding: 'pcm_s16le' };
}

export class CartesiaStream extends BaseTtsStream {
  private socket: TTSWS | undefined;
  /** Oldest first; the last one takes new text. Parts leave from the front once ended and delivered. */
  private readonly parts: Part[] = [];
  private contextCount = 0;
  /** Seconds of utterance audio before the front part. */
  private offsetSec = 0;
  /** Sends in order; the first waits for the connection. */
  private chain: Promise<void>;
  private attach!: () => void;
  private readonly converter: AudioConverter;
  private quiet = false;
  private advancing = false;
  readonly native: ReturnType<typeof nativeFormat>;

  constructor(
    options: TtsStreamOptions,
    listener: TtsStreamListener,
    private readonly host: CartesiaStreamHost,
    private readonly timing: CartesiaStreamTiming,
  ) {
    super(options.utteranceId, options.format, listener);
    this.native = nativeFormat(options.format);
    this.converter = new AudioConverter(this.native, options.format);
    this.chain = new Promise<void>((resolve) => (this.attach = resolve));
  }

  /** The connection is up: opens the first provider context. */
  start(socket: TTSWS): void {
    this.socket = socket;
    this.openPart();
    this.attach();
  }

  /** The connection failed or dropped. */
  lost(error: TtsError): void {
    if (this.closed) return;
    this.release();
    this.emitError(error);
  }

  /** Cancels without telling the provider (the connection is being closed). */
  abandon(): void {
    this.quiet = true;
    this.cancel();
  }

  protected sendText(text: string): void {
    this.send(async () => {
      let part = this.lastPart();
      if (part.ended || this.isIdle(part)) part = this.reopen();
      this.noteInput(part, text);
      await this.host.push(part.context, text);
    });
  }

  protected sendFlush(): void {
    this.send(async () => {
      const part = this.lastPart();
      // An idle context has nothing buffered, and it may have expired.
      if (part.ended || this.isIdle(part)) return;
      await part.context.flush();
    });
  }

  protected sendFinish(): void {
    this.send(async () => {
      const part = this.lastPart();
      if (part.ended || this.isIdle(part)) {
        // Everything sent was spoken and the context may have expired: end it here, once it can no longer
        // produce audio, instead of sending to it.
        part.finishSent = true;
        this.armExpiry(part);
        return;
      }
      part.finishSent = true;
      part.lastActivityAt = this.timing.clock.now();
      await part.context.no_more_inputs();
    });
  }

  protected sendCancel(): void {
    for (const part of this.parts) {
      if (part.ended) continue;
      // The SDK unregisters the context (ending its read loop) and sends {"cancel": true}.
      if (this.quiet) this.socket?._unregisterContext(part.context.contextId);
      else void part.context.cancel();
    }
    this.release();
    this.host.forget(this);
  }

  private lastPart(): Part {
    return this.parts.at(-1) as Part;
  }

  /** The context said all it had to say and has been silent long enough that Cartesia may drop it soon. */
  private isIdle(part: Part): boolean {
    return part.answered && part.heardSinceInput && this.timing.clock.now() - part.lastActivityAt >= this.timing.reopenAfterIdleMs;
  }

  private openPart(): Part {
    const socket = this.socket as TTSWS;
    this.contextCount++;
    const id = this.contextCount === 1 ? this.utteranceId : `${this.utteranceId}~${this.contextCount}`;
    const part: Part = {
      context: this.host.openContext(socket, id, this.native),
      lastActivityAt: this.timing.clock.now(),
      answered: false,
      heardSinceInput: false,
      unvoiced: [],
      audioSec: 0,
      finishSent: false,
      ended: false,
      held: [],
      expiryTimer: undefined,
    };
    this.parts.push(part);
    void this.read(part);
    return part;
  }

  /** Moves on to a new context; the old one is ended if it is still alive. */
  private reopen(): Part {
    const old = this.lastPart();
    if (!old.ended && !old.finishSent) {
      old.finishSent = true;
      old.context.no_more_inputs().catch(() => undefined); // answered by done, or an error if it had expired
    }
    if (!old.ended) this.armExpiry(old);
    return this.openPart();
  }

  private noteInput(part: Part, text: string): void {
    part.unvoiced.push(text);
    part.heardSinceInput = false;
    part.lastActivityAt = this.timing.clock.now();
    this.timing.clock.clearTimeout(part.expiryTimer);
    part.expiryTimer = undefined;
  }

  private send(action: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.closed || this.parts.length === 0) return;
      await action();
    });
    this.chain.catch((error: unknown) => this.lost(this.host.wrap(error, this.utteranceId)));
  }

  private async read(part: Part): Promise<void> {
    try {
      for await (const event of part.context.receive()) {
        if (this.closed || part.ended) return;
        this.observe(part, event);
      }
    } catch {
      // receive() throws after yielding an error event, which observe() already handled.
    }
  }

  /** Bookkeeping on arrival (what the service has done), then delivery in utterance order. */
  private observe(part: Part, event: WebsocketResponse): void {
    part.lastActivityAt = this.timing.clock.now();
    switch (event.type) {
      case 'chunk':
        part.answered = true;
        part.heardSinceInput = true;
        part.unvoiced.length = 0;
        break;
      case 'timestamps':
      case 'flush_done':
      case 'phoneme_timestamps':
        part.answered = true;
        break;
      case 'error':
        this.onError(part, event);
        return;
      case 'done':
        break;
    }
    if (part.expiryTimer) this.armExpiry(part);
    if (part === this.parts[0]) this.deliver(part, event);
    else part.held.push(event);
  }

  private onError(part: Part, event: WebsocketResponse.Error): void {
    const isCurrent = part === this.lastPart();
    if (!isCurrent || (part.answered && part.finishSent && part.unvoiced.length === 0)) {
      // An older context (ended by reopen) or an end sent to a context that had spoken everything: it had
      // expired, and nothing was lost.
      this.end(part);
      return;
    }
    if (part.answered && part.unvoiced.length > 0) {
      // The context expired before our text reached it: say that text on a new context.
      const texts = part.unvoiced.splice(0);
      const finishing = part.finishSent;
      const next = this.openPart(); // first, so that ending the old one does not end the utterance
      this.end(part);
      this.send(async () => {
        for (const text of texts) {
          this.noteInput(next, text);
          await this.host.push(next.context, text);
        }
        if (finishing) {
          next.finishSent = true;
          await next.context.no_more_inputs();
        }
      });
      return;
    }
    this.emitError(
      new TtsError(event.message || event.title, {
        provider: 'cartesia',
        code: event.error_code ?? event.title ?? 'error',
        status: event.status_code,
        utteranceId: this.utteranceId,
      }),
    );
    this.release();
    this.host.forget(this);
  }

  /** Delivers an event of the front part. */
  private deliver(part: Part, event: WebsocketResponse): void {
    switch (event.type) {
      case 'chunk': {
        const bytes = event.audio ?? Buffer.from(event.data, 'base64');
        part.audioSec += bytes.length / (this.native.encoding === 'mulaw' ? 1 : 2) / this.native.sampleRate;
        this.emitAudio(this.converter.push(bytes));
        return;
      }
      case 'timestamps': {
        const timestamps = event.word_timestamps;
        if (!timestamps) return;
        const offset = this.offsetSec;
        this.emitWords(
          timestamps.words.map((word, i) => ({
            word,
            startSec: round(offset + (timestamps.start[i] ?? 0)),
            endSec: round(offset + (timestamps.end[i] ?? 0)),
          })),
        );
        return;
      }
      case 'done':
        this.end(part);
        return;
      default:
        return; // flush_done, phoneme_timestamps
    }
  }

  /** No further event from this part: when it is the front one, the next part's held events go out. */
  private end(part: Part): void {
    if (part.ended) return;
    part.ended = true;
    this.timing.clock.clearTimeout(part.expiryTimer);
    part.expiryTimer = undefined;
    this.socket?._unregisterContext(part.context.contextId);
    this.advance();
  }

  private advance(): void {
    if (this.advancing) return; // the running loop sees the change
    this.advancing = true;
    try {
      this.advanceParts();
    } finally {
      this.advancing = false;
    }
  }

  private advanceParts(): void {
    for (;;) {
      const front = this.parts[0];
      if (!front?.ended || this.closed) return;
      if (front === this.lastPart()) {
        // The last context ended: the utterance is done when it was finished, otherwise it failed quietly
        // (a context error already reported) or more text will reopen one.
        if (front.finishSent && this.state === 'finishing') {
          this.emitAudio(this.converter.flush());
          this.emitDone();
          this.release();
          this.host.forget(this);
        }
        return;
      }
      this.parts.shift();
      this.offsetSec += front.audioSec;
      const next = this.parts[0] as Part;
      for (const event of next.held.splice(0)) {
        if (this.closed) return;
        this.deliver(next, event);
      }
    }
  }

  /** Ends a part once it has been silent for the expiry time (Cartesia has dropped it by then). */
  private armExpiry(part: Part): void {
    this.timing.clock.clearTimeout(part.expiryTimer);
    const wait = Math.max(0, part.lastActivityAt + this.timing.expiryMs - this.timing.clock.now());
    part.expiryTimer = this.timing.clock.setTimeout(() => {
      part.expiryTimer = undefined;
      if (this.timing.clock.now() - part.lastActivityAt >= this.timing.expiryMs - 1) this.end(part);
      else this.armExpiry(part);
    }, wait);
  }

  /** Stops listening on every context and clears timers. */
  private release(): void {
    for (const part of this.parts) {
      this.timing.clock.clearTimeout(part.expiryTimer);
      part.expiryTimer = undefined;
      if (!part.ended) this.socket?._unregisterContext(part.context.contextId);
      part.ended = true;
    }
  }
}

function round(sec: number): number {
  return Math.round(sec * 1e6) / 1e6;
}
