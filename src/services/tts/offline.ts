/**
 * Offline TTS: the eSpeak voice behind the {@link TtsService} contract, for the sandbox and for running
 * with no provider account. Each pushed piece of text is synthesised as soon as it arrives (the processor
 * pushes whole sentences), streamed in chunks with word timings.
 */
import { getEspeakEngine } from './offline/espeak-engine.ts';
import type { SpeechOptions } from './offline/espeak-voice.ts';
import { SpeechGenerator } from './offline/speech-generator.ts';
import type { AudioPayload } from '../../pipeline/audio-payload.ts';
import { toPayload } from './audio-format.ts';
import type { WordTiming } from './offline/word-timing.ts';
import { BaseTtsStream, TtsError, type TtsService, type TtsStream, type TtsStreamListener, type TtsStreamOptions } from './tts-service.ts';

export interface OfflineTtsOptions {
  /** eSpeak voice, e.g. `en-us`, `en-gb`, `en-us+f3`. @default 'en-us' */
  voice?: string;
  /** Speaking rate. @default 175 */
  wordsPerMinute?: number;
  /** Base pitch 0–99. @default 50 */
  pitch?: number;
  /** Audio per chunk. @default 40 */
  chunkMs?: number;
  /** Simulated time to first audio of an utterance. @default 0 */
  firstAudioDelayMs?: number;
  /** Generation speed × real time; `Infinity` = as fast as the CPU allows. @default Infinity */
  realtimeFactor?: number;
  /**
   * Sees every synthesised piece of text with its whole audio (in the stream's format, exactly the samples
   * that will be delivered) and word timings from the piece's start — e.g. to register the bot's lines in
   * the sandbox's speech registry. @default undefined
   */
  onSpeech?: (speech: OfflineSpeech) => void;
}

export interface OfflineSpeech {
  utteranceId: string;
  text: string;
  audio: AudioPayload;
  /** Seconds from the start of the utterance's audio to this piece. */
  offsetSec: number;
  /** Word timings from the start of this piece. */
  words: WordTiming[];
}

class OfflineTtsStream extends BaseTtsStream {
  private readonly generator: SpeechGenerator<undefined>;
  private finishing = false;

  constructor(options: TtsStreamOptions, listener: TtsStreamListener, settings: OfflineTtsOptions) {
    super(options.utteranceId, options.format, listener);
    const speech: SpeechOptions = {
      voice: settings.voice ?? 'en-us',
      wordsPerMinute: settings.wordsPerMinute ?? 175,
      pitch: settings.pitch ?? 50,
    };
    this.generator = new SpeechGenerator(
      {
        sampleRate: options.format.sampleRate,
        speech,
        chunkMs: settings.chunkMs ?? 40,
        firstChunkDelayMs: settings.firstAudioDelayMs ?? 0,
        realtimeFactor: settings.realtimeFactor ?? Infinity,
      },
      {
        onSegmentStart: (segment, pcm) => {
          if (!settings.onSpeech || pcm.length === 0) return;
          settings.onSpeech({
            utteranceId: this.utteranceId,
            text: segment.text,
            audio: toPayload(pcm, this.format),
            offsetSec: segment.startSec,
            words: segment.words.map((w) => ({
              word: w.word,
              startSec: Math.round((w.startSec - segment.startSec) * 1000) / 1000,
              endSec: Math.round((w.endSec - segment.startSec) * 1000) / 1000,
            })),
          });
        },
        onChunk: (chunk) => {
          this.emitAudio(toPayload(chunk.pcm, this.format));
          this.emitWords(chunk.words);
        },
        onIdle: () => {
          if (this.finishing) this.emitDone();
        },
        onError: (error) =>
          this.emitError(
            new TtsError(error.message, { provider: 'offline', code: 'synthesis_failed', utteranceId: this.utteranceId, cause: error }),
          ),
      },
    );
  }

  protected sendText(text: string): void {
    this.generator.enqueue(text, undefined);
  }

  protected sendFlush(): void {
    // Text is generated as soon as it arrives: nothing is buffered.
  }

  protected sendFinish(): void {
    this.finishing = true;
    if (!this.generator.busy) this.emitDone();
  }

  protected sendCancel(): void {
    this.generator.cancel();
  }
}

export class OfflineTtsService implements TtsService {
  readonly provider = 'offline';
  private readonly streams = new Set<TtsStream>();

  constructor(private readonly options: OfflineTtsOptions = {}) {}

  /** Loads the eSpeak engine (once per process). */
  async connect(): Promise<void> {
    await getEspeakEngine();
  }

  createStream(options: TtsStreamOptions, listener: TtsStreamListener): TtsStream {
    for (const open of this.streams) if (open.state === 'cancelled') this.streams.delete(open);
    const stream: TtsStream = new OfflineTtsStream(
      options,
      (event) => {
        if (event.type === 'done' || event.type === 'error') this.streams.delete(stream);
        listener(event);
      },
      this.options,
    );
    this.streams.add(stream);
    return stream;
  }

  async close(): Promise<void> {
    for (const stream of this.streams) stream.cancel();
    this.streams.clear();
  }
}
