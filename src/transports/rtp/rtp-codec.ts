/**
 * Audio codecs an RTP channel can run, each as the channel format the pipeline sees plus how a 20 ms frame of
 * that format becomes an RTP payload and back. G.711 passes bytes through (μ-law stays μ-law end to end);
 * A-law is decoded to PCM on the way in because the pipeline carries only μ-law or PCM.
 */
import { ALAW_SILENCE, MULAW_SILENCE, alawDecode, alawEncode, mulawDecode, mulawEncode } from '../../audio/g711.ts';
import type { AudioPayload } from '../../pipeline/audio-payload.ts';
import type { ChannelAudioFormat } from '../../audio/channel-audio-format.ts';
import { SdpNegotiationError, type NegotiatedMedia } from './sdp-negotiation.ts';

export interface RtpCodec {
  /** SDP encoding name (`PCMU`, `PCMA`, `opus`). */
  readonly name: string;
  readonly clockRate: number;
  /** What the channel carries (MediaChannel.format). */
  readonly format: ChannelAudioFormat;
  /** Channel bytes in one 20 ms frame. */
  readonly frameBytes: number;
  /** RTP clock units in one 20 ms frame. */
  readonly frameUnits: number;
  /** Bytes per RTP clock unit in the jitter buffer's stored (decoded-for-storage) audio. */
  readonly storedBytesPerUnit: number;
  /** Fills `out` with the channel format's silence. */
  silence(out: Uint8Array): void;
  /** A 20 ms frame of channel audio → RTP payload (may return a view of internal scratch). */
  encode(frame: Uint8Array): Uint8Array;
  /** RTP payload → audio to store in the jitter buffer (G.711: the payload itself). */
  decodeForStorage(payload: Uint8Array): Uint8Array;
  /** Stored audio of one frame → what the pipeline receives (copied: the frame buffer is reused). */
  toPayload(frame: Uint8Array): AudioPayload;
  /** Fills a missing frame from the previous one (fading out), or with silence. */
  conceal(out: Uint8Array, previous: Uint8Array | null, count: number): void;
  close?(): void;
}

/** Attenuation per concealed frame (the repeat fades out over ~4 frames). */
const FADE = [1, 0.7, 0.45, 0.25];

class G711Codec implements RtpCodec {
  readonly clockRate = 8000;
  readonly frameBytes = 160;
  readonly frameUnits = 160;
  readonly storedBytesPerUnit = 1;
  private readonly pcm = new Int16Array(160);

  constructor(
    readonly name: 'PCMU' | 'PCMA',
    readonly format: ChannelAudioFormat,
    private readonly silenceByte: number,
    private readonly decode: (src: Uint8Array, out?: Int16Array) => Int16Array,
    private readonly encodeLaw: (src: Int16Array, out?: Uint8Array) => Uint8Array,
  ) {}

  silence(out: Uint8Array): void {
    out.fill(this.silenceByte);
  }

  encode(frame: Uint8Array): Uint8Array {
    return frame;
  }

  decodeForStorage(payload: Uint8Array): Uint8Array {
    return payload;
  }

  toPayload(frame: Uint8Array): AudioPayload {
    if (this.name === 'PCMU') return { sampleRate: 8000, channels: 1, mulaw: frame.slice() };
    return { sampleRate: 8000, channels: 1, pcm: this.decode(frame) };
  }

  conceal(out: Uint8Array, previous: Uint8Array | null, count: number): void {
    const gain = FADE[count - 1];
    if (!previous || gain === undefined) {
      this.silence(out);
      return;
    }
    const pcm = this.decode(previous.subarray(0, out.length), this.pcm.subarray(0, out.length));
    for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round((pcm[i] as number) * gain);
    this.encodeLaw(pcm, out);
  }
}

export function pcmuCodec(): RtpCodec {
  return new G711Codec('PCMU', { encoding: 'mulaw', sampleRate: 8000 }, MULAW_SILENCE, mulawDecode, mulawEncode);
}

export function pcmaCodec(): RtpCodec {
  return new G711Codec('PCMA', { encoding: 'alaw', sampleRate: 8000 }, ALAW_SILENCE, alawDecode, alawEncode);
}

/** The codec of a negotiated media session (488 for one we cannot run). */
export function codecFor(media: NegotiatedMedia): RtpCodec {
  if (media.codec === 'PCMA') return pcmaCodec();
  if (media.codec === 'PCMU') return pcmuCodec();
  throw new SdpNegotiationError(`codec ${media.codec} is not available`, 488);
}
