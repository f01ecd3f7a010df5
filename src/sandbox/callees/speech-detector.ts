/**
 * How a simulated callee hears the bot: energy-based speech detection on the 20 ms μ-law frames the carrier
 * plays to it. A frame is voiced when its RMS level is above a threshold; speech starts after two voiced
 * frames in a row and ends after a pause of `segmentGapMs` (shorter pauses, between words or clauses, stay
 * inside one stretch of speech).
 */
import { mulawDecode } from '../../audio/g711.ts';

export interface SpeechDetectorOptions {
  /** RMS level (dBFS) above which a frame is voiced. @default -45 */
  thresholdDbfs?: number;
  /** Pause that ends a stretch of speech. @default 300 */
  segmentGapMs?: number;
  /** Frame duration in ms. @default 20 */
  frameMs?: number;
}

/** One stretch of bot speech as heard (epoch ms). `endAt` is null while it lasts. */
export interface HeardSegment {
  startAt: number;
  endAt: number | null;
}

const ONSET_FRAMES = 2;

export class SpeechDetector {
  private readonly thresholdSquare: number;
  private readonly segmentGapMs: number;
  private readonly frameMs: number;
  private pcm = new Int16Array(160);
  private voicedRun = 0;
  private runStartAt = 0;
  /** Stretches of speech heard so far, oldest first. */
  readonly segments: HeardSegment[] = [];
  /** End of the last voiced frame (epoch ms), or null before any speech. */
  lastSpeechAt: number | null = null;

  constructor(options: SpeechDetectorOptions = {}) {
    const rms = 32768 * 10 ** ((options.thresholdDbfs ?? -45) / 20);
    this.thresholdSquare = rms * rms;
    this.segmentGapMs = options.segmentGapMs ?? 300;
    this.frameMs = options.frameMs ?? 20;
  }

  /** True while a stretch of speech is open. */
  get speaking(): boolean {
    const last = this.segments[this.segments.length - 1];
    return last !== undefined && last.endAt === null;
  }

  /** The open or most recent stretch of speech. */
  get current(): HeardSegment | undefined {
    return this.segments[this.segments.length - 1];
  }

  /** Feeds one played frame starting at `at` (epoch ms). */
  push(frame: Uint8Array, at: number): void {
    if (this.pcm.length !== frame.length) this.pcm = new Int16Array(frame.length);
    const pcm = mulawDecode(frame, this.pcm);
    let sum = 0;
    for (let i = 0; i < pcm.length; i++) {
      const s = pcm[i] as number;
      sum += s * s;
    }
    const voiced = pcm.length > 0 && sum / pcm.length > this.thresholdSquare;
    const end = at + this.frameMs;
    if (voiced) {
      if (this.voicedRun === 0) this.runStartAt = at;
      this.voicedRun++;
      if (this.speaking) {
        this.lastSpeechAt = end;
      } else if (this.voicedRun >= ONSET_FRAMES) {
        this.segments.push({ startAt: this.runStartAt, endAt: null });
        this.lastSpeechAt = end;
      }
      return;
    }
    this.voicedRun = 0;
    const open = this.current;
    if (open && open.endAt === null && this.lastSpeechAt !== null && end - this.lastSpeechAt >= this.segmentGapMs) {
      open.endAt = this.lastSpeechAt;
    }
  }

  /** Closes an open stretch (the call ended). */
  finish(): void {
    const open = this.current;
    if (open && open.endAt === null) open.endAt = this.lastSpeechAt ?? open.startAt;
  }
}
