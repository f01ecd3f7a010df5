/**
 * The carrier's playback queue for the audio our server sends to the callee (8 kHz μ-law, the phone line's
 * format), with playback markers and barge-in clearing, driven by the emulator's 20 ms clock.
 *
 * - Audio plays out at real-time rate: every tick takes the next 160 bytes (20 ms). When less is queued the
 *   rest of the frame is silence, as on a real line when the sender falls behind.
 * - A marker (Twilio `mark`, Plivo `checkpoint`) is reached when the audio queued before it has finished
 *   playing: at the first tick boundary after its last byte's frame. A marker with nothing queued before it
 *   is reached at the next tick.
 * - `clear` drops the queued audio and returns the markers that were still pending (the carrier decides
 *   whether to acknowledge them).
 *
 * Late frames. Our server must keep this queue fed: once it starts an utterance, each 20 ms frame is due when
 * the audio before it runs out. A frame is late when it arrives more than one frame (20 ms) after it was due,
 * i.e. after playback of the previous audio ran dry by more than a frame. An utterance ("segment") ends at a
 * marker or a clear: a gap after a marker is a pause between utterances, not a late frame. So the accounting
 * assumes the server marks the end of what it sends (our server marks every utterance).
 */
import { MULAW_SILENCE } from '../../../audio/g711.ts';

export const FRAME_BYTES = 160;
const BYTES_PER_MS = 8;

interface AudioItem {
  kind: 'audio';
  bytes: Uint8Array;
  offset: number;
  arrivedAt: number;
}

interface MarkItem {
  kind: 'mark';
  name: string;
  queuedAt: number;
}

type QueueItem = AudioItem | MarkItem;

export interface PendingMark {
  name: string;
  queuedAt: number;
}

/** One stretch where playback ran dry mid-utterance and the next audio came late. */
export interface Underrun {
  /** Epoch ms when the queued audio ran out. */
  dryAt: number;
  /** Epoch ms when the next audio arrived. */
  resumedAt: number;
  gapMs: number;
  /** Frames of the arriving audio that were late (arrived > 20 ms after due). */
  lateFrames: number;
}

export interface PlayoutStats {
  /** Bot audio bytes received (8 kHz μ-law after any conversion). */
  audioBytesReceived: number;
  /** Bot audio received in 20 ms frames (bytes / 160, fractional frames rounded up per message). */
  framesReceived: number;
  /** Ticks that played bot audio (fully or partly). */
  framesPlayed: number;
  /** Bytes dropped by clears. */
  clearedBytes: number;
  /** Frames that arrived more than 20 ms after they were due. */
  lateFrames: number;
  /** Largest lateness seen (ms after due), 0 when nothing was late. */
  maxLatenessMs: number;
  /** Every underrun with late frames (bounded list: the first 1000). */
  underruns: Underrun[];
  /** Smallest lead (ms) between a frame's arrival and the start of its playback, over frames that played. */
  minLeadMs: number | null;
}

const MAX_UNDERRUN_RECORDS = 1000;

export interface PulledFrame {
  /** 160 bytes of μ-law: bot audio, padded with silence. Reused between calls: copy it to keep it. */
  frame: Uint8Array;
  /** Bytes of bot audio in the frame (0 = silence). */
  audioBytes: number;
  /** Markers whose preceding audio finished playing by this tick, in order. */
  reachedMarks: PendingMark[];
}

export class PlayoutBuffer {
  private queue: QueueItem[] = [];
  private head = 0;
  private queuedBytes = 0;
  private readonly frame = new Uint8Array(FRAME_BYTES);
  /** Marks passed mid-frame at the last tick: reached when that frame finishes (this tick). */
  private marksAtNextTick: PendingMark[] = [];
  /** An utterance is playing: audio was consumed since the last marker/clear. */
  private segmentOpen = false;
  /** When queued audio ran out mid-utterance (epoch ms), until new audio arrives. */
  private dryAt: number | null = null;
  readonly stats: PlayoutStats = {
    audioBytesReceived: 0,
    framesReceived: 0,
    framesPlayed: 0,
    clearedBytes: 0,
    lateFrames: 0,
    maxLatenessMs: 0,
    underruns: [],
    minLeadMs: null,
  };

  /** Bytes waiting to play. */
  get bufferedBytes(): number {
    return this.queuedBytes;
  }

