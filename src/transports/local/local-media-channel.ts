import { randomUUID } from 'node:crypto';
import { MULAW_SILENCE } from '../../audio/g711.ts';
import type { ChannelAudioFormat, MediaChannel, MediaChannelHandler } from '../media-channel.ts';

export interface LocalMediaChannelOptions {
  /** Echo marks still queued when a clear arrives, as Twilio is reported to do. @default false */
  echoMarksOnClear?: boolean;
  /** Period of the simulated carrier's clock (caller frames, playout, mark acks). @default 20 */
  tickMs?: number;
}

/** A stretch of bot audio the simulated caller heard. */
export interface PlayedAudio {
  /** `performance.now()` when this audio started playing. */
  atMs: number;
  bytes: Uint8Array;
}

interface QueuedMark {
  /** Byte position in the bot's outbound stream at which the mark sits. */
  position: number;
  name: string;
}

/**
 * An in-process carrier for one call, for tests and local runs without any socket: it plays the bot's
 * audio in real time (pausing when its buffer runs dry, like a carrier's jitter buffer), acknowledges marks
 * when the audio before them has played, honours clear, and streams the caller's audio as 20 ms μ-law
 * frames (silence when the caller is quiet).
 */
export class LocalMediaChannel implements MediaChannel {
  readonly carrierCallId = `local-${randomUUID()}`;
  readonly format: ChannelAudioFormat = { encoding: 'mulaw', sampleRate: 8000 };
  readonly echoesMarksOnClear: boolean;

  /** Bot audio the caller heard, in order. */
  readonly played: PlayedAudio[] = [];
  /** `performance.now()` of every clear received. */
  readonly clears: number[] = [];
  /** Names of marks acknowledged, in order. */
  readonly acknowledgedMarks: string[] = [];
  /** Bot audio bytes received from the transport and bytes played so far. */
  receivedBytes = 0;
  playedBytes = 0;

  private handler: MediaChannelHandler | undefined;
  private readonly tickMs: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastTickAt = 0;
  private closed = false;
  /** Bot audio waiting to play. */
  private playQueue: Uint8Array[] = [];
  private queuedBytes = 0;
  private marks: QueuedMark[] = [];
  /** Caller audio waiting to be sent, then silence. */
  private callerQueue: Array<{ bytes: Uint8Array; done: () => void }> = [];
  private callerOffset = 0;
  private callerFramesDue = 0;
  private readonly botAudioListeners: Array<(bytes: Uint8Array) => void> = [];

  constructor(options: LocalMediaChannelOptions = {}) {
    this.echoesMarksOnClear = options.echoMarksOnClear ?? false;
    this.tickMs = options.tickMs ?? 20;
  }

  setHandler(handler: MediaChannelHandler): void {
    this.handler = handler;
  }

  /** Starts the carrier clock: caller frames begin to flow. */
  open(): void {
    if (this.timer || this.closed) return;
    this.lastTickAt = performance.now();
    this.timer = setInterval(() => this.tick(), this.tickMs);
  }

  // ── what the transport sends us (carrier side) ──────────────────────────────────────────────────
  sendAudio(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.queuedBytes === 0) this.playClock = performance.now(); // playback starts when audio arrives
    this.playQueue.push(bytes.slice());
    this.queuedBytes += bytes.length;
    this.receivedBytes += bytes.length;
  }

  sendMark(name: string): void {
    if (this.closed) return;
    this.marks.push({ position: this.receivedBytes, name });
    this.ackPlayedMarks();
  }

  clear(): void {
    if (this.closed) return;
    this.clears.push(performance.now());
    this.advancePlayout(performance.now()); // what played until now counts; the rest is dropped
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
    return new Promise((resolve) => this.callerQueue.push({ bytes: mulaw, done: resolve }));
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

  /** Called with each piece of bot audio as it plays (what the caller hears, in real time). */
  onBotAudio(listener: (bytes: Uint8Array) => void): void {
    this.botAudioListeners.push(listener);
  }

  /** Seconds of bot audio the caller has heard. */
  get playedSec(): number {
    return this.playedBytes / 8000;
  }

  private tick(): void {
    const now = performance.now();
    this.advancePlayout(now);
    this.callerFramesDue += (now - this.lastTickAt) / 20;
    this.lastTickAt = now;
    while (this.callerFramesDue >= 1 && !this.closed) {
      this.callerFramesDue -= 1;
      this.handler?.audio({ sampleRate: 8000, channels: 1, mulaw: this.nextCallerFrame() });
    }
  }

  private nextCallerFrame(): Uint8Array {
    const frame = new Uint8Array(160).fill(MULAW_SILENCE);
    let filled = 0;
    while (filled < 160 && this.callerQueue.length > 0) {
      const line = this.callerQueue[0] as { bytes: Uint8Array; done: () => void };
      const n = Math.min(160 - filled, line.bytes.length - this.callerOffset);
      frame.set(line.bytes.subarray(this.callerOffset, this.callerOffset + n), filled);
      filled += n;
      this.callerOffset += n;
      if (this.callerOffset >= line.bytes.length) {
        this.callerQueue.shift();
        this.callerOffset = 0;
        line.done();
      }
    }
    return frame;
  }

  /** Plays queued bot audio in real time up to `now` (a dry buffer simply waits for more audio). */
  private advancePlayout(now: number): void {
    if (this.queuedBytes === 0) {
      this.playClock = now; // an idle carrier does not bank time
      return;
    }
    let budget = Math.floor(((now - this.playClock) / 1000) * 8000);
    let at = this.playClock;
    while (budget > 0 && this.queuedBytes > 0) {
      const chunk = this.playQueue[0] as Uint8Array;
      const n = Math.min(budget, chunk.length);
      const piece = chunk.subarray(0, n);
      this.played.push({ atMs: at, bytes: piece });
      for (const listener of this.botAudioListeners) listener(piece);
      if (n === chunk.length) this.playQueue.shift();
      else this.playQueue[0] = chunk.subarray(n);
      this.queuedBytes -= n;
      this.playedBytes += n;
      budget -= n;
      at += n / 8;
    }
    this.playClock = this.queuedBytes === 0 ? now : at;
    this.ackPlayedMarks();
  }

  /** Up to when playback has been accounted (`performance.now()` ms). */
  private playClock = 0;

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
  }
}
