/**
 * The pipeline's text-to-speech stage.
 *
 * Input: `llm.response.start {responseId}` opens an utterance (id = responseId); its `llm.text` tokens are
 * grouped into sentences ({@link SentenceAggregator}), normalised for speech and pushed to one provider
 * stream; `llm.response.end` speaks the rest and finishes the stream. `tts.speak {text, utteranceId?}` is an
 * utterance of its own (without an id it gets `<callId>-tts<n>`, and is passed on carrying it).
 *
 * Output, per utterance and in this order: `tts.started`, then `tts.audio` chunks interleaved with one
 * `tts.text` per word (timed from the start of the utterance's audio), then `tts.stopped`. The input frames
 * themselves (`llm.response.*`, `llm.text`, `tts.speak`) travel on in the utterance's place. Utterances come
 * out one after another: a later one's audio is held until the earlier one is done. Every other downstream
 * frame keeps its place relative to the audio: a frame that arrives while an utterance is still speaking
 * leaves after that utterance's audio. System frames and upstream frames pass at once.
 *
 * Interruption: every in-flight provider context is cancelled at once, pending text and audio are dropped,
 * nothing more is emitted for those utterances, held frames that survive interruptions are released, and the
 * interruption travels on. `end`: the open utterance is finished and `end` waits (at most `endTimeoutMs`)
 * for its last audio. Provider errors become non-fatal error frames (with the provider's code) and the
 * utterance ends with `tts.stopped`; the next utterance works normally.
 *
 * Metrics: `ttfb` (first text sent → first audio) per utterance, `tts-usage` characters sent per utterance.
 */
import type { Direction, Frame, FrameOf } from '../../pipeline/frames.ts';
import { isInterruptible, makeFrame } from '../../pipeline/frames.ts';
import { FrameProcessor } from '../../pipeline/processor.ts';
import type { TtsAudioFormat, TtsEncoding } from './audio-format.ts';
import { normalizeForSpeech } from './normalize.ts';
import { SentenceAggregator, type SentenceAggregatorOptions } from './sentence-aggregator.ts';
import { TtsError, type TtsService, type TtsStream, type TtsStreamEvent } from './tts-service.ts';

export interface TtsProcessorOptions {
  service: TtsService;
  /**
   * Audio encoding sent downstream, at the `start` frame's `audioOutSampleRate`. `auto`: μ-law at 8 kHz
   * (telephony, no transcoding on the way to the carrier), 16-bit PCM at other rates.
   * @default 'auto'
   */
  encoding?: 'auto' | TtsEncoding;
  /** How LLM tokens are grouped before TTS. @default {} (see SentenceAggregator's defaults) */
  aggregator?: SentenceAggregatorOptions;
  /** Rewrites each sentence before TTS; `null` sends text unchanged. Word frames carry the rewritten words. @default normalizeForSpeech */
  normalize?: ((text: string) => string) | null;
  /** Longest wait on `end` for the last utterance's audio before cancelling it. @default 10_000 */
  endTimeoutMs?: number;
  /**
   * An utterance whose provider owes audio (text sent and no audio yet, or finished and not done) and
   * reports nothing for this long fails with a `timeout` error, so later utterances are not blocked.
   * @default 15_000
   */
  stallTimeoutMs?: number;
  /** Processor name in logs, errors and metrics. @default 'TtsProcessor' */
  name?: string;
}

type Timer = ReturnType<typeof setTimeout>;

/** One utterance: its provider stream and the frames waiting for their turn to leave. */
class Utterance {
  stream: TtsStream | undefined;
  /** Output frames held until every earlier utterance has finished. */
  pending: Frame[] = [];
  /** No more text will come. */
  inputDone = false;
  /** The provider is done with it (or failed, or it had nothing to say). */
  finished = false;
  cancelled = false;
  started = false;
  firstTextAtMs: number | undefined;
  gotAudio = false;
  characters = 0;
  stallTimer: Timer | undefined;

  constructor(
    readonly id: string,
    readonly aggregator: SentenceAggregator | undefined,
  ) {}
}

type Slot = { utterance: Utterance } | { frame: Frame };

export class TtsProcessor extends FrameProcessor {
  private readonly options: TtsProcessorOptions;
  private readonly normalize: (text: string) => string;
  private format: TtsAudioFormat = { encoding: 'mulaw', sampleRate: 8000 };
  /** Output order: utterances and the frames that arrived between them. */
  private slots: Slot[] = [];
  /** The LLM response whose tokens are arriving. */
  private current: Utterance | undefined;
  private speakSeq = 0;
  private drained: (() => void) | undefined;

  constructor(options: TtsProcessorOptions) {
    super(options.name ?? 'TtsProcessor');
    this.options = options;
    this.normalize = options.normalize === null ? (text) => text : (options.normalize ?? normalizeForSpeech);
  }

