import type { ChannelAudioFormat } from '../../audio/channel-audio-format.ts';
import type { MediaChannel, MediaChannelHandler } from '../../transports/media-channel.ts';

/**
 * The bot's media in a Daily room: its SIP leg's RTP channel, except that keypad tones go to the dialled party
 * through Daily's `dialOut/sendDTMF` when the call is a dial-out (the room does not relay the bot leg's RFC 4733
 * events to other legs — an emulator choice; Daily does not document it either way).
 */
export class RoomMediaChannel implements MediaChannel {
  readonly carrierCallId: string;
  readonly format: ChannelAudioFormat;
  readonly echoesMarksOnClear: boolean;

  constructor(
    private readonly leg: MediaChannel,
    private readonly dtmf: ((digits: string) => void) | undefined,
  ) {
    this.carrierCallId = leg.carrierCallId;
    this.format = leg.format;
    this.echoesMarksOnClear = leg.echoesMarksOnClear;
  }

  setHandler(handler: MediaChannelHandler): void {
    this.leg.setHandler(handler);
  }

  sendAudio(bytes: Uint8Array): void {
    this.leg.sendAudio(bytes);
  }

  sendMark(name: string): void {
    this.leg.sendMark(name);
  }

  clear(): void {
    this.leg.clear();
  }

  sendDtmf(digits: string): void {
    if (this.dtmf) this.dtmf(digits);
    else this.leg.sendDtmf?.(digits);
  }

  close(reason: string): void {
    this.leg.close(reason);
  }
}
