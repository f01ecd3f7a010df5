/**
 * Adaptive jitter buffer for one inbound RTP stream of fixed-rate audio (G.711: one byte per sample).
 *
 * Packets are stored by RTP timestamp and played out one 20 ms frame per pull, so reordering is undone and
 * packets of any ptime are re-cut into 20 ms frames. The playout delay follows the measured interarrival
 * jitter (RFC 3550 §6.4.1) within [minDelayMs, maxDelayMs]: it grows when a packet arrives too late (the
 * frame was concealed, so later audio waits longer), and shrinks by dropping one frame when the buffer has
 * held more than the target for a while. Missing audio is concealed: the last frame repeated with a fade
 * for a few frames, then silence. While the peer sends nothing (silence suppression, hold) the output is
 * silence and nothing counts as lost.
 */
import { timestampDelta } from './rtp-packet.ts';

export interface JitterBufferOptions {
  /** RTP clock rate of the stream. */
  clockRate: number;
  /** Bytes of stored audio per RTP clock unit (G.711: 1). @default 1 */
  bytesPerUnit?: number;
  /** Output frame length. @default 20 */
  frameMs?: number;
  /** @default 40 */
  minDelayMs?: number;
  /** @default 80 */
  maxDelayMs?: number;
  /** Fills a missing frame: `previous` is the last frame played, `count` the consecutive concealed frames so far. */
  conceal: (out: Uint8Array, previous: Uint8Array | null, count: number) => void;
  /** The codec's silence (written when nothing has been received for a while). */
  silence: (out: Uint8Array) => void;
}

export interface JitterBufferStats {
  received: number;
  /** Frames handed out (real audio, concealment or silence). */
  played: number;
  /** Arrived after their time had passed (dropped). */
  late: number;
  /** Frames concealed while later audio was already waiting (a loss, not a pause). */
  lost: number;
  concealed: number;
  duplicates: number;
  /** Frames dropped to bring the delay down. */
  dropped: number;
  /** Restarts after a jump in the timestamp or a new source. */
  resyncs: number;
  /** Current target playout delay (ms). */
  targetDelayMs: number;
  /** Interarrival jitter estimate (ms). */
  jitterMs: number;
}

/** Counters of a buffer that has seen nothing yet, its target delay at `targetDelayMs`. */
export function emptyJitterBufferStats(targetDelayMs: number): JitterBufferStats {
  return { received: 0, played: 0, late: 0, lost: 0, concealed: 0, duplicates: 0, dropped: 0, resyncs: 0, targetDelayMs, jitterMs: 0 };
}

interface StoredPacket {
  timestamp: number;
  data: Uint8Array;
}

/** A gap larger than this (in either direction) is a new stream, not loss. */
const RESYNC_MS = 1000;
/** After this many frames of buffer above target, one frame is dropped. */
const SHRINK_AFTER_FRAMES = 25;

export class JitterBuffer {
  readonly stats: JitterBufferStats;
  private readonly frameUnits: number;
  private readonly frameBytes: number;
  private readonly bytesPerUnit: number;
  private readonly unitsPerMs: number;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private packets: StoredPacket[] = [];
  private playing = false;
  private nextTimestamp = 0;
  private firstArrivalMs = 0;
  private previous: Uint8Array | null = null;
  private concealedRun = 0;
  private overTargetFrames = 0;
  private holdFrames = 0;
  private lastTransit: number | undefined;
  private jitterUnits = 0;

  constructor(private readonly options: JitterBufferOptions) {
    const frameMs = options.frameMs ?? 20;
    this.bytesPerUnit = options.bytesPerUnit ?? 1;
    this.unitsPerMs = options.clockRate / 1000;
    this.frameUnits = Math.round(frameMs * this.unitsPerMs);
    this.frameBytes = this.frameUnits * this.bytesPerUnit;
    this.minDelayMs = options.minDelayMs ?? 40;
    this.maxDelayMs = options.maxDelayMs ?? 80;
    this.stats = emptyJitterBufferStats(this.minDelayMs);
  }

