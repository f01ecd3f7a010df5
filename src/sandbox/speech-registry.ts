/**
 * What the sandbox's simulated callees say, indexed by their audio.
 *
 * A simulated callee synthesises each scripted line as 8 kHz μ-law and registers it here before speaking it.
 * Carriers and our server pass μ-law through unchanged, so a consumer at the far end (the Deepgram emulator)
 * receives the same bytes, re-chunked and possibly starting mid-line. {@link SpeechMatcher} finds which line
 * the bytes belong to, and where in it, without any side channel.
 *
 * Index: a polynomial hash of every non-silent 160-byte (20 ms) frame of each line, at the line's own frame
 * grid. The matcher keeps a rolling hash of the last 160 bytes of its stream and looks it up at every byte
 * offset, so any alignment of the consumer's stream to the line is found within two frames of speech. A hash
 * hit is verified byte by byte, then the match is followed by direct comparison (which also covers the line's
 * quiet frames) until the stream diverges or the line ends. Near-silent frames are not indexed: digital
 * silence and faint tails repeat everywhere and identify nothing.
 *
 * The two μ-law codes for zero (0xFF and 0x7F) are treated as equal, so audio that was decoded and re-encoded
 * (e.g. sent to the emulator as 8 kHz linear16) still matches.
 */

/** One word of a line with its place on the line's audio timeline. */
export interface SpokenWord {
  /** The word as written in the script, punctuation included (e.g. `"Hello,"`). */
  word: string;
  startSec: number;
  endSec: number;
}

export interface SpeechLineInput {
  text: string;
  /** The line's audio: 8 kHz mono μ-law, exactly the bytes that will be sent. Copied on registration. */
  mulaw: Uint8Array;
  words: SpokenWord[];
}

export interface SpeechLine {
  /** Registration order, unique per registry. */
  readonly id: number;
  readonly text: string;
  readonly mulaw: Uint8Array;
  readonly words: readonly SpokenWord[];
  readonly durationSec: number;
}

export interface SpeechRegistryOptions {
  /** Lines kept before the oldest is evicted. @default 2000 */
  maxLines?: number;
  /** Audio bytes kept before the oldest lines are evicted (8,000 bytes per second). @default 28_800_000 (1 hour) */
  maxAudioBytes?: number;
}

/** Bytes per frame indexed and hashed (20 ms of 8 kHz μ-law). */
export const SPEECH_FRAME_BYTES = 160;
export const SPEECH_SAMPLE_RATE = 8000;

const HASH_BASE = 0x01000193;
/** HASH_BASE^(SPEECH_FRAME_BYTES-1) mod 2^32, the weight of the byte leaving the rolling window. */
const HASH_OUT_WEIGHT = (() => {
  let w = 1;
  for (let i = 0; i < SPEECH_FRAME_BYTES - 1; i++) w = Math.imul(w, HASH_BASE);
  return w;
})();

/** μ-law byte with the two zero codes folded together. */
const NORMALISED = new Uint8Array(256);
for (let i = 0; i < 256; i++) NORMALISED[i] = i === 0x7f ? 0xff : i;

/**
 * Magnitude rank of a μ-law code (0 = zero … 127 = full scale). μ-law codes are sign + inverted magnitude, and
 * the magnitude order of `~code & 0x7f` is monotonic, so no decode is needed to find quiet frames.
 */
const MAGNITUDE_RANK = new Uint8Array(256);
for (let i = 0; i < 256; i++) MAGNITUDE_RANK[i] = ~i & 0x7f;
/** Frames whose loudest sample ranks below this are not indexed (rank 0x18 ≈ ±260 of 32,767, about −42 dBFS). */
const INDEX_MIN_PEAK_RANK = 0x18;

function frameHash(bytes: Uint8Array, offset: number): number {
  let h = 0;
  for (let i = 0; i < SPEECH_FRAME_BYTES; i++) h = (Math.imul(h, HASH_BASE) + (NORMALISED[bytes[offset + i] as number] as number)) | 0;
  return h;
}

