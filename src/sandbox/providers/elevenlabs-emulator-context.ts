/**
 * One context of the ElevenLabs emulator: its text buffer, generation schedule (chunk length schedule or
 * auto mode), flush and close semantics, and the per-chunk character alignment it sends.
 */
import type { SpeechOptions } from '../../services/tts/offline/espeak-voice.ts';
import { SpeechGenerator, type GeneratedChunk } from '../../services/tts/offline/speech-generator.ts';
import type { WordTiming } from '../../services/tts/offline/word-timing.ts';
import {
  charTimeline,
  ElevenLabsPolicyError,
  encodeElevenLabsAudio,
  replyKeys,
  type CharTimeline,
  type ElevenLabsKeyStyle,
  type RawOutputFormat,
} from './elevenlabs-emulator-wire.ts';

export interface ElevenLabsEmulatedSpeech {
  /** Context id; `undefined` on the single-context socket. */
  contextId: string | undefined;
  text: string;
  outputFormat: string;
  audio: Uint8Array;
  /** Word timings from the start of this piece's audio. */
  words: WordTiming[];
}

/** Generation settings a context takes from the emulator's options. */
export interface ContextGeneration {
  /** Time from the text that starts a generation to its first audio. @default 250 */
  ttfbMs?: number;
  /** Generation speed × real time. @default 4 */
  realtimeFactor?: number;
  /** Audio per message. @default 200 */
  chunkMs?: number;
  /** Spelling of the durations field in camelCase alignments. @default 'charDurationsMs' */
  durationsKey?: 'charDurationsMs' | 'charsDurationsMs';
  /** Spelling of reply keys, alignments included. @default 'camelCase' */
  keyStyle?: ElevenLabsKeyStyle;
  /** Sees every synthesised piece of text. @default undefined */
  onSpeech?: (speech: ElevenLabsEmulatedSpeech) => void;
}

/** What a context needs from its connection. */
export interface ContextOwner {
  sendAudio(context: ElevenLabsContext, audio: string, alignment: object | null): void;
  contextEnded(context: ElevenLabsContext): void;
  policyClose(error: ElevenLabsPolicyError): void;
}

export interface ClientMessage {
  text?: unknown;
  context_id?: unknown;
  flush?: unknown;
  close_context?: unknown;
  close_socket?: unknown;
  xi_api_key?: unknown;
  'xi-api-key'?: unknown;
  authorization?: unknown;
  generation_config?: { chunk_length_schedule?: unknown };
}

export interface Settings {
  voice: SpeechOptions;
  format: RawOutputFormat;
  outputFormat: string;
  autoMode: boolean;
  inactivitySec: number;
  multi: boolean;
}

type SegmentTag = CharTimeline;

export class ElevenLabsContext {
  private buffer = '';
  private schedule = [120, 160, 250, 290];
  private scheduleStep = 0;
  private readonly generator: SpeechGenerator<SegmentTag | undefined>;
  /** A flush is being generated: `close_context` lets it finish. */
  private flushing = false;
  private closing = false;
  private ended = false;

  constructor(
    readonly id: string | undefined,
    private readonly connection: ContextOwner,
    private readonly settings: Settings,
    private readonly options: ContextGeneration,
  ) {
    this.generator = new SpeechGenerator<SegmentTag | undefined>(
      {
        sampleRate: settings.format.sampleRate,
        speech: settings.voice,
        chunkMs: options.chunkMs ?? 200,
        firstChunkDelayMs: options.ttfbMs ?? 250,
        realtimeFactor: options.realtimeFactor ?? 4,
      },
      {
        onSegmentStart: (segment, pcm) => {
          segment.tag = charTimeline(segment.text, segment.words, segment.startSec, segment.startSec + segment.durationSec);
          if (!options.onSpeech || pcm.length === 0) return;
          options.onSpeech({
            contextId: id,
            text: segment.text,
            outputFormat: settings.outputFormat,
            audio: encodeElevenLabsAudio(pcm, settings.format),
            words: segment.words.map((w) => ({ ...w, startSec: w.startSec - segment.startSec, endSec: w.endSec - segment.startSec })),
          });
        },
        onChunk: (chunk) => this.sendChunk(chunk),
        onIdle: () => {
          this.flushing = false;
          if (this.closing) this.end();
        },
        onError: (error) => this.connection.policyClose(new ElevenLabsPolicyError(1011, 'internal_error', error.message)),
      },
    );
  }

