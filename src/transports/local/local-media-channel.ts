import type { ChannelAudioFormat } from '../../audio/channel-audio-format.ts';
import { randomUUID } from 'node:crypto';
import { MULAW_SILENCE } from '../../audio/g711.ts';
import type { MediaChannel, MediaChannelHandler } from '../media-channel.ts';

export interface LocalMediaChannelOptions {
  /** Echo marks still queued when a clear arrives, as Twilio is reported to do. @default false */
  echoMarksOnClear?: boolean;
  /** Period of the simulated carrier's clock (caller frames, playout, mark acks). @default 20 */
  tickMs?: number;
}

/** A stretch of bot audio the simulated caller heard. */
export interface PlayedAudio {
  /** Epoch ms when this audio started playing. */
  atMs: number;
  bytes: Uint8Array;
}

/** The far end of a local call: speaks 20 ms μ-law frames and hears what plays (a `SimulatedCallee` fits). */
export interface LocalCaller {
  /** The caller's next 160 bytes for the tick at `atMs` (epoch), or null for silence. */
  nextFrame(atMs: number): Uint8Array | null;
  /** The 160 bytes of bot audio that played during the tick at `atMs` (silence when none). */
  hear(frame: Uint8Array, atMs: number): void;
  /** The call ended. */
  end(atMs: number): void;
}

interface QueuedMark {
  /** Byte position in the bot's outbound stream at which the mark sits. */
  position: number;
  name: string;
}

const FRAME = 160;
const now = () => performance.timeOrigin + performance.now();

/**
 * An in-process carrier for one call, for tests and local runs without any socket. Like a carrier it runs a
 * 20 ms clock: each tick it plays one frame of the bot's queued audio (silence when its buffer is dry),
 * acknowledges marks once the audio before them has played, honours clear, and sends one frame of caller
 * audio (silence when the caller is quiet). A {@link LocalCaller} can be attached to speak and listen.
 */
export class LocalMediaChannel implements MediaChannel {
  readonly carrierCallId = `local-${randomUUID()}`;
  readonly format: ChannelAudioFormat = { encoding: 'mulaw', sampleRate: 8000 };
  readonly echoesMarksOnClear: boolean;

  /** Bot audio the caller heard, in order (silence not included). */
  readonly played: PlayedAudio[] = [];
  /** Epoch ms of every clear received. */
  readonly clears: number[] = [];
  /** Names of marks acknowledged, in order. */
  readonly acknowledgedMarks: string[] = [];
  /** Bot audio bytes received from the transport and bytes played so far. */
  receivedBytes = 0;
  playedBytes = 0;
  /** Epoch ms of each frame of bot audio received, in order (what arrived when, for pacing checks). */
  readonly arrivals: number[] = [];

  private handler: MediaChannelHandler | undefined;
  private readonly tickMs: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private startedAt = 0;
  private framesDone = 0;
  private closed = false;
  private playQueue: Uint8Array[] = [];
  private queuedBytes = 0;
  private marks: QueuedMark[] = [];
  private caller: LocalCaller | undefined;
  private callerQueue: Array<{ bytes: Uint8Array; offset: number; done: () => void }> = [];
  private readonly frame = new Uint8Array(FRAME);
  private readonly heardFrame = new Uint8Array(FRAME);

  constructor(options: LocalMediaChannelOptions = {}) {
    this.echoesMarksOnClear = options.echoMarksOnClear ?? false;
    this.tickMs = options.tickMs ?? 20;
  }

  setHandler(handler: MediaChannelHandler): void {
    this.handler = handler;
  }

  /** Starts the carrier clock: frames begin to flow both ways. */
  open(caller?: LocalCaller): void {
    if (this.timer || this.closed) return;
    this.caller = caller;
    this.startedAt = now();
    this.timer = setInterval(() => this.tick(), this.tickMs);
  }

  // ── what the transport sends us (carrier side) ──────────────────────────────────────────────────
  sendAudio(bytes: Uint8Array): void {
    if (this.closed) return;
    this.playQueue.push(bytes.slice());
    this.queuedBytes += bytes.length;
    this.receivedBytes += bytes.length;
    this.arrivals.push(now());
  }

