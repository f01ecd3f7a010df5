/**
 * Per-stream Silero VAD: owns the recurrent state, the 32/64-sample context and the sample buffer of one audio
 * stream, and scores it window by window (32 ms) through a shared {@link SileroInference}.
 *
 * State reset policy (differs from Pipecat, which resets the model every 5 s of wall-clock time, even
 * mid-word): the recurrent state is reset to zeros after `resetAfterSilenceSecs` of uninterrupted
 * non-speech (probability < 0.15 in every window), and whenever the caller skips inference on silent windows
 * (see {@link SileroVad.skipWindow}). Silero keeps working from a zero state (that is how every stream starts),
 * and resetting only in silence bounds long-run state drift without ever disturbing speech.
 */
import { PcmFramer } from './pcm-framer.ts';
import {
  SILERO_STATE_SIZE,
  SileroModel,
  sileroContextSize,
  sileroWindowSize,
  type SileroInference,
  type SileroSampleRate,
} from './silero-model.ts';

export interface SileroVadOptions {
  /** 8000 or 16000; other rates must be resampled first. */
  sampleRate: SileroSampleRate;
  /** Reset the recurrent state after this much continuous non-speech; 0 disables. @default 5 */
  resetAfterSilenceSecs?: number;
}

/** Score of one 32 ms window. */
export interface VadWindowScore {
  /** Stream time of the window's first sample, seconds since the stream (or last reset) began. */
  startSec: number;
  /** Stream time just after the window's last sample. */
  endSec: number;
  /** Speech probability 0…1 (0 when inference was skipped). */
  probability: number;
}

/** Below this probability a window counts as silence for the state-reset timer. */
const RESET_SILENCE_PROBABILITY = 0.15;

export class SileroVad {
  readonly sampleRate: SileroSampleRate;
  /** Samples per window: 256 at 8 kHz, 512 at 16 kHz. */
  readonly windowSize: number;
  readonly contextSize: number;
  /** Windows scored or skipped since construction/reset. */
  windowIndex = 0;
  /** How many times the recurrent state was reset (silence timer or skipped windows). */
  stateResets = 0;

  private readonly inference: SileroInference;
  private readonly framer: PcmFramer;
  private readonly resetAfterWindows: number;
  /** Context followed by the window: the model's input row. */
  private readonly input: Float32Array;
  private readonly state = new Float32Array(SILERO_STATE_SIZE);
  private stateIsZero = true;
  private quietWindows = 0;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(inference: SileroInference, opts: SileroVadOptions) {
    if (opts.sampleRate !== 8000 && opts.sampleRate !== 16000) {
      throw new RangeError(`Silero VAD supports 8000 or 16000 Hz, got ${String(opts.sampleRate)}`);
    }
    this.inference = inference;
    this.sampleRate = opts.sampleRate;
    this.windowSize = sileroWindowSize(opts.sampleRate);
    this.contextSize = sileroContextSize(opts.sampleRate);
    this.input = new Float32Array(this.contextSize + this.windowSize);
    this.framer = new PcmFramer(this.windowSize);
    const resetSecs = opts.resetAfterSilenceSecs ?? 5;
    this.resetAfterWindows = resetSecs > 0 ? Math.ceil((resetSecs * opts.sampleRate) / this.windowSize) : 0;
  }

  /** Creates a stream scorer on the shared, lazily loaded model. */
  static async create(opts: SileroVadOptions): Promise<SileroVad> {
    return new SileroVad(await SileroModel.load(), opts);
  }

  /** Window duration in seconds (0.032). */
  get windowSecs(): number {
    return this.windowSize / this.sampleRate;
  }

  /**
   * Appends PCM (any length; copied before returning) and scores every window it completes. Calls may overlap;
   * they are processed in order, and each resolves with the windows its own chunk completed.
   */
  process(pcm: Int16Array): Promise<VadWindowScore[]> {
    this.framer.append(pcm);
    const upTo = this.framer.appended;
    const run = this.chain.then(() => this.scoreUpTo(upTo));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async scoreUpTo(upTo: number): Promise<VadWindowScore[]> {
    const scores: VadWindowScore[] = [];
    const window = this.input.subarray(this.contextSize);
    while (this.framer.taken + this.windowSize <= upTo && this.framer.take(window)) {
      const startSec = (this.windowIndex * this.windowSize) / this.sampleRate;
      const probability = await this.scoreStaged();
      scores.push({ startSec, endSec: startSec + this.windowSecs, probability });
    }
    return scores;
  }

  /**
   * Scores one window of exactly `windowSize` samples scaled to ±1 (for callers that frame the audio
   * themselves, like the analyzer). Do not interleave with {@link process}.
   */
  scoreWindow(window: Float32Array): Promise<number> {
    if (window.length !== this.windowSize) {
      throw new RangeError(`Silero window must be ${this.windowSize} samples, got ${window.length}`);
    }
    this.input.set(window, this.contextSize);
    return this.scoreStaged();
  }

  /**
   * Accounts for a window the caller decided not to score (plainly silent audio): the context still advances,
   * and the recurrent state is reset to zeros, i.e. the model restarts fresh when sound resumes.
   */
  skipWindow(window: Float32Array): void {
    if (window.length !== this.windowSize) {
      throw new RangeError(`Silero window must be ${this.windowSize} samples, got ${window.length}`);
    }
    this.input.set(window, this.contextSize);
    this.resetState();
    this.advanceContext();
    this.windowIndex++;
    this.quietWindows = 0;
  }

  /** Forgets state, context, buffered samples and the clock. */
  reset(): void {
    this.resetState();
    this.input.fill(0);
    this.framer.reset();
    this.windowIndex = 0;
    this.quietWindows = 0;
  }

  /** Runs the model on `input` (context + staged window), then advances context, clock and reset timer. */
  private async scoreStaged(): Promise<number> {
    this.stateIsZero = false;
    const probability = await this.inference.infer(this.input, this.state, this.sampleRate);
    this.advanceContext();
    this.windowIndex++;
    if (this.resetAfterWindows > 0) {
      this.quietWindows = probability < RESET_SILENCE_PROBABILITY ? this.quietWindows + 1 : 0;
      if (this.quietWindows >= this.resetAfterWindows) {
        this.resetState();
        this.quietWindows = 0;
      }
    }
    return probability;
  }

  private advanceContext(): void {
    // The last contextSize samples of this window become the next window's context.
    this.input.copyWithin(0, this.windowSize, this.windowSize + this.contextSize);
  }

  private resetState(): void {
    if (this.stateIsZero) return;
    this.state.fill(0);
    this.stateIsZero = true;
    this.stateResets++;
  }
}
