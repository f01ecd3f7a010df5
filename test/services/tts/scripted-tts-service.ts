/**
 * A TTS service whose streams the test drives by hand: it records what the processor sends and lets the test
 * decide when audio, words, done and errors arrive.
 */
import {
  BaseTtsStream,
  type TtsError,
  type TtsService,
  type TtsStream,
  type TtsStreamListener,
  type TtsStreamOptions,
  type TtsWord,
} from '../../../src/services/tts/tts-service.ts';

export class ScriptedStream extends BaseTtsStream {
  readonly texts: string[] = [];
  finished = false;
  cancelled = false;

  protected sendText(text: string): void {
    this.texts.push(text);
  }
  protected sendFlush(): void {}
  protected sendFinish(): void {
    this.finished = true;
  }
  protected sendCancel(): void {
    this.cancelled = true;
  }

  /** 20 ms of a 440 Hz tone per call, in the stream's format. */
  audio(ms = 20): void {
    const n = Math.round((this.format.sampleRate * ms) / 1000);
    const pcm = new Int16Array(n);
    for (let i = 0; i < n; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / this.format.sampleRate));
    this.emitAudio({ sampleRate: this.format.sampleRate, channels: 1, pcm });
  }
  words(words: TtsWord[]): void {
    this.emitWords(words);
  }
  done(): void {
    this.emitDone();
  }
  error(error: TtsError): void {
    this.emitError(error);
  }
}

export class ScriptedTtsService implements TtsService {
  readonly provider = 'scripted';
  readonly streams: ScriptedStream[] = [];
  connects = 0;
  closes = 0;
  /** Called for every new stream (e.g. to answer automatically). */
  onStream: ((stream: ScriptedStream) => void) | undefined;

  async connect(): Promise<void> {
    this.connects++;
  }

  createStream(options: TtsStreamOptions, listener: TtsStreamListener): TtsStream {
    const stream = new ScriptedStream(options.utteranceId, options.format, listener);
    this.streams.push(stream);
    this.onStream?.(stream);
    return stream;
  }

  async close(): Promise<void> {
    this.closes++;
  }
}
