import type { ChannelAudioFormat } from '../audio/channel-audio-format.ts';
import type { MediaChannel, MediaChannelHandler } from '../transports/media-channel.ts';
import type { CallRecorder } from './call-recorder.ts';

/**
 * A media channel that records what passes through it: caller audio as it arrives, bot audio as it is sent,
 * and the carrier's `clear` (where the bot channel is cut). Everything else goes straight to the channel it
 * wraps, so transports, playback marks and the carrier see no difference.
 */
export class RecordingMediaChannel implements MediaChannel {
  readonly sendDtmf?: (digits: string) => void;

  constructor(
    private readonly inner: MediaChannel,
    private readonly recorder: CallRecorder,
  ) {
    if (inner.sendDtmf) this.sendDtmf = (digits) => inner.sendDtmf?.(digits);
  }

  get carrierCallId(): string {
    return this.inner.carrierCallId;
  }

  get format(): ChannelAudioFormat {
    return this.inner.format;
  }

  get dtmfInBand(): boolean {
    return this.inner.dtmfInBand === true;
  }

  get echoesMarksOnClear(): boolean {
    return this.inner.echoesMarksOnClear;
  }

  setHandler(handler: MediaChannelHandler): void {
    this.inner.setHandler({
      ...handler,
      audio: (audio) => {
        this.recorder.caller(audio);
        handler.audio(audio);
      },
      closed: (info) => {
        this.recorder.mediaEnded();
        handler.closed(info);
      },
    });
  }

  sendAudio(bytes: Uint8Array): void {
    this.recorder.bot(bytes, this.inner.format);
    this.inner.sendAudio(bytes);
  }

  sendMark(name: string): void {
    this.inner.sendMark(name);
  }

  clear(): void {
    this.recorder.clearBot();
    this.inner.clear();
  }

  close(reason: string): void {
    this.recorder.mediaEnded();
    this.inner.close(reason);
  }
}