  /** The format of `tts.audio` payloads (known after `start`). */
  get audioFormat(): TtsAudioFormat {
    return this.format;
  }

  protected override onStart(frame: FrameOf<'start'>): void {
    const rate = frame.audioOutSampleRate;
    const encoding = this.options.encoding ?? 'auto';
    this.format = { encoding: encoding === 'auto' ? (rate === 8000 ? 'mulaw' : 'pcm16') : encoding, sampleRate: rate };
    // Connect in the background: the first utterance is usually seconds away, and streams connect on demand.
    this.options.service.connect(this.format).catch((error: unknown) => this.pushError(error));
  }

  protected override processFrame(frame: Frame, direction: Direction): void {
    if (direction === 'upstream' || frame.category === 'system') return this.pushFrame(frame, direction);
    switch (frame.type) {
      case 'llm.response.start': {
        if (this.current) this.finishInput(this.current);
        const utterance = new Utterance(frame.responseId, new SentenceAggregator(this.options.aggregator));
        this.current = utterance;
        this.slots.push({ utterance });
        this.emit(utterance, frame);
        return;
      }
      case 'llm.text': {
        const utterance = this.current;
        if (!utterance) return this.passThrough(frame);
        this.emit(utterance, frame);
        for (const sentence of utterance.aggregator?.push(frame.text) ?? []) this.speak(utterance, sentence);
        return;
      }
      case 'llm.response.end': {
        const utterance = this.current;
        if (!utterance || utterance.id !== frame.responseId) return this.passThrough(frame);
        this.current = undefined;
        this.emit(utterance, frame);
        this.finishInput(utterance);
        return;
      }
      case 'tts.speak': {
        const utterance = new Utterance(frame.utteranceId ?? `${this.callId}-tts${++this.speakSeq}`, undefined);
        this.slots.push({ utterance });
        // Passed on with the id it got, so later stages can match it to the audio.
        this.emit(utterance, frame.utteranceId ? frame : makeFrame('tts.speak', { text: frame.text, utteranceId: utterance.id }));
        this.speak(utterance, frame.text);
        this.finishInput(utterance);
        return;
      }
      default:
        return this.passThrough(frame);
    }
  }

  protected override onInterruption(): void {
    const held = this.slots;
    this.slots = [];
    this.current = undefined;
    for (const slot of held) {
      if ('frame' in slot) {
        // Frames that survive interruptions were only waiting for audio that is now dropped.
        if (!isInterruptible(slot.frame)) this.pushFrame(slot.frame);
        continue;
      }
      this.abandon(slot.utterance);
    }
    this.checkDrained();
  }

  protected override async onEnd(): Promise<void> {
    if (this.current) {
      this.finishInput(this.current);
      this.current = undefined;
    }
    if (this.slots.length === 0) return;
    const timeoutMs = this.options.endTimeoutMs ?? 10_000;
    let timer: Timer | undefined;
    const drained = new Promise<boolean>((resolve) => {
      this.drained = () => resolve(true);
      timer = this.setTimer(() => resolve(false), timeoutMs);
    });
    const inTime = await drained;
    this.clearTimer(timer);
    this.drained = undefined;
    if (inTime) return;
    this.log.warn({ callId: this.callId, processor: this.name, timeoutMs }, 'end: TTS audio did not finish in time; cancelling');
    const held = this.slots;
    this.slots = [];
    for (const slot of held) {
      if ('frame' in slot) this.pushFrame(slot.frame);
      else this.abandon(slot.utterance);
    }
  }

  protected override onStop(): void {
    for (const slot of this.slots) if ('utterance' in slot) this.abandon(slot.utterance);
    this.slots = [];
    this.current = undefined;
    this.options.service.close().catch((error: unknown) => {
      this.log.warn({ callId: this.callId, processor: this.name, err: error }, 'closing the TTS service failed');
    });
  }

  /** Sends one sentence (or the whole `tts.speak` text) to the utterance's stream. */
  private speak(utterance: Utterance, raw: string): void {
    const text = this.normalize(raw).trim();
    if (!text || utterance.cancelled || utterance.finished) return;
    if (!utterance.stream) {
      this.emit(utterance, makeFrame('tts.started', { utteranceId: utterance.id }));
      utterance.started = true;
      try {
        utterance.stream = this.options.service.createStream({ utteranceId: utterance.id, format: this.format }, (event) =>
          this.onStreamEvent(utterance, event),
        );
      } catch (error) {
        this.fail(utterance, error);
        return;
      }
    }
    utterance.firstTextAtMs ??= performance.now();
    utterance.characters += text.length;
    if (!utterance.gotAudio) this.armStall(utterance);
    // Providers concatenate pieces verbatim: the space keeps sentences apart.
    utterance.stream.pushText(`${text} `);
  }

