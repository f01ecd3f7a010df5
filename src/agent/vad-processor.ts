import { mulawDecode } from '../audio/g711.ts';
import { StreamResampler } from '../audio/resampler.ts';
import type { VadEvent, VadParams } from '../audio/vad/vad-analyzer.ts';
import { VadAnalyzer } from '../audio/vad/vad-analyzer.ts';
import type { SileroInference } from '../audio/vad/silero-model.ts';
import { SileroModel } from '../audio/vad/silero-model.ts';
import type { Direction, Frame, FrameOf } from '../pipeline/frames.ts';
import { makeFrame } from '../pipeline/frames.ts';
import { FrameProcessor } from '../pipeline/processor.ts';

export interface VadProcessorOptions {
  /** VAD parameters; each defaults as documented on {@link VadParams}. */
  params?: Partial<VadParams>;
  /**
   * Where windows are scored. @default the process-wide Silero model; pass a `SileroBatcher` to score the
   * windows of many calls in one inference.
   */
  inference?: SileroInference;
}

/**
 * Runs Silero VAD on the caller's audio and emits `vad.speech.started/stopped` with the instant speech
 * really started/stopped. Audio frames are forwarded at once; inference runs beside them (in order), so
 * STT never waits for VAD.
 */
export class VadProcessor extends FrameProcessor {
  private analyzer: VadAnalyzer | undefined;
  private resampler: StreamResampler | undefined;
  private pcmScratch = new Int16Array(160);
  /** Seconds of audio fed to the analyzer. */
  private fedSec = 0;
  /** Last analyzer state reported, to announce pauses and resumes inside speech. */
  private lastState = 'quiet';

  constructor(private readonly options: VadProcessorOptions = {}) {
    super('VadProcessor');
  }

  get state(): string {
    return this.analyzer?.state ?? 'quiet';
  }

  protected override async onStart(frame: FrameOf<'start'>): Promise<void> {
    const rate = frame.audioInSampleRate;
    const vadRate = rate >= 16000 ? 16000 : 8000;
    if (rate !== 8000 && rate !== 16000) this.resampler = new StreamResampler(rate, vadRate);
    const inference = this.options.inference ?? (await SileroModel.load());
    this.analyzer = new VadAnalyzer(inference, { sampleRate: vadRate, ...this.options.params });
  }

  /** Applies new VAD parameters from the next window on. */
  setParams(params: Partial<VadParams>): void {
    this.analyzer?.setParams(params);
  }

  protected override processFrame(frame: Frame, direction: Direction): void {
    this.pushFrame(frame, direction);
    if (frame.type !== 'audio.in' || !this.analyzer) return;
    const audio = frame.audio;
    let pcm: Int16Array;
    if (audio.pcm) pcm = audio.pcm;
    else {
      const bytes = audio.mulaw as Uint8Array;
      if (this.pcmScratch.length < bytes.length) this.pcmScratch = new Int16Array(bytes.length);
      pcm = mulawDecode(bytes, this.pcmScratch.subarray(0, bytes.length));
    }
    if (this.resampler) pcm = this.resampler.process(pcm);
    this.fedSec += pcm.length / this.analyzer.sampleRate;
    const fedAt = performance.now();
    const fedSec = this.fedSec;
    this.analyzer.process(pcm).then(
      (events) => this.emit(events, fedAt, fedSec),
      (error: unknown) => this.pushError(error),
    );
  }

  private emit(events: readonly VadEvent[], fedAt: number, fedSec: number): void {
    if (this.isStopped || !this.analyzer) return;
    for (const event of events) {
      // The audio at `fedSec` arrived at `fedAt`; audio arrives in real time, so earlier positions map back.
      const atMs = fedAt - (fedSec - event.atSec) * 1000;
      const type = event.type === 'speech-start' ? 'vad.speech.started' : 'vad.speech.stopped';
      this.pushFrame(makeFrame(type, { atSec: event.atSec, atMs }));
    }
    const state = this.analyzer.state;
    if (state !== this.lastState) {
      // The pause began at the last window scored (one window back from the analyzer's clock).
      const atSec = this.analyzer.timeSec - this.analyzer.windowSecs;
      const atMs = fedAt - (fedSec - atSec) * 1000;
      if (this.lastState === 'speaking' && state === 'stopping') this.pushFrame(makeFrame('vad.speech.paused', { atSec, atMs }));
      if (this.lastState === 'stopping' && state === 'speaking') this.pushFrame(makeFrame('vad.speech.resumed', { atSec, atMs }));
      this.lastState = state;
    }
  }
}
