import type { AudioPayload } from '../pipeline/audio-payload.ts';
import { makeFrame } from '../pipeline/frames.ts';
import { FrameProcessor } from '../pipeline/processor.ts';
import type { ChannelCloseInfo } from './media-channel.ts';

export interface TransportInputOptions {
  /**
   * Caller audio kept while the pipeline has not started yet (the channel's handler is attached when the session is
   * built, `start` comes after; channels also hand over what they buffered before that). Beyond this, the oldest
   * audio is dropped. @default 10
   */
  maxPreStartSec?: number;
}

/** See {@link TransportInputOptions.maxPreStartSec}. */
export const DEFAULT_MAX_PRE_START_SEC = 10;
/** Keypad digits held before `start`, at most (a bound for a channel that sends only digits). */
const MAX_PRE_START_DIGITS = 64;

type PreStartEvent = { kind: 'audio'; audio: AudioPayload; sec: number } | { kind: 'dtmf'; digit: string };

/**
 * Head of a call's pipeline: turns the carrier's audio and DTMF into frames, and asks the task to stop
 * when the caller's side goes away.
 *
 * What arrives before `start` (a callee's "Hello?" said the instant a dial-out is answered, delivered when the
 * session attaches) is kept, bounded by `maxPreStartSec`, and pushed in arrival order right after `start`.
 */
export class TransportInput extends FrameProcessor {
  private receiving = false;
  /** Seconds of caller audio received since start: the input timeline VAD and STT times refer to. */
  receivedSec = 0;
  private readonly maxPreStartSec: number;
  private preStart: PreStartEvent[] = [];
  private preStartSec = 0;
  /** Seconds of pre-start audio dropped because the buffer was full (oldest first). */
  droppedPreStartSec = 0;

  constructor(options: TransportInputOptions = {}) {
    super('TransportInput');
    this.maxPreStartSec = options.maxPreStartSec ?? DEFAULT_MAX_PRE_START_SEC;
  }

  protected override onStarted(): void {
    const held = this.preStart;
    this.preStart = [];
    this.preStartSec = 0;
    this.receiving = true;
    if (this.droppedPreStartSec > 0) {
      this.log.warn(
        { callId: this.callId, droppedSec: round3(this.droppedPreStartSec) },
        'caller audio before the session started was dropped',
      );
    }
    for (const event of held) {
      if (this.isStopped) return;
      if (event.kind === 'audio') this.deliverAudio(event.audio, event.sec);
      else this.pushFrame(makeFrame('dtmf.in', { digit: event.digit }));
    }
  }

  /** Caller audio from the channel. Before `start` it is held (bounded); after the pipeline stopped, dropped. */
  onAudio(audio: AudioPayload): void {
    if (this.isStopped) return;
    const samples = audio.mulaw ? audio.mulaw.length : audio.pcm ? audio.pcm.length : 0;
    const sec = samples / audio.channels / audio.sampleRate;
    if (this.receiving) return this.deliverAudio(audio, sec);
    this.preStart.push({ kind: 'audio', audio, sec });
    this.preStartSec += sec;
    while (this.preStartSec > this.maxPreStartSec && this.preStart.length > 0) {
      const oldest = this.preStart.shift() as PreStartEvent;
      if (oldest.kind !== 'audio') continue;
      this.preStartSec -= oldest.sec;
      this.droppedPreStartSec += oldest.sec;
    }
  }

  onDtmf(digit: string): void {
    if (this.isStopped) return;
    if (this.receiving) return this.pushFrame(makeFrame('dtmf.in', { digit }));
    this.preStart.push({ kind: 'dtmf', digit });
    if (this.preStart.filter((event) => event.kind === 'dtmf').length > MAX_PRE_START_DIGITS) {
      this.preStart.splice(
        this.preStart.findIndex((event) => event.kind === 'dtmf'),
        1,
      );
    }
  }

  /** The carrier closed the media stream: the caller hung up (or the stream broke), so stop now. */
  onClosed(info: ChannelCloseInfo): void {
    if (this.isStopped || info.by === 'local') return;
    const reason = info.by === 'remote' ? `caller hung up (${info.reason})` : `media stream failed (${info.reason})`;
    this.pushFrame(makeFrame('task.cancel', { reason }), 'upstream');
  }

  private deliverAudio(audio: AudioPayload, sec: number): void {
    this.receivedSec += sec;
    this.pushFrame(makeFrame('audio.in', { audio }));
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