  sendMark(name: string): void {
    if (this.closed) return;
    this.marks.push({ position: this.receivedBytes, name });
    this.ackPlayedMarks();
  }

  clear(): void {
    if (this.closed) return;
    this.clears.push(now());
    this.playQueue = [];
    this.queuedBytes = 0;
    this.receivedBytes = this.playedBytes;
    const pending = this.marks;
    this.marks = [];
    if (this.echoesMarksOnClear) for (const mark of pending) this.handler?.mark(mark.name);
    this.handler?.cleared?.();
  }

  close(reason: string): void {
    if (this.closed) return;
    this.shutdown();
    this.handler?.closed({ by: 'local', reason });
  }

  // ── the simulated caller ────────────────────────────────────────────────────────────────────────
  /** The caller says something (8 kHz μ-law); resolves once the last frame of it has been sent. */
  say(mulaw: Uint8Array): Promise<void> {
    return new Promise((resolve) => this.callerQueue.push({ bytes: mulaw, offset: 0, done: resolve }));
  }

  press(digit: string): void {
    this.handler?.dtmf(digit);
  }

  /** The caller hangs up. */
  hangUp(reason = 'caller hung up'): void {
    if (this.closed) return;
    this.shutdown();
    this.handler?.closed({ by: 'remote', reason });
  }

  /** Seconds of bot audio the caller has heard. */
  get playedSec(): number {
    return this.playedBytes / 8000;
  }

  private tick(): void {
    const due = Math.floor((now() - this.startedAt) / 20);
    while (this.framesDone < due && !this.closed) {
      const at = this.startedAt + this.framesDone * 20;
      this.framesDone++;
      this.playFrame(at);
      if (this.closed) return;
      this.handler?.audio({ sampleRate: 8000, channels: 1, mulaw: this.callerFrame(at) });
    }
  }

  /** Plays one 20 ms frame of bot audio (a dry buffer plays silence and simply waits for more). */
  private playFrame(at: number): void {
    let filled = 0;
    while (filled < FRAME && this.queuedBytes > 0) {
      const chunk = this.playQueue[0] as Uint8Array;
      const n = Math.min(FRAME - filled, chunk.length);
      this.heardFrame.set(chunk.subarray(0, n), filled);
      if (n === chunk.length) this.playQueue.shift();
      else this.playQueue[0] = chunk.subarray(n);
      filled += n;
      this.queuedBytes -= n;
    }
    if (filled > 0) {
      this.played.push({ atMs: at, bytes: this.heardFrame.slice(0, filled) });
      this.playedBytes += filled;
    }
    this.heardFrame.fill(MULAW_SILENCE, filled);
    this.caller?.hear(this.heardFrame, at);
    this.ackPlayedMarks();
  }

  private callerFrame(at: number): Uint8Array {
    const fromCaller = this.caller?.nextFrame(at);
    if (fromCaller) return fromCaller.slice();
    this.frame.fill(MULAW_SILENCE);
    let filled = 0;
    while (filled < FRAME && this.callerQueue.length > 0) {
      const line = this.callerQueue[0] as { bytes: Uint8Array; offset: number; done: () => void };
      const n = Math.min(FRAME - filled, line.bytes.length - line.offset);
      this.frame.set(line.bytes.subarray(line.offset, line.offset + n), filled);
      filled += n;
      line.offset += n;
      if (line.offset >= line.bytes.length) {
        this.callerQueue.shift();
        line.done();
      }
    }
    return this.frame.slice();
  }

  private ackPlayedMarks(): void {
    while (this.marks.length > 0 && (this.marks[0] as QueuedMark).position <= this.playedBytes) {
      const mark = this.marks.shift() as QueuedMark;
      this.acknowledgedMarks.push(mark.name);
      this.handler?.mark(mark.name);
    }
  }

  private shutdown(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const line of this.callerQueue) line.done();
    this.callerQueue = [];
    this.caller?.end(now());
  }
}
