import type { ChannelAudioFormat } from '../audio/channel-audio-format.ts';
import { alawEncode, mulawDecode, mulawEncode } from '../audio/g711.ts';
import { StreamResampler } from '../audio/resampler.ts';
import type { AudioPayload } from '../pipeline/audio-payload.ts';
import { downmixToMono } from '../audio/pcm.ts';

/**
 * Turns pipeline audio into the bytes a channel carries. μ-law at the channel's rate passes through
 * untouched (the common telephony case: TTS asked for 8 kHz μ-law); anything else is decoded, resampled
 * (with state kept across chunks) and encoded.
 */
export class ChannelAudioEncoder {
  private resampler: StreamResampler | undefined;

  constructor(private readonly format: ChannelAudioFormat) {}

  /** Bytes per second of channel audio. */
  get bytesPerSecond(): number {
    return this.format.sampleRate * (this.format.encoding === 'pcm16' ? 2 : 1);
  }

  encode(audio: AudioPayload): Uint8Array {
    const { encoding, sampleRate } = this.format;
    if (encoding === 'mulaw' && audio.mulaw && audio.sampleRate === sampleRate && audio.channels === 1) {
      return audio.mulaw;
    }
    let pcm = audio.pcm ?? mulawDecode(audio.mulaw ?? new Uint8Array(0));
    if (audio.channels !== 1) pcm = downmixToMono(pcm, audio.channels);
    if (audio.sampleRate !== sampleRate) {
      if (!this.resampler || this.resampler.fromRate !== audio.sampleRate) {
        this.resampler = new StreamResampler(audio.sampleRate, sampleRate);
      }
      pcm = this.resampler.process(pcm);
    }
    if (encoding === 'mulaw') return mulawEncode(pcm);
    if (encoding === 'alaw') return alawEncode(pcm);
    return new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength).slice(); // little-endian hosts only
  }
}
