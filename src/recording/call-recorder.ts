import type { ChannelAudioFormat } from '../audio/channel-audio-format.ts';
import { alawDecode, mulawDecode } from '../audio/g711.ts';
import { downmixToMono, pcm16FromBytes } from '../audio/pcm.ts';
import { StreamResampler } from '../audio/resampler.ts';
import { WavFileWriter } from '../audio/wav-file-writer.ts';
import type { Logger } from '../log.ts';
import type { AudioPayload } from '../pipeline/audio-payload.ts';
import { systemClock, type Clock, type ClockTimer } from '../util/clock.ts';
import { RecordingTimeline } from './recording-timeline.ts';

/** Recording sample rate: telephony's 8 kHz. */
export const RECORDING_SAMPLE_RATE = 8000;

export interface CallRecorderOptions {
  /** The WAV file to write (created or truncated). */
  path: string;
  /** Time of the media clock (`performance.now()` ms by default; a `ManualClock` in tests). @default systemClock */
  clock?: Clock;
  /**
   * Clock time the recording starts at (e.g. when the call was answered, a little before its media connected:
   * the gap is silent, so the recording spans the call). At most now. @default now
   */
  startAtMs?: number;
  /** How often settled audio is written to the file: a crash loses at most this plus twice `callerLagMs`. @default 500 */
  flushIntervalMs?: number;
  /** How far caller audio may lag the clock before the gap is recorded as silence. @default 200 */
  callerLagMs?: number;
  log?: Logger;
}

/** What a finished recording holds. */
export interface RecordingSummary {
  path: string;
  durationSec: number;
  /** Bot audio dropped by clears (barge-in, pauses) before it played, in seconds. */
  cutSec: number;
}

/**
 * Records one call as stereo PCM16 8 kHz WAV: caller left, bot right, on one timeline from the start of the
 * media (see {@link RecordingTimeline}). The real-time path only copies samples into memory; a timer writes
 * what has settled to the file every `flushIntervalMs`, asynchronously, and the header is kept valid after each
 * write — so a crash loses at most about a second.
 */
export class CallRecorder {
  private readonly clock: Clock;
  private readonly timeline: RecordingTimeline;
  private readonly startMs: number;
  private readonly flushIntervalMs: number;
  private readonly log: Logger | undefined;
  private readonly writer: Promise<WavFileWriter>;
  private writes: Promise<void> = Promise.resolve();
  private timer: ClockTimer | undefined;
  private closed: Promise<RecordingSummary> | undefined;
  private callerResampler: StreamResampler | undefined;
  private botResampler: StreamResampler | undefined;
  private cutFrames = 0;
  private failed = false;
  /** When the call's media ended (the recording's end, however late `close` runs). */
  private endMs: number | undefined;

  constructor(private readonly options: CallRecorderOptions) {
    this.clock = options.clock ?? systemClock;
    this.startMs = Math.min(options.startAtMs ?? Infinity, this.clock.now());
    this.flushIntervalMs = options.flushIntervalMs ?? 500;
    this.log = options.log;
    this.timeline = new RecordingTimeline(RECORDING_SAMPLE_RATE, Math.round(((options.callerLagMs ?? 200) / 1000) * RECORDING_SAMPLE_RATE));
    this.writer = WavFileWriter.create(options.path, { sampleRate: RECORDING_SAMPLE_RATE, channels: 2 });
    this.writer.catch((error: unknown) => this.fail(error));
    this.timer = this.clock.setInterval(() => this.flush(false), this.flushIntervalMs);
  }

  get path(): string {
    return this.options.path;
  }

  /** Milliseconds into the recording of a `clock` time (e.g. a turn's `startedAtMs`). */
  offsetMsOf(clockMs: number): number {
    return Math.max(0, Math.round(clockMs - this.startMs));
  }

  /** Caller audio as the channel delivered it. */
  caller(audio: AudioPayload): void {
    if (this.closed) return;
    let pcm = audio.pcm ?? mulawDecode(audio.mulaw ?? new Uint8Array(0));
    if (audio.channels !== 1) pcm = downmixToMono(pcm, audio.channels);
    if (audio.sampleRate !== RECORDING_SAMPLE_RATE) {
      if (this.callerResampler?.fromRate !== audio.sampleRate)
        this.callerResampler = new StreamResampler(audio.sampleRate, RECORDING_SAMPLE_RATE);
      pcm = this.callerResampler.process(pcm);
    }
    this.timeline.addCaller(pcm, this.nowFrame());
  }

  /** Bot audio sent to the carrier, in the channel's wire format. */
  bot(bytes: Uint8Array, format: ChannelAudioFormat): void {
    if (this.closed) return;
    let pcm = format.encoding === 'mulaw' ? mulawDecode(bytes) : format.encoding === 'alaw' ? alawDecode(bytes) : pcm16FromBytes(bytes);
    if (format.sampleRate !== RECORDING_SAMPLE_RATE) {
      if (this.botResampler?.fromRate !== format.sampleRate)
        this.botResampler = new StreamResampler(format.sampleRate, RECORDING_SAMPLE_RATE);
      pcm = this.botResampler.process(pcm);
    }
    this.timeline.addBot(pcm, this.nowFrame());
  }

  /** The carrier was told to drop its queued audio: the bot channel stops now. */
  clearBot(): void {
    if (this.closed) return;
    this.cutFrames += this.timeline.clearBot(this.nowFrame());
  }

  /**
   * The media ended (the carrier closed the stream or we hung up): the recording ends here, not when `close` runs
   * after the session has wound down (which a busy server can delay by a good part of a second).
   */
  mediaEnded(): void {
    this.endMs ??= this.clock.now();
  }

  /** Writes the rest (up to the media's end, else now) and closes the file. Idempotent. */
  close(): Promise<RecordingSummary> {
    if (this.closed) return this.closed;
    this.clock.clearInterval(this.timer);
    this.timer = undefined;
    const nowFrame = this.nowFrame();
    // Bot audio queued past now never played: the call is over.
    this.cutFrames += this.timeline.clearBot(nowFrame);
    this.flush(true);
    this.closed = this.writes
      .then(async () => {
        if (!this.failed) await (await this.writer).close();
      })
      .catch((error: unknown) => this.fail(error))
      .then(() => ({
        path: this.options.path,
        durationSec: this.timeline.settledFrames / RECORDING_SAMPLE_RATE,
        cutSec: this.cutFrames / RECORDING_SAMPLE_RATE,
      }));
    return this.closed;
  }

  private nowFrame(): number {
    const now = Math.min(this.clock.now(), this.endMs ?? Infinity);
    return Math.max(0, Math.round(((now - this.startMs) / 1000) * RECORDING_SAMPLE_RATE));
  }

  private flush(final: boolean): void {
    const samples = this.timeline.takeSettled(this.nowFrame(), final);
    if (samples.length === 0 || this.failed) return;
    this.writes = this.writes.then(async () => {
      if (this.failed) return;
      try {
        await (await this.writer).append(samples);
      } catch (error) {
        this.fail(error);
      }
    });
  }

  private fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.log?.error(
      { err: error instanceof Error ? error.message : String(error), path: this.options.path },
      'call recording failed; the call goes on unrecorded',
    );
  }
}