  /** No more text for this utterance: speak what the aggregator still holds and finish the stream. */
  private finishInput(utterance: Utterance): void {
    if (utterance.inputDone) return;
    const rest = utterance.aggregator?.flush();
    if (rest) this.speak(utterance, rest);
    utterance.inputDone = true;
    if (utterance.finished || utterance.cancelled) return;
    if (!utterance.stream) {
      // Nothing was said (empty reply): it ends without any audio frames.
      utterance.finished = true;
      this.advance();
      return;
    }
    this.armStall(utterance);
    utterance.stream.finish();
  }

  private onStreamEvent(utterance: Utterance, event: TtsStreamEvent): void {
    if (utterance.cancelled || utterance.finished || this.isStopped) return;
    switch (event.type) {
      case 'audio':
        if (!utterance.gotAudio) {
          utterance.gotAudio = true;
          const valueMs = performance.now() - (utterance.firstTextAtMs ?? performance.now());
          this.pushFrame(makeFrame('metrics', { data: [{ kind: 'ttfb', processor: this.name, valueMs }] }));
        }
        // Finished: the rest is owed. Still open: audio caught up with the text; more waits on the LLM.
        if (utterance.inputDone) this.armStall(utterance);
        else {
          this.clearTimer(utterance.stallTimer);
          utterance.stallTimer = undefined;
        }
        this.emit(utterance, makeFrame('tts.audio', { audio: event.audio, utteranceId: utterance.id }));
        return;
      case 'words':
        for (const word of event.words) {
          this.emit(
            utterance,
            makeFrame('tts.text', { utteranceId: utterance.id, text: word.word, startSec: word.startSec, endSec: word.endSec }),
          );
        }
        return;
      case 'done':
        this.complete(utterance);
        return;
      case 'error':
        this.fail(utterance, event.error);
        return;
    }
  }

  private fail(utterance: Utterance, error: unknown): void {
    const err =
      error instanceof Error
        ? error
        : new TtsError(String(error), { provider: this.options.service.provider, code: 'unknown', utteranceId: utterance.id });
    this.pushError(err);
    utterance.stream?.cancel();
    this.complete(utterance);
  }

  private complete(utterance: Utterance): void {
    if (utterance.finished) return;
    this.clearTimer(utterance.stallTimer);
    utterance.stallTimer = undefined;
    utterance.finished = true;
    if (utterance.started) this.emit(utterance, makeFrame('tts.stopped', { utteranceId: utterance.id }));
    this.reportUsage(utterance);
    this.advance();
  }

  /** Cancels an utterance (barge-in, end timeout, stop): nothing more is emitted for it. */
  private abandon(utterance: Utterance): void {
    if (utterance.cancelled) return;
    utterance.cancelled = true;
    utterance.pending = [];
    this.clearTimer(utterance.stallTimer);
    utterance.stallTimer = undefined;
    utterance.aggregator?.reset();
    if (!utterance.finished) {
      utterance.stream?.cancel();
      this.reportUsage(utterance);
    }
  }

  private reportUsage(utterance: Utterance): void {
    if (utterance.characters === 0 || this.isStopped) return;
    const characters = utterance.characters;
    utterance.characters = 0;
    this.pushFrame(makeFrame('metrics', { data: [{ kind: 'tts-usage', processor: this.name, characters }] }));
  }

  private armStall(utterance: Utterance): void {
    this.clearTimer(utterance.stallTimer);
    const timeoutMs = this.options.stallTimeoutMs ?? 15_000;
    utterance.stallTimer = this.setTimer(() => {
      utterance.stallTimer = undefined;
      if (utterance.finished || utterance.cancelled) return;
      this.fail(
        utterance,
        new TtsError(`no audio for ${timeoutMs} ms`, {
          provider: this.options.service.provider,
          code: 'timeout',
          utteranceId: utterance.id,
        }),
      );
    }, timeoutMs);
  }

  /** Emits a frame in the utterance's place: now if it is the oldest unfinished slot, else later. */
  private emit(utterance: Utterance, frame: Frame): void {
    if (utterance.cancelled) return;
    const head = this.slots[0];
    if (head && 'utterance' in head && head.utterance === utterance) this.pushFrame(frame);
    else utterance.pending.push(frame);
  }

  private passThrough(frame: Frame): void {
    if (this.slots.length === 0) this.pushFrame(frame);
    else this.slots.push({ frame });
  }

  /** Releases everything whose turn has come. */
  private advance(): void {
    while (this.slots.length > 0) {
      const head = this.slots[0] as Slot;
      if ('frame' in head) {
        this.slots.shift();
        this.pushFrame(head.frame);
        continue;
      }
      const utterance = head.utterance;
      const pending = utterance.pending;
      utterance.pending = [];
      for (const frame of pending) this.pushFrame(frame);
      if (!utterance.finished) break;
      this.slots.shift();
    }
    this.checkDrained();
  }

  private checkDrained(): void {
    if (this.slots.length === 0) this.drained?.();
  }
}