function isQuietFrame(bytes: Uint8Array, offset: number): boolean {
  let peak = 0;
  for (let i = 0; i < SPEECH_FRAME_BYTES; i++) {
    const rank = MAGNITUDE_RANK[bytes[offset + i] as number] as number;
    if (rank > peak) peak = rank;
  }
  return peak < INDEX_MIN_PEAK_RANK;
}

interface IndexEntry {
  line: StoredLine;
  /** Frame number within the line; the frame starts at byte `frame * 160`. */
  frame: number;
}

interface StoredLine extends SpeechLine {
  hashes: Int32Array;
}

/** Remembers registered lines and indexes their audio. Use {@link speechRegistry} for the process-wide one. */
export class SpeechRegistry {
  private readonly maxLines: number;
  private readonly maxAudioBytes: number;
  private readonly lines = new Map<number, StoredLine>();
  private readonly index = new Map<number, IndexEntry[]>();
  private audioBytes = 0;
  private nextId = 1;

  constructor(options: SpeechRegistryOptions = {}) {
    this.maxLines = options.maxLines ?? 2000;
    this.maxAudioBytes = options.maxAudioBytes ?? 28_800_000;
  }

  /** Registers a line (call before its audio is sent). Evicts the oldest lines beyond the limits. */
  register(input: SpeechLineInput): SpeechLine {
    const mulaw = input.mulaw.slice();
    const frames = Math.floor(mulaw.length / SPEECH_FRAME_BYTES);
    const hashes: number[] = [];
    const line: StoredLine = {
      id: this.nextId++,
      text: input.text,
      mulaw,
      words: input.words.map((w) => ({ ...w })),
      durationSec: mulaw.length / SPEECH_SAMPLE_RATE,
      hashes: new Int32Array(0),
    };
    for (let frame = 0; frame < frames; frame++) {
      const offset = frame * SPEECH_FRAME_BYTES;
      if (isQuietFrame(mulaw, offset)) continue;
      const hash = frameHash(mulaw, offset);
      hashes.push(hash);
      const entries = this.index.get(hash);
      if (entries) entries.push({ line, frame });
      else this.index.set(hash, [{ line, frame }]);
    }
    line.hashes = Int32Array.from(hashes);
    this.lines.set(line.id, line);
    this.audioBytes += mulaw.length;
    this.evict();
    return line;
  }

  get(id: number): SpeechLine | undefined {
    return this.lines.get(id);
  }

  /** Number of lines currently held. */
  get size(): number {
    return this.lines.size;
  }

  /** Forgets every line. */
  clear(): void {
    this.lines.clear();
    this.index.clear();
    this.audioBytes = 0;
  }

  /** A matcher that follows one consumer's byte stream. */
  createMatcher(): SpeechMatcher {
    return new SpeechMatcher(this);
  }

  /** Index entries for a frame hash, newest line first. @internal */
  candidates(hash: number): readonly IndexEntry[] | undefined {
    return this.index.get(hash);
  }

  private evict(): void {
    while (this.lines.size > this.maxLines || (this.audioBytes > this.maxAudioBytes && this.lines.size > 1)) {
      const oldest = this.lines.values().next().value as StoredLine;
      this.lines.delete(oldest.id);
      this.audioBytes -= oldest.mulaw.length;
      for (const hash of oldest.hashes) {
        const entries = this.index.get(hash);
        if (!entries) continue;
        const kept = entries.filter((e) => e.line !== oldest);
        if (kept.length === 0) this.index.delete(hash);
        else this.index.set(hash, kept);
      }
    }
  }
}

/** One occurrence of a line in a consumer's stream. Positions are byte (= sample) offsets in that stream. */
export interface SpeechMatch {
  line: SpeechLine;
  /** Stream position of the line's first byte (negative when the stream began mid-line). */
  lineStartPos: number;
  /** Stream bytes [fromPos, toPos) are verified equal to the line's bytes; `toPos` grows while the match holds. */
  fromPos: number;
  toPos: number;
  /** False once the stream diverged from the line or the line's audio ended. */
  active: boolean;
  /** The stream carried the line through to its last byte. */
  complete: boolean;
}

