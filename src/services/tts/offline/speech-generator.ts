/**
 * Streams eSpeak speech for a queue of text segments the way a hosted TTS does: an optional time to first
 * byte, then fixed-size audio chunks paced at a chosen multiple of real time, with word timings on one
 * timeline across all segments. Shared by the offline TTS service and the provider emulators.
 */
import { resampleWhole } from '../../../audio/pcm.ts';
import { getEspeakEngine, type EspeakEngine } from './espeak-engine.ts';
import { synthesizeWith, type SpeechOptions, type SynthesizedSpeech } from './espeak-voice.ts';
import type { WordTiming } from './word-timing.ts';
import { systemClock, type Clock, type ClockTimer } from '../../../util/clock.ts';

/** One queued piece of text after synthesis. */
export interface GeneratedSegment<Tag> {
  text: string;
  tag: Tag;
  /** Where the segment starts on the generator's timeline (seconds of audio before it). */
  startSec: number;
  durationSec: number;
  /** Word timings on the generator's timeline. */
  words: WordTiming[];
}

export interface GeneratedChunk<Tag> {
  /** 16-bit mono PCM at the generator's sample rate. */
  pcm: Int16Array;
  startSec: number;
  durationSec: number;
  /** Words that start inside this chunk (the segment's last chunk also takes any later ones). */
  words: WordTiming[];
  segment: GeneratedSegment<Tag>;
  /** True for the segment's last chunk. */
  last: boolean;
}

export interface SpeechGeneratorHandlers<Tag> {
  /** A segment was synthesised; its chunks follow. `pcm` is the whole segment at the output rate. */
  onSegmentStart?(segment: GeneratedSegment<Tag>, pcm: Int16Array): void;
  onChunk(chunk: GeneratedChunk<Tag>): void;
  /** After the last chunk of a segment (also for segments with nothing to say). */
  onSegmentEnd?(segment: GeneratedSegment<Tag>): void;
  /** The queue ran empty. */
  onIdle?(): void;
  /** Synthesis failed (e.g. unknown voice); the generator stops. */
  onError?(error: Error): void;
}

export interface SpeechGeneratorOptions {
  /** Output sample rate. */
  sampleRate: number;
  /** eSpeak voice and rate. @default {} (en-us, 175 wpm, word timings on) */
  speech?: SpeechOptions;
  /** Audio per chunk. @default 100 */
  chunkMs?: number;
  /** Delay before the first chunk whenever generation starts from idle (time to first byte). @default 0 */
  firstChunkDelayMs?: number;
  /** Generation speed as a multiple of real time; `Infinity` sends chunks as fast as possible. @default Infinity */
  realtimeFactor?: number;
  /**
   * Turns text into speech, at `sampleRate` or any rate (it is resampled to `sampleRate` if it differs).
   * E.g. a memo cache in front of eSpeak, as the sandbox emulators use; the result is only read, never
   * modified. @default synthesizeWith
   */
  synthesize?: (engine: EspeakEngine, text: string, speech: SpeechOptions | undefined, sampleRate: number) => SynthesizedSpeech;
  /** Time for the first-chunk delay and pacing. @default systemClock */
  clock?: Clock;
}

interface Queued<Tag> {
  text: string;
  tag: Tag;
}

export class SpeechGenerator<Tag = undefined> {
  private readonly queue: Array<Queued<Tag>> = [];
  private running = false;
  private stopped = false;
  private timer: ClockTimer | undefined;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private cursorSec = 0;
  /** When the first chunk after idle may go (clock ms); undefined once it went. */
  private firstChunkAt: number | undefined;
  /**
   * Pacing is kept against the time the run's first chunk went out, not chunk to chunk, so timer lateness and
   * synthesis time between segments never add up: chunk n is due at `paceOrigin + (audio before it) / factor`.
   */
  private paceOrigin: number | undefined;
  private pacedMs = 0;
  private readonly clock: Clock;
  private readonly chunkMs: number;
  private readonly realtimeFactor: number;

  constructor(
    private readonly options: SpeechGeneratorOptions,
    private readonly handlers: SpeechGeneratorHandlers<Tag>,
  ) {
    this.chunkMs = options.chunkMs ?? 100;
    this.realtimeFactor = options.realtimeFactor ?? Infinity;
    this.clock = options.clock ?? systemClock;
  }