  get frameSize(): number {
    return this.frameBytes;
  }

  /** Audio buffered ahead of the playout point (ms). */
  get depthMs(): number {
    const last = this.packets[this.packets.length - 1];
    if (!last) return 0;
    const start = this.playing ? this.nextTimestamp : (this.packets[0] as StoredPacket).timestamp;
    const end = last.timestamp + last.data.length / this.bytesPerUnit;
    return Math.max(0, timestampDelta(end, start)) / this.unitsPerMs;
  }

  /** Stores a packet's audio (copied). `arrivalMs` is local time, for the jitter estimate. */
  push(timestamp: number, audio: Uint8Array, arrivalMs: number): void {
    if (audio.length === 0) return;
    this.stats.received++;
    this.updateJitter(timestamp, arrivalMs);
    if (this.playing) {
      const ahead = timestampDelta(timestamp, this.nextTimestamp);
      const units = audio.length / this.bytesPerUnit;
      if (Math.abs(ahead) > RESYNC_MS * this.unitsPerMs) {
        this.restart(arrivalMs);
      } else if (ahead + units <= 0) {
        this.stats.late++;
        this.grow();
        return;
      } else if (ahead < 0) {
        // Partly late: keep the part still to come.
        audio = audio.subarray(-ahead * this.bytesPerUnit);
        timestamp = this.nextTimestamp;
      }
    } else if (this.packets.length === 0) {
      this.firstArrivalMs = arrivalMs;
    }
    this.insert({ timestamp, data: audio.slice() });
  }

  /**
   * The next 20 ms frame, written into `out` (frameSize bytes). Returns 'audio', 'concealed', 'silence' or
   * 'waiting' (not started yet: `out` holds silence).
   */
  pull(out: Uint8Array, nowMs: number): 'audio' | 'concealed' | 'silence' | 'waiting' {
    if (!this.playing) {
      const first = this.packets[0];
      if (!first || nowMs - this.firstArrivalMs < this.stats.targetDelayMs) {
        this.options.silence(out);
        return 'waiting';
      }
      this.playing = true;
      this.nextTimestamp = first.timestamp;
    }
    if (this.holdFrames > 0) {
      // Growing the delay: play a concealment frame without advancing.
      this.holdFrames--;
      this.stats.concealed++;
      this.stats.played++;
      this.options.conceal(out, this.previous, ++this.concealedRun);
      return 'concealed';
    }
    this.adaptDown();
    const result = this.fill(out);
    this.stats.played++;
    this.nextTimestamp = (this.nextTimestamp + this.frameUnits) >>> 0;
    return result;
  }

  /** Forget everything (new source, re-INVITE with new media). */
  reset(): void {
    this.packets = [];
    this.playing = false;
    this.previous = null;
    this.concealedRun = 0;
    this.holdFrames = 0;
    this.lastTransit = undefined;
  }

  private restart(arrivalMs: number): void {
    this.stats.resyncs++;
    this.reset();
    this.firstArrivalMs = arrivalMs;
  }

  private insert(packet: StoredPacket): void {
    let i = this.packets.length;
    while (i > 0 && timestampDelta((this.packets[i - 1] as StoredPacket).timestamp, packet.timestamp) > 0) i--;
    const before = this.packets[i - 1];
    if (before && before.timestamp === packet.timestamp) {
      this.stats.duplicates++;
      return;
    }
    this.packets.splice(i, 0, packet);
    // Bound memory against a flood: never hold more than a second.
    while (this.packets.length > 0 && this.depthMs > RESYNC_MS) this.packets.shift();
  }

