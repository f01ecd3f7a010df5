import type { AudioPayload } from '../pipeline/audio-payload.ts';
import { makeFrame } from '../pipeline/frames.ts';
import { FrameProcessor } from '../pipeline/processor.ts';
import type { ChannelCloseInfo } from './media-channel.ts';

/**
 * Head of a call's pipeline: turns the carrier's audio and DTMF into frames, and asks the task to stop
 * when the caller's side goes away.
 */
export class TransportInput extends FrameProcessor {
  private receiving = false;
  /** Seconds of caller audio received since start: the input timeline VAD and STT times refer to. */
  receivedSec = 0;

  constructor() {
    super('TransportInput');
  }

  protected override onStart(): void {
    this.receiving = true;
  }

  /** Caller audio from the channel. Audio before `start` has nowhere to go and is dropped. */
  onAudio(audio: AudioPayload): void {
    if (!this.receiving || this.isStopped) return;
    const samples = audio.mulaw ? audio.mulaw.length : audio.pcm ? audio.pcm.length : 0;
    this.receivedSec += samples / audio.channels / audio.sampleRate;
    this.pushFrame(makeFrame('audio.in', { audio }));
  }

  onDtmf(digit: string): void {
    if (!this.receiving || this.isStopped) return;
    this.pushFrame(makeFrame('dtmf.in', { digit }));
  }

  /** The carrier closed the media stream: the caller hung up (or the stream broke), so stop now. */
  onClosed(info: ChannelCloseInfo): void {
    if (this.isStopped || info.by === 'local') return;
    const reason = info.by === 'remote' ? `caller hung up (${info.reason})` : `media stream failed (${info.reason})`;
    this.pushFrame(makeFrame('task.cancel', { reason }), 'upstream');
  }
}