/** How far back a new match is extended over already-received bytes (0.5 s). */
const HISTORY_BYTES = 4096;

/**
 * Follows one byte stream and reports the registered lines it carries. Feed every byte in order with
 * {@link push}; new occurrences are reported through `onMatch`, and the reported objects keep updating
 * (`toPos`, `active`, `complete`) as more bytes arrive.
 */
export class SpeechMatcher {
  /** Called when a new occurrence of a line is found. */
  onMatch: ((match: SpeechMatch) => void) | undefined;
  /** Bytes consumed so far. */
  position = 0;
  private readonly history = new Uint8Array(HISTORY_BYTES);
  private hash = 0;
  private current: SpeechMatch | null = null;
  /** Next line byte expected while {@link current} is active. */
  private lineOffset = 0;

  constructor(private readonly registry: SpeechRegistry) {}

  /** The occurrence being followed right now, if any. */
  get active(): SpeechMatch | null {
    return this.current;
  }

  push(bytes: Uint8Array): void {
    const history = this.history;
    for (let i = 0; i < bytes.length; i++) {
      const b = NORMALISED[bytes[i] as number] as number;
      const pos = this.position++;
      const out = pos >= SPEECH_FRAME_BYTES ? (history[(pos - SPEECH_FRAME_BYTES) % HISTORY_BYTES] as number) : 0;
      history[pos % HISTORY_BYTES] = b;
      this.hash = (Math.imul(this.hash - Math.imul(out, HASH_OUT_WEIGHT), HASH_BASE) + b) | 0;

      const match = this.current;
      if (match) {
        if (NORMALISED[match.line.mulaw[this.lineOffset] as number] === b) {
          this.lineOffset++;
          match.toPos = pos + 1;
          if (this.lineOffset >= match.line.mulaw.length) this.finish(true);
          continue;
        }
        this.finish(false);
      }
      if (pos + 1 >= SPEECH_FRAME_BYTES) this.lookup(pos + 1);
    }
  }

  private finish(complete: boolean): void {
    const match = this.current;
    if (!match) return;
    match.active = false;
    match.complete = complete;
    this.current = null;
  }

  /** Looks up the window ending at stream position `end` (exclusive). */
  private lookup(end: number): void {
    const entries = this.registry.candidates(this.hash);
    if (!entries) return;
    for (let e = entries.length - 1; e >= 0; e--) {
      const { line, frame } = entries[e] as IndexEntry;
      const lineStart = frame * SPEECH_FRAME_BYTES;
      if (!this.windowEquals(line.mulaw, lineStart, end - SPEECH_FRAME_BYTES)) continue;
      // Extend backwards over bytes already received (quiet frames before the first indexed one).
      let from = end - SPEECH_FRAME_BYTES;
      let lineFrom = lineStart;
      const oldest = Math.max(0, this.position - HISTORY_BYTES);
      while (lineFrom > 0 && from > oldest && NORMALISED[line.mulaw[lineFrom - 1] as number] === this.history[(from - 1) % HISTORY_BYTES]) {
        from--;
        lineFrom--;
      }
      const match: SpeechMatch = {
        line,
        lineStartPos: end - lineStart - SPEECH_FRAME_BYTES,
        fromPos: from,
        toPos: end,
        active: true,
        complete: false,
      };
      this.current = match;
      this.lineOffset = lineStart + SPEECH_FRAME_BYTES;
      if (this.lineOffset >= line.mulaw.length) this.finish(true);
      this.onMatch?.(match);
      return;
    }
  }

  private windowEquals(lineBytes: Uint8Array, lineOffset: number, streamPos: number): boolean {
    for (let i = 0; i < SPEECH_FRAME_BYTES; i++) {
      if (NORMALISED[lineBytes[lineOffset + i] as number] !== this.history[(streamPos + i) % HISTORY_BYTES]) return false;
    }
    return true;
  }
}

/** The process-wide registry shared by simulated callees and provider emulators. */
export const speechRegistry = new SpeechRegistry();
