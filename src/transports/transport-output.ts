import type { AudioPayload } from '../pipeline/audio-payload.ts';
import type { Direction, Frame, FrameOf } from '../pipeline/frames.ts';
import { makeFrame } from '../pipeline/frames.ts';
import { FrameProcessor } from '../pipeline/processor.ts';
import { ChannelAudioEncoder } from './channel-audio-encoder.ts';
import type { ClockClient, MediaClock } from './media-clock.ts';
import { sharedMediaClock } from './media-clock.ts';
import type { MediaChannel } from './media-channel.ts';
import { OutboundAudioQueue } from './outbound-audio-queue.ts';
import './output-frames.ts';
import { PlaybackTracker } from './playback-tracker.ts';
import { MediaFormatError } from './stream-format.ts';
import { dtmfTones } from '../audio/dtmf.ts';

/** DTMF keys as 8 kHz audio for the output queue (characters that are not keys are skipped). */
function dtmfAudio(digits: string): AudioPayload {
  return { sampleRate: 8000, channels: 1, pcm: dtmfTones(digits.replace(/[^0-9*#A-Da-d]/g, '')) };
}

/** What paces the output: the shared media clock, or a test's own. */
export type OutputPacer = Pick<MediaClock, 'activate' | 'deactivate'>;

/** Largest outbound frame: 1 s of 48 kHz 16-bit audio. */
const MAX_FRAME_BYTES = 96_000;

/** Sent audio kept (beyond the last acknowledged mark) so a paused reply can be sent again: 10 s. */
const MAX_RETAINED_SEC = 10;

export interface TransportOutputOptions {
  /**
   * Audio kept queued at the carrier ahead of playback. It absorbs event-loop stalls (a busy server setting
   * up many calls at once stalls for 50–150 ms); on barge-in the carrier's `clear` drops it, so a larger lead
   * costs no responsiveness. @default 120
   */
  leadMs?: number;
  /** Largest media message. @default 20 */
  frameMs?: number;
  /** What paces sending. @default the process-wide shared media clock */
  clock?: OutputPacer;
  /** On end, how long to wait past the queued audio for the carrier to confirm playback. @default 3000 */
  endGraceMs?: number;
}

/** Counters for what left this output (per call). */
export interface TransportOutputStats {
  framesSent: number;
  bytesSent: number;
  marksSent: number;
  marksAcknowledged: number;
  clearsSent: number;
  /** Frames sent after the carrier's buffer (by our estimate) had already run dry. */
  underruns: number;
  /** Pauses (holds taking effect) and how many of them cleared audio at the carrier to send it again. */
  pauses: number;
  rewinds: number;
}

/**
 * Sends the bot's audio to the carrier in real time and reports what the caller actually heard.
 *
 * - Paced by the shared {@link MediaClock}: each tick tops the carrier's buffer up to `leadMs`.
 * - Places marks at word ends and utterance ends; acknowledged marks become `audio.played` frames
 *   (downstream) and drive `bot.speech.started/stopped` (both directions).
 * - On interruption it stops sending at once (the rest of the tick's frames never leave), sends the
 *   carrier `clear`, and reports each interrupted utterance's heard position.
 * - `output.pause` / `output.resume` hold and release playback without dropping anything: a pause clears
 *   what the carrier has queued and rewinds to the last acknowledged mark (a word end), so on release the
 *   caller hears the reply continue from the word after the last one they heard. Playback truth stays
 *   exact: marks past the rewind point are placed again and only their new acknowledgements count.
 * - On end it waits until the carrier has played everything (bounded), so goodbyes are not cut off.
 */
export class TransportOutput extends FrameProcessor implements ClockClient {
  readonly stats: TransportOutputStats = {
    framesSent: 0,
    bytesSent: 0,
    marksSent: 0,
    marksAcknowledged: 0,
    clearsSent: 0,
    underruns: 0,
    pauses: 0,
    rewinds: 0,
  };
  private readonly encoder: ChannelAudioEncoder;
  private readonly tracker: PlaybackTracker;
  private readonly queue = new OutboundAudioQueue();
  private readonly clock: OutputPacer;
  private readonly leadMs: number;
  private readonly maxRetainedBytes: number;
  /** Active holds by owner; audio flows only when there is none. */
  private readonly holds = new Set<string>();
  private readonly frameBytes: number;
  private readonly endGraceMs: number;
  private readonly scratch: Uint8Array;
  /** When the carrier will have played everything sent so far (our estimate; `performance.now()` ms). */
  private playoutEndAt = 0;
  private drained: (() => void) | undefined;

  constructor(
    private readonly channel: MediaChannel,
    options: TransportOutputOptions = {},
  ) {
    super('TransportOutput');
    this.encoder = new ChannelAudioEncoder(channel.format);
    this.tracker = new PlaybackTracker(this.encoder.bytesPerSecond, channel.echoesMarksOnClear);
    this.clock = options.clock ?? sharedMediaClock;
    this.leadMs = options.leadMs ?? 120;
    this.maxRetainedBytes = MAX_RETAINED_SEC * this.encoder.bytesPerSecond;
    this.frameBytes = Math.round(((options.frameMs ?? 20) / 1000) * this.encoder.bytesPerSecond);
    // Pacing needs whole frames of a sane size: a 0-byte frame would never advance the playout clock (the tick loop
    // would spin forever), an absurd one would allocate without bound. Carriers' start messages are checked before
    // this (see stream-format.ts); this guards every other channel.
    if (!Number.isSafeInteger(this.frameBytes) || this.frameBytes < 1 || this.frameBytes > MAX_FRAME_BYTES) {
      throw new MediaFormatError(
        `cannot pace ${channel.format.encoding} at ${channel.format.sampleRate} Hz (frame of ${this.frameBytes} bytes)`,
      );
    }
    this.endGraceMs = options.endGraceMs ?? 3000;
    this.scratch = new Uint8Array(this.frameBytes);
  }

  /** Seconds of audio queued here and not yet sent to the carrier. */
  get queuedSec(): number {
    return this.queue.length / this.encoder.bytesPerSecond;
  }

  /** Nothing queued and no utterance waiting for the carrier to confirm it played. */
  get idle(): boolean {
    return this.isIdle();
  }

  /** True while some hold keeps the output from sending. */
  get paused(): boolean {
    return this.holds.size > 0;
  }

  /** Total bytes ever queued / sent on the outbound stream (sent goes back on a rewind). */
  private get queuedOffset(): number {
    return this.queue.endOffset;
  }

  private get sentOffset(): number {
    return this.queue.readOffset;
  }

  protected override processFrame(frame: Frame, direction: Direction): void {
    if (direction === 'upstream') return this.pushFrame(frame, direction);
    switch (frame.type) {
      case 'output.pause':
        this.hold(frame.reason);
        return; // consumed here
      case 'output.resume':
        this.release(frame.reason);
        return;
      case 'tts.audio':
        this.enqueue(frame.audio, frame.utteranceId);
        break;
      case 'audio.out':
        this.enqueue(frame.audio, undefined);
        break;
      case 'tts.text':
        if (frame.endSec !== undefined) {
          this.tracker.wordTimed(frame.utteranceId, frame.endSec, this.sentOffset);
          this.sendDueMarks();
        }
        break;
      case 'tts.stopped':
        if (!this.tracker.utteranceEnded(frame.utteranceId, this.queuedOffset, this.sentOffset)) {
          // Nothing was ever queued for it: it is over as far as the caller is concerned.
          this.pushFrame(makeFrame('audio.played', { utteranceId: frame.utteranceId, playedSec: 0, complete: true }));
        }
        this.sendDueMarks();
        break;
      case 'dtmf.out':
        // Media streams carry no keys: play standard tones after what is queued. SIP (RFC 4733) and Daily send them.
        if (this.channel.dtmfInBand || !this.channel.sendDtmf) this.enqueue(dtmfAudio(frame.digits), undefined);
        else this.channel.sendDtmf(frame.digits);
        break;
      default:
        break;
    }
    this.pushFrame(frame, direction);
  }

  /** Carrier acknowledged a mark (wired by the media transport). */
  onMarkAcknowledged(name: string): void {
    if (this.isStopped) return;
    const progress = this.tracker.acknowledge(name);
    if (!progress) return;
    this.stats.marksAcknowledged++;
    this.queue.release(this.tracker.ackedOffset);
    this.pushFrame(makeFrame('audio.played', progress));
    if (progress.complete) this.broadcast(makeFrame('bot.speech.stopped', { utteranceId: progress.utteranceId, interrupted: false }));
    this.checkDrained();
  }

  /** Carrier confirmed a clear (Plivo `clearedAudio`). */
  onClearConfirmed(): void {
    this.tracker.clearConfirmed();
  }

  /** Channel went away: nothing more can play, so an end in progress need not wait. */
  onChannelClosed(): void {
    this.queue.clear();
    this.drained?.();
  }

  tick(nowMs: number): boolean {
    if (this.isStopped || this.holds.size > 0) return false;
    if (this.playoutEndAt < nowMs) this.playoutEndAt = nowMs;
    const bytesPerMs = this.encoder.bytesPerSecond / 1000;
    while (this.queue.length > 0 && this.playoutEndAt - nowMs < this.leadMs) {
      const dry = this.playoutEndAt <= nowMs && this.sentOffset > 0;
      let size = Math.min(this.frameBytes, this.queue.length);
      const nextMark = this.tracker.nextMarkOffset();
      if (nextMark !== undefined && nextMark > this.sentOffset) size = Math.min(size, nextMark - this.sentOffset);
      const bytes = this.queue.take(size, this.scratch);
      if (bytes.length === 0) break; // no progress possible: never spin
      this.channel.sendAudio(bytes);
      this.playoutEndAt += bytes.length / bytesPerMs;
      this.stats.framesSent++;
      this.stats.bytesSent += bytes.length;
      if (dry) this.stats.underruns++;
      for (const utteranceId of this.tracker.takeStartedUtterances(this.sentOffset)) {
        this.broadcast(makeFrame('bot.speech.started', { utteranceId }));
      }
      this.sendDueMarks();
      if (this.isStopped) return false;
    }
    // Carriers that never acknowledge marks must not make us keep every byte.
    this.queue.release(this.sentOffset - this.maxRetainedBytes);
    return this.queue.length > 0;
  }

  protected override onInterruption(): void {
    this.clock.deactivate(this);
    this.queue.clear(); // dropped audio never reaches the stream
    // Close the playback generation before the clear goes out: marks a carrier echoes back for the cleared
    // audio (Twilio does, possibly at once) must not count as heard.
    // Audio the carrier has not confirmed playing may still be queued there: clear it. When every byte sent
    // is confirmed (or a pause already cleared and rewound), there is nothing to drop.
    const unconfirmed = this.sentOffset > this.tracker.ackedOffset;
    const interrupted = this.tracker.interrupt();
    if (unconfirmed) {
      this.channel.clear();
      this.stats.clearsSent++;
    }
    this.playoutEndAt = this.taskClock.now();
    for (const progress of interrupted) {
      this.pushFrame(makeFrame('audio.played', { utteranceId: progress.utteranceId, playedSec: progress.playedSec, complete: false }));
      if (progress.started) {
        this.broadcast(makeFrame('bot.speech.stopped', { utteranceId: progress.utteranceId, interrupted: true }));
      }
    }
    this.checkDrained();
  }

  protected override onEnd(): Promise<void> | void {
    if (this.isIdle()) return;
    const limitMs = this.queuedSec * 1000 + Math.max(0, this.playoutEndAt - this.taskClock.now()) + this.endGraceMs;
    return new Promise<void>((resolve) => {
      const timer = this.setTimer(() => {
        this.log.warn({ callId: this.callId, limitMs }, 'carrier did not confirm playback before end; ending anyway');
        finish();
      }, limitMs);
      const finish = () => {
        this.clearTimer(timer);
        this.drained = undefined;
        resolve();
      };
      this.drained = finish;
    });
  }

  protected override onStop(): void {
    this.clock.deactivate(this);
    this.queue.clear();
    this.drained?.();
  }

  private enqueue(audio: AudioPayload, utteranceId: string | undefined): void {
    const bytes = this.encoder.encode(audio);
    if (bytes.length === 0) return;
    if (utteranceId !== undefined) this.tracker.audioQueued(utteranceId, this.queuedOffset);
    this.queue.push(bytes);
    if (this.holds.size === 0) this.clock.activate(this);
  }

  private hold(reason: string): void {
    const first = this.holds.size === 0;
    this.holds.add(reason);
    if (!first) return;
    this.clock.deactivate(this);
    this.stats.pauses++;
    const now = this.taskClock.now();
    // Audio sent but not confirmed played may still be playing (our playout estimate can run ahead of a late
    // carrier): clear it and send it again later, from the last word the carrier confirmed.
    if (this.sentOffset > this.tracker.ackedOffset) {
      this.tracker.rewind(this.queue.rewind(this.tracker.ackedOffset));
      this.channel.clear();
      this.stats.clearsSent++;
      this.stats.rewinds++;
    }
    this.playoutEndAt = now;
  }

  private release(reason: string): void {
    if (!this.holds.delete(reason) || this.holds.size > 0) return;
    if (this.queue.length > 0) this.clock.activate(this);
    this.checkDrained();
  }

  private sendDueMarks(): void {
    for (const name of this.tracker.takeMarksUpTo(this.sentOffset)) {
      this.channel.sendMark(name);
      this.stats.marksSent++;
    }
  }

  private broadcast(frame: FrameOf<'bot.speech.started'> | FrameOf<'bot.speech.stopped'>): void {
    this.pushFrame(frame, 'upstream');
    this.pushFrame(frame, 'downstream');
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.tracker.activeUtterances === 0;
  }

  private checkDrained(): void {
    if (this.drained && this.isIdle()) this.drained();
  }
}