  /** Copies audio for [nextTimestamp, +frame) into `out`, concealing what is missing. */
  private fill(out: Uint8Array): 'audio' | 'concealed' | 'silence' {
    const start = this.nextTimestamp;
    let covered = 0;
    let filledBytes = 0;
    while (this.packets.length > 0) {
      const packet = this.packets[0] as StoredPacket;
      const units = packet.data.length / this.bytesPerUnit;
      const offset = timestampDelta(packet.timestamp, start);
      if (offset + units <= 0) {
        this.packets.shift(); // entirely in the past
        continue;
      }
      if (offset >= this.frameUnits) break; // belongs to a later frame
      const from = Math.max(0, -offset);
      const to = Math.min(units, this.frameUnits - offset);
      out.set(packet.data.subarray(from * this.bytesPerUnit, to * this.bytesPerUnit), (offset + from) * this.bytesPerUnit);
      covered += to - from;
      filledBytes = Math.max(filledBytes, (offset + to) * this.bytesPerUnit);
      if (to >= units) this.packets.shift();
      else break;
    }
    if (covered >= this.frameUnits) {
      this.concealedRun = 0;
      this.remember(out);
      return 'audio';
    }
    if (covered > 0) {
      // Part of the frame arrived: conceal only the hole at the end (holes inside are rare; treated as audio).
      if (filledBytes < this.frameBytes) this.options.silence(out.subarray(filledBytes));
      this.concealedRun = 0;
      this.remember(out);
      return 'audio';
    }
    const laterAudioWaiting = this.packets.length > 0;
    if (!laterAudioWaiting && this.concealedRun >= 3) {
      // The peer went quiet (or the stream ended): plain silence, not loss.
      this.options.silence(out);
      this.concealedRun++;
      return 'silence';
    }
    this.concealedRun++;
    this.stats.concealed++;
    if (laterAudioWaiting) this.stats.lost++;
    this.options.conceal(out, this.previous, this.concealedRun);
    return 'concealed';
  }

  private remember(frame: Uint8Array): void {
    if (!this.previous) this.previous = new Uint8Array(this.frameBytes);
    this.previous.set(frame);
  }

  /** A late packet: the delay was too short. */
  private grow(): void {
    const next = Math.min(this.maxDelayMs, this.stats.targetDelayMs + 20);
    if (next > this.stats.targetDelayMs) {
      this.stats.targetDelayMs = next;
      this.holdFrames++;
    }
  }

  /** Drops a frame when the buffer stays above target (after the jitter calmed down). */
  private adaptDown(): void {
    const jitterTarget = Math.ceil((3 * this.stats.jitterMs + 10) / 20) * 20;
    const wanted = Math.min(this.maxDelayMs, Math.max(this.minDelayMs, jitterTarget));
    if (wanted < this.stats.targetDelayMs) this.stats.targetDelayMs = Math.max(wanted, this.stats.targetDelayMs - 1);
    const depth = this.depthMs;
    if (depth > this.maxDelayMs + 20) {
      // Far too much buffered (a burst after a stall): skip straight to the target.
      const skipUnits = Math.floor(((depth - this.stats.targetDelayMs) * this.unitsPerMs) / this.frameUnits) * this.frameUnits;
      this.nextTimestamp = (this.nextTimestamp + skipUnits) >>> 0;
      this.stats.dropped += skipUnits / this.frameUnits;
      this.overTargetFrames = 0;
      return;
    }
    if (depth > this.stats.targetDelayMs + 20) {
      if (++this.overTargetFrames >= SHRINK_AFTER_FRAMES) {
        this.nextTimestamp = (this.nextTimestamp + this.frameUnits) >>> 0;
        this.stats.dropped++;
        this.overTargetFrames = 0;
      }
    } else {
      this.overTargetFrames = 0;
    }
  }

  private updateJitter(timestamp: number, arrivalMs: number): void {
    const transit = arrivalMs * this.unitsPerMs - timestamp;
    if (this.lastTransit !== undefined) {
      let d = Math.abs(transit - this.lastTransit);
      if (d > RESYNC_MS * this.unitsPerMs) d = 0; // timestamp jump (new talkspurt after a long pause)
      this.jitterUnits += (d - this.jitterUnits) / 16;
      this.stats.jitterMs = this.jitterUnits / this.unitsPerMs;
    }
    this.lastTransit = transit;
  }
}
