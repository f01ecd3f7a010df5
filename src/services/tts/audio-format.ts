/**
 * Audio formats TTS delivers, and conversion from whatever a provider returns into the format the pipeline
 * asked for (resampling with the audio core's StreamResampler, G.711 with its codec).
 */
import { mulawDecode, mulawEncode } from '../../audio/g711.ts';
import { StreamResampler } from '../../audio/resampler.ts';
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

/** Resamples a whole signal, aligned (the filter's delay removed) so sample times are unchanged. */
export function resampleWhole(pcm: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate) return pcm;
  const resampler = new StreamResampler(fromRate, toRate);
  const head = resampler.process(pcm);
  const tail = resampler.flush();
  const all = new Int16Array(head.length + tail.length);
  all.set(head);
  all.set(tail, head.length);
  const length = Math.round((pcm.length * toRate) / fromRate);
  return all.slice(resampler.latencySamples, resampler.latencySamples + length);
}

/** Copies little-endian 16-bit samples out of bytes (which need not be 2-byte aligned in memory). */
export function pcm16FromBytes(bytes: Uint8Array): Int16Array {
  const samples = new Int16Array(bytes.length >> 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true);
  return samples;
}

/** Little-endian bytes of 16-bit samples. */
export function pcm16ToBytes(pcm: Int16Array): Uint8Array {
  const bytes = new Uint8Array(pcm.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < pcm.length; i++) view.setInt16(i * 2, pcm[i] as number, true);
  return bytes;
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
  private carry: number | undefined;
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
    if (this.from.encoding === 'mulaw') return mulawDecode(bytes);
    let data = bytes;
    if (this.carry !== undefined) {
      data = new Uint8Array(bytes.length + 1);
      data[0] = this.carry;
      data.set(bytes, 1);
      this.carry = undefined;
    }
    if (data.length % 2 === 1) this.carry = data[data.length - 1];
    return pcm16FromBytes(data);
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
