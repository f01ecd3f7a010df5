/**
 * Audio formats TTS delivers, and conversion from whatever a provider returns into the format the pipeline
 * asked for (resampling with the audio core's StreamResampler, G.711 with its codec).
 */
import { mulawDecode, mulawEncode } from '../../audio/g711.ts';
import { StreamResampler } from '../../audio/resampler.ts';
import { Pcm16StreamDecoder, pcm16ToBytes } from '../../audio/pcm.ts';
import type { AudioPayload } from '../../pipeline/audio-payload.ts';

/** `mulaw`: G.711 μ-law, one byte per sample (telephony). `pcm16`: 16-bit signed little-endian linear PCM. */
export type TtsEncoding = 'mulaw' | 'pcm16';

/** Mono audio of one encoding at one rate. */
export interface TtsAudioFormat {
  encoding: TtsEncoding;
  sampleRate: number;
}

/** Seconds of audio in `byteLength` bytes of `format`. */
export function bytesToSeconds(byteLength: number, format: TtsAudioFormat): number {
  return byteLength / (format.encoding === 'mulaw' ? 1 : 2) / format.sampleRate;
}

/** Wraps samples already at `format.sampleRate` as a payload in `format.encoding`. */
export function toPayload(pcm: Int16Array, format: TtsAudioFormat): AudioPayload {
  return format.encoding === 'mulaw'
    ? { sampleRate: format.sampleRate, channels: 1, mulaw: mulawEncode(pcm) }
    : { sampleRate: format.sampleRate, channels: 1, pcm };
}

/** Raw bytes of a payload in its own encoding (μ-law bytes, or PCM as little-endian bytes). */
export function payloadBytes(audio: AudioPayload): Uint8Array {
  if (audio.mulaw) return audio.mulaw;
  return pcm16ToBytes(audio.pcm ?? new Int16Array(0));
}

/**
 * Converts a stream of provider audio chunks (bytes in `from`) into payloads in `to`. Chunk borders may
 * split a 16-bit sample; the odd byte is kept for the next chunk. When rates differ, the resampler's
 * delay is trimmed from the start and its tail released by {@link flush}, so output sample n is input time
 * n / to.sampleRate exactly and word timestamps stay valid.
 */
export class AudioConverter {
  private readonly resampler: StreamResampler | undefined;
  private toTrim: number;
  private readonly pcm16 = new Pcm16StreamDecoder();
  private inputSamples = 0;
  private outputSamples = 0;

  constructor(
    readonly from: TtsAudioFormat,
    readonly to: TtsAudioFormat,
  ) {
    this.resampler = from.sampleRate === to.sampleRate ? undefined : new StreamResampler(from.sampleRate, to.sampleRate);
    this.toTrim = this.resampler?.latencySamples ?? 0;
  }

  /** Converts one chunk; returns undefined when it yields no whole sample yet. */
  push(bytes: Uint8Array): AudioPayload | undefined {
    if (bytes.length === 0) return undefined;
    if (!this.resampler && this.from.encoding === this.to.encoding) {
      if (this.to.encoding === 'mulaw') return { sampleRate: this.to.sampleRate, channels: 1, mulaw: bytes.slice() };
    }
    const pcm = this.decode(bytes);
    if (pcm.length === 0) return undefined;
    this.inputSamples += pcm.length;
    return this.emit(this.resampler ? this.resampler.process(pcm) : pcm);
  }

  /** Ends the stream: the resampler's last samples, if any. */
  flush(): AudioPayload | undefined {
    if (!this.resampler) return undefined;
    const tail = this.resampler.flush();
    const wanted = Math.round((this.inputSamples * this.to.sampleRate) / this.from.sampleRate) - this.outputSamples;
    this.inputSamples = 0;
    return this.emit(tail, Math.max(0, wanted));
  }

  private decode(bytes: Uint8Array): Int16Array {
    return this.from.encoding === 'mulaw' ? mulawDecode(bytes) : this.pcm16.decode(bytes);
  }

  private emit(samples: Int16Array, limit = Infinity): AudioPayload | undefined {
    let out = samples;
    if (this.toTrim > 0) {
      const trim = Math.min(this.toTrim, out.length);
      out = out.subarray(trim);
      this.toTrim -= trim;
    }
    if (out.length > limit) out = out.subarray(0, limit);
    if (out.length === 0) return undefined;
    this.outputSamples += out.length;
    return toPayload(out.slice(), this.to);
  }
}
