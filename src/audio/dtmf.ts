/**
 * DTMF (ITU-T Q.23 / Q.24): keypad tones as sound, generated and detected.
 *
 * A key is the sum of one row (697, 770, 852, 941 Hz) and one column (1209, 1336, 1477, 1633 Hz) sine.
 * {@link dtmfTones} makes the tones for a string of keys; {@link DtmfDetector} finds them in audio with a
 * Goertzel filter bank (`goertzel.ts`) over 20 ms blocks: the strongest row and column must carry most of the
 * block's energy, be within the allowed twist of each other and stand well above the other tones, for two
 * blocks in a row; a key is reported once, and again only after a block without it.
 */
import { blockPower, goertzelBin, goertzelPower, type GoertzelBin } from './goertzel.ts';

const ROWS = [697, 770, 852, 941] as const;
const COLUMNS = [1209, 1336, 1477, 1633] as const;
const KEYS = ['123A', '456B', '789C', '*0#D'] as const;

export interface DtmfToneOptions {
  /** @default 8000 */
  sampleRate?: number;
  /** Length of each key's tone (Q.24 asks for at least 40 ms; carriers commonly send 100). @default 100 */
  toneMs?: number;
  /** Silence after each key. @default 80 */
  gapMs?: number;
  /** Level of each of the two sines, dBFS. @default -10 */
  levelDb?: number;
}

/** Where a key's row and column frequencies are, or undefined for a character that is not a key. */
export function dtmfFrequencies(key: string): [number, number] | undefined {
  const upper = key.toUpperCase();
  for (let r = 0; r < KEYS.length; r++) {
    const c = (KEYS[r] as string).indexOf(upper);
    if (c >= 0 && upper.length === 1) return [ROWS[r] as number, COLUMNS[c] as number];
  }
  return undefined;
}

/** 16-bit PCM of `digits` as DTMF tones (each followed by a gap). Throws on a character that is not a key. */
export function dtmfTones(digits: string, options: DtmfToneOptions = {}): Int16Array {
  const rate = options.sampleRate ?? 8000;
  const tone = Math.round(((options.toneMs ?? 100) / 1000) * rate);
  const gap = Math.round(((options.gapMs ?? 80) / 1000) * rate);
  const amplitude = 32767 * 10 ** ((options.levelDb ?? -10) / 20);
  const out = new Int16Array(digits.length * (tone + gap));
  const ramp = Math.min(Math.round(rate * 0.002), tone >> 2); // 2 ms fade in/out: no clicks
  for (let k = 0; k < digits.length; k++) {
    const freqs = dtmfFrequencies(digits[k] as string);
    if (!freqs) throw new RangeError(`"${digits[k]}" is not a DTMF key (0-9, *, #, A-D)`);
    const [low, high] = freqs;
    const start = k * (tone + gap);
    for (let i = 0; i < tone; i++) {
      const envelope = Math.min(1, (i + 1) / (ramp + 1), (tone - i) / (ramp + 1));
      const t = i / rate;
      out[start + i] = Math.round(envelope * amplitude * (Math.sin(2 * Math.PI * low * t) + Math.sin(2 * Math.PI * high * t)));
    }
  }
  return out;
}

export interface DtmfDetectorOptions {
  /** @default 8000 */
  sampleRate?: number;
  /** Weakest tone (each of the pair) that counts, dBFS. @default -35 */
  minLevelDb?: number;
  /** Largest level difference between the row and the column tone, dB. @default 8 */
  maxTwistDb?: number;
}

/** Finds DTMF keys in a stream of 16-bit PCM. */
export class DtmfDetector {
  private readonly rows: GoertzelBin[];
  private readonly columns: GoertzelBin[];
  private readonly block: Int16Array;
  private filled = 0;
  private readonly minPower: number;
  private readonly maxTwist: number;
  /** Key seen in the previous block (candidate), and the key reported and still held. */
  private previous: string | null = null;
  private held: string | null = null;

  constructor(options: DtmfDetectorOptions = {}) {
    const rate = options.sampleRate ?? 8000;
    this.rows = ROWS.map((f) => goertzelBin(f, rate));
    this.columns = COLUMNS.map((f) => goertzelBin(f, rate));
    this.block = new Int16Array(Math.round(rate * 0.02));
    // goertzelPower reads an amplitude-A sine as (A/32768)²; a level in dBFS is 20·log10(A/32768).
    this.minPower = 10 ** ((options.minLevelDb ?? -35) / 10);
    this.maxTwist = 10 ** ((options.maxTwistDb ?? 8) / 10);
  }

  /** Feeds audio; returns the keys that began in it, in order. */
  push(samples: Int16Array): string[] {
    const keys: string[] = [];
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(this.block.length - this.filled, samples.length - offset);
      this.block.set(samples.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled < this.block.length) break;
      this.filled = 0;
      const key = this.classify(this.block);
      if (key !== null && key === this.previous && key !== this.held) {
        this.held = key;
        keys.push(key);
      }
      if (key === null) this.held = null;
      this.previous = key;
    }
    return keys;
  }

  private classify(block: Int16Array): string | null {
    const rowPowers = this.rows.map((bin) => goertzelPower(block, bin));
    const columnPowers = this.columns.map((bin) => goertzelPower(block, bin));
    const r = argMax(rowPowers);
    const c = argMax(columnPowers);
    const row = rowPowers[r] as number;
    const column = columnPowers[c] as number;
    if (row < this.minPower || column < this.minPower) return null;
    if (row > column * this.maxTwist || column > row * this.maxTwist) return null;
    // The pair carries most of the block's energy (speech and noise spread theirs), and the other tones are far weaker.
    if ((row + column) / blockPower(block) < 0.7) return null;
    for (let i = 0; i < 4; i++) {
      if (i !== r && (rowPowers[i] as number) * 10 > row) return null;
      if (i !== c && (columnPowers[i] as number) * 10 > column) return null;
    }
    return (KEYS[r] as string)[c] as string;
  }
}

function argMax(values: number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}