  /** Seconds of audio generated so far (the timeline position of the next segment). */
  get generatedSec(): number {
    return this.cursorSec;
  }

  /** True while segments are queued or being sent. */
  get busy(): boolean {
    return this.running;
  }

  /** Queues text to speak after everything queued before it. */
  enqueue(text: string, tag: Tag): void {
    if (this.stopped) return;
    this.queue.push({ text, tag });
    if (this.running) return;
    this.running = true;
    // Synthesis time counts towards the time to first byte; the rest of the delay is waited out after it.
    this.firstChunkAt = this.clock.now() + (this.options.firstChunkDelayMs ?? 0);
    this.paceOrigin = undefined;
    this.pacedMs = 0;
    this.schedule(() => void this.nextSegment(), 0);
  }

  /** Stops at once: drops queued text, sends nothing more. */
  cancel(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.running = false;
    this.clock.clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private schedule(step: () => void, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs > 0) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        step();
      }, delayMs);
    } else {
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        step();
      });
    }
  }

  private async nextSegment(): Promise<void> {
    if (this.stopped) return;
    const item = this.queue.shift();
    if (!item) {
      this.running = false;
      this.handlers.onIdle?.();
      return;
    }
    let segment: GeneratedSegment<Tag>;
    let pcm: Int16Array;
    try {
      const engine = await getEspeakEngine();
      if (this.stopped) return;
      const synthesize = this.options.synthesize ?? synthesizeWith;
      const speech = item.text.trim() ? synthesize(engine, item.text, this.options.speech, this.options.sampleRate) : undefined;
      pcm = speech ? resampleWhole(speech.pcm, speech.sampleRate, this.options.sampleRate) : new Int16Array(0);
      const startSec = this.cursorSec;
      const durationSec = pcm.length / this.options.sampleRate;
      const words = (speech?.words ?? []).map((w) => ({
        word: w.word,
        startSec: round(startSec + w.startSec),
        endSec: round(startSec + w.endSec),
      }));
      segment = { text: item.text, tag: item.tag, startSec, durationSec, words };
      this.cursorSec += durationSec;
    } catch (error) {
      this.cancel();
      this.handlers.onError?.(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.handlers.onSegmentStart?.(segment, pcm);
    const now = this.clock.now();
    const wait =
      this.firstChunkAt !== undefined ? this.firstChunkAt - now : this.paceOrigin !== undefined ? this.paceOrigin + this.pacedMs - now : 0;
    if (pcm.length > 0) this.firstChunkAt = undefined;
    if (wait > 0) this.schedule(() => this.sendChunk(segment, pcm, 0), wait);
    else this.sendChunk(segment, pcm, 0);
  }

  private sendChunk(segment: GeneratedSegment<Tag>, pcm: Int16Array, from: number): void {
    if (this.stopped) return;
    const rate = this.options.sampleRate;
    if (pcm.length === 0) {
      this.handlers.onSegmentEnd?.(segment);
      this.schedule(() => void this.nextSegment(), 0);
      return;
    }
    const size = Math.max(1, Math.round((rate * this.chunkMs) / 1000));
    const to = Math.min(pcm.length, from + size);
    const last = to === pcm.length;
    const startSec = segment.startSec + from / rate;
    const endSec = segment.startSec + to / rate;
    const words = segment.words.filter((w) => w.startSec >= startSec - 1e-9 && (last || w.startSec < endSec - 1e-9));
    this.paceOrigin ??= this.clock.now();
    this.handlers.onChunk({ pcm: pcm.slice(from, to), startSec, durationSec: (to - from) / rate, words, segment, last });
    if (this.stopped) return;
    let pace = 0;
    if (Number.isFinite(this.realtimeFactor)) {
      this.pacedMs += ((to - from) / rate) * (1000 / this.realtimeFactor);
      pace = Math.max(0, this.paceOrigin + this.pacedMs - this.clock.now());
    }
    if (last) {
      this.handlers.onSegmentEnd?.(segment);
      this.schedule(() => void this.nextSegment(), pace);
    } else {
      this.schedule(() => this.sendChunk(segment, pcm, to), pace);
    }
  }
}

function round(sec: number): number {
  return Math.round(sec * 1000) / 1000;
}