  /** Milliseconds of audio waiting to play. */
  get bufferedMs(): number {
    return this.queuedBytes / BYTES_PER_MS;
  }

  /** Markers still waiting for their audio to play. */
  pendingMarks(): PendingMark[] {
    const marks = [...this.marksAtNextTick];
    for (let i = this.head; i < this.queue.length; i++) {
      const item = this.queue[i] as QueueItem;
      if (item.kind === 'mark') marks.push({ name: item.name, queuedAt: item.queuedAt });
    }
    return marks;
  }

  enqueueAudio(bytes: Uint8Array, arrivedAt: number): void {
    if (bytes.length === 0) return;
    const frames = Math.ceil(bytes.length / FRAME_BYTES);
    this.stats.audioBytesReceived += bytes.length;
    this.stats.framesReceived += frames;
    if (this.dryAt !== null) {
      // Frame i of this message was due when the audio before it would have run out: dryAt + 20·i.
      const gapMs = arrivedAt - this.dryAt;
      const late = Math.min(frames, Math.max(0, Math.ceil((gapMs - 20) / 20)));
      if (late > 0) {
        this.stats.lateFrames += late;
        this.stats.maxLatenessMs = Math.max(this.stats.maxLatenessMs, gapMs);
        if (this.stats.underruns.length < MAX_UNDERRUN_RECORDS) {
          this.stats.underruns.push({ dryAt: this.dryAt, resumedAt: arrivedAt, gapMs, lateFrames: late });
        }
      }
      this.dryAt = null;
    }
    this.queue.push({ kind: 'audio', bytes, offset: 0, arrivedAt });
    this.queuedBytes += bytes.length;
  }

  enqueueMark(name: string, queuedAt: number): void {
    this.queue.push({ kind: 'mark', name, queuedAt });
  }

  /** Drops queued audio; returns the markers that were pending (their audio will never play). */
  clear(): { droppedBytes: number; pendingMarks: PendingMark[] } {
    const pending: PendingMark[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const item = this.queue[i] as QueueItem;
      if (item.kind === 'mark') pending.push({ name: item.name, queuedAt: item.queuedAt });
    }
    const droppedBytes = this.queuedBytes;
    this.stats.clearedBytes += droppedBytes;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    this.segmentOpen = false;
    this.dryAt = null;
    return { droppedBytes, pendingMarks: pending };
  }

  /** Plays the next 20 ms at tick time `tickTime` (epoch ms). */
  pull(tickTime: number): PulledFrame {
    const reachedMarks = this.marksAtNextTick;
    this.marksAtNextTick = [];
    // Markers at the head: everything before them has finished playing by now.
    while (this.head < this.queue.length) {
      const item = this.queue[this.head] as QueueItem;
      if (item.kind !== 'mark') break;
      reachedMarks.push({ name: item.name, queuedAt: item.queuedAt });
      this.head++;
      this.segmentOpen = false;
    }
    let filled = 0;
    while (filled < FRAME_BYTES && this.head < this.queue.length) {
      const item = this.queue[this.head] as QueueItem;
      if (item.kind === 'mark') {
        // Passed mid-frame: reached when this frame has played, i.e. at the next tick.
        this.marksAtNextTick.push({ name: item.name, queuedAt: item.queuedAt });
        this.head++;
        this.segmentOpen = false;
        continue;
      }
      if (item.offset === 0) {
        const lead = tickTime + filled / BYTES_PER_MS - item.arrivedAt;
        if (this.stats.minLeadMs === null || lead < this.stats.minLeadMs) this.stats.minLeadMs = lead;
      }
      const take = Math.min(FRAME_BYTES - filled, item.bytes.length - item.offset);
      this.frame.set(item.bytes.subarray(item.offset, item.offset + take), filled);
      item.offset += take;
      filled += take;
      this.queuedBytes -= take;
      this.segmentOpen = true;
      if (item.offset >= item.bytes.length) this.head++;
    }
    if (filled < FRAME_BYTES) {
      this.frame.fill(MULAW_SILENCE, filled);
      if (this.segmentOpen && this.dryAt === null) this.dryAt = tickTime + filled / BYTES_PER_MS;
    }
    if (filled > 0) this.stats.framesPlayed++;
    this.compact();
    return { frame: this.frame, audioBytes: filled, reachedMarks };
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
