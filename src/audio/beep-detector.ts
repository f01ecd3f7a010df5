import type { GoertzelBin } from './goertzel.ts';
import { blockPower, goertzelBin, goertzelPower, toneRatio } from './goertzel.ts';

export interface BeepDetectorOptions {
  /** @default 8000 */
  sampleRate?: number;
  /** Lowest and highest beep frequency looked for (Hz). @default [400, 1500] */
  rangeHz?: [number, number];
  /** Spacing of the frequency bank (Hz). @default 25 */
  stepHz?: number;
  /** Analysis block (ms). @default 20 */
  blockMs?: number;
  /** Share of a block's energy that must sit at one frequency. @default 0.6 */
  minToneRatio?: number;
  /** Quietest block that counts (dBFS, sine-referenced). @default -45 */
  minLevelDbfs?: number;
  /** A beep lasts at least this long (ms) at one frequency (± one bank step). @default 160 */
  minDurationMs?: number;
}

/** A pure tone found in the audio. Times are seconds of audio fed so far. */
export interface Beep {
  frequencyHz: number;
  startSec: number;
  /** Undefined while the tone still sounds. */
  endSec: number | undefined;
}

/**
 * Finds voicemail beeps: a steady pure tone (one frequency between 400 and 1500 Hz carrying most of the
 * energy, block after block, for at least `minDurationMs`). Speech spreads its energy over harmonics and
 * formants, DTMF over two tones and noise over everything, so none of them pass the tone ratio for long.
 * Feed 16-bit PCM in any chunk size; {@link onBeep} reports each beep when it is long enough, then again when
 * it ends.
 */
export class BeepDetector {
  onBeep: ((beep: Beep) => void) | undefined;
  /** Beeps found so far. */
  readonly beeps: Beep[] = [];
  private readonly bins: GoertzelBin[];
  private readonly blockSize: number;
  private readonly block: Int16Array;
  private fill = 0;
  private readonly sampleRate: number;
  private readonly minRatio: number;
  private readonly minPower: number;
  private readonly minBlocks: number;
  private readonly stepHz: number;
  private blocks = 0;
  private run: { frequencyHz: number; startBlock: number; length: number; reported: Beep | undefined } | undefined;

  constructor(options: BeepDetectorOptions = {}) {
    this.sampleRate = options.sampleRate ?? 8000;
    const [low, high] = options.rangeHz ?? [400, 1500];
    this.stepHz = options.stepHz ?? 25;
    this.bins = [];
    for (let f = low; f <= high; f += this.stepHz) this.bins.push(goertzelBin(f, this.sampleRate));
    this.blockSize = Math.round(((options.blockMs ?? 20) / 1000) * this.sampleRate);
    this.block = new Int16Array(this.blockSize);
    this.minRatio = options.minToneRatio ?? 0.6;
    this.minPower = 10 ** ((options.minLevelDbfs ?? -45) / 10);
    this.minBlocks = Math.max(1, Math.ceil((options.minDurationMs ?? 160) / (options.blockMs ?? 20)));
  }

  /** Seconds of audio analysed. */
  get timeSec(): number {
    return (this.blocks * this.blockSize) / this.sampleRate;
  }

  push(pcm: Int16Array): void {
    for (let i = 0; i < pcm.length;) {
      const n = Math.min(pcm.length - i, this.blockSize - this.fill);
      this.block.set(pcm.subarray(i, i + n), this.fill);
      this.fill += n;
      i += n;
      if (this.fill === this.blockSize) {
        this.fill = 0;
        this.analyse();
      }
    }
  }

  private analyse(): void {
    const index = this.blocks++;
    const total = blockPower(this.block);
    let tone: number | undefined;
    if (total >= this.minPower) {
      let best = 0;
      let bestBin: GoertzelBin | undefined;
      for (const bin of this.bins) {
        const power = goertzelPower(this.block, bin);
        if (power > best) {
          best = power;
          bestBin = bin;
        }
      }
      if (bestBin && toneRatio(best, total) >= this.minRatio) tone = bestBin.frequency;
    }
    const run = this.run;
    if (tone !== undefined && run && Math.abs(tone - run.frequencyHz) <= this.stepHz) {
      run.length++;
      if (!run.reported && run.length >= this.minBlocks) this.report(run);
      return;
    }
    if (run?.reported) {
      run.reported.endSec = (index * this.blockSize) / this.sampleRate;
      this.onBeep?.(run.reported);
    }
    this.run = tone !== undefined ? { frequencyHz: tone, startBlock: index, length: 1, reported: undefined } : undefined;
    if (this.run && this.minBlocks <= 1) this.report(this.run);
  }

  private report(run: NonNullable<BeepDetector['run']>): void {
    const beep: Beep = { frequencyHz: run.frequencyHz, startSec: (run.startBlock * this.blockSize) / this.sampleRate, endSec: undefined };
    run.reported = beep;
    this.beeps.push(beep);
    this.onBeep?.(beep);
  }
}