  configure(message: ClientMessage): void {
    const schedule = message.generation_config?.chunk_length_schedule;
    if (Array.isArray(schedule) && schedule.length > 0 && schedule.every((n) => typeof n === 'number')) {
      this.schedule = schedule as number[];
    }
  }

  /** Appends text and generates whatever the schedule (or auto mode) says is ready. */
  addText(text: string): void {
    if (this.closing || this.ended) return;
    this.buffer += text;
    if (this.settings.autoMode) {
      const match = /^[\s\S]*[.!?…]["')\]]*\s+/.exec(this.buffer);
      if (match) this.release(match[0].length);
      return;
    }
    const threshold = this.schedule[Math.min(this.scheduleStep, this.schedule.length - 1)] as number;
    if (this.buffer.trim().length >= threshold) {
      const cut = this.buffer.lastIndexOf(' ');
      if (cut > 0) {
        this.release(cut + 1);
        this.scheduleStep++;
      }
    }
  }

  flush(): void {
    if (this.closing || this.ended) return;
    this.release(this.buffer.length);
    // Everything submitted so far (including text auto mode already started) is now "set to flush".
    if (this.generator.busy) this.flushing = true;
  }

  /** `close_context`: finish a flush in progress, drop everything else, then `isFinal`. */
  close(): void {
    if (this.closing || this.ended) return;
    this.closing = true;
    this.buffer = '';
    if (this.flushing && this.generator.busy) return; // onIdle ends it
    this.generator.cancel();
    this.end();
  }

  /** End of input on the single-context socket (`{"text": ""}`): speak everything, then `isFinal`. */
  finishInput(): void {
    this.flush();
    this.closing = true;
    if (!this.generator.busy) this.end();
  }

  /** Stops without a word (socket gone). */
  abort(): void {
    this.ended = true;
    this.generator.cancel();
  }

  get active(): boolean {
    return !this.ended;
  }

  get hasFlush(): boolean {
    return this.flushing && this.generator.busy;
  }

  private release(length: number): void {
    const text = this.buffer.slice(0, length);
    this.buffer = this.buffer.slice(length);
    if (text.trim()) this.generator.enqueue(text, undefined);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.connection.contextEnded(this);
  }

  private sendChunk(chunk: GeneratedChunk<SegmentTag | undefined>): void {
    const timeline = chunk.segment.tag;
    const chars: string[] = [];
    const starts: number[] = [];
    const durations: number[] = [];
    if (timeline) {
      const chunkEnd = chunk.startSec + chunk.durationSec;
      timeline.chars.forEach((ch, i) => {
        const at = timeline.startSec[i] as number;
        if (at < chunk.startSec - 1e-9 || (!chunk.last && at >= chunkEnd - 1e-9)) return;
        chars.push(ch);
        starts.push(Math.max(0, Math.round((at - chunk.startSec) * 1000)));
        durations.push(Math.max(0, Math.round((timeline.durationSec[i] as number) * 1000)));
      });
    }
    const keys = replyKeys(this.options.keyStyle ?? 'camelCase', this.options.durationsKey);
    const alignment = chars.length > 0 ? { chars, [keys.charStartTimesMs]: starts, [keys.charDurationsMs]: durations } : null;
    this.connection.sendAudio(this, Buffer.from(encodeElevenLabsAudio(chunk.pcm, this.settings.format)).toString('base64'), alignment);
  }
}
