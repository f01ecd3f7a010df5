/**
 * 16-bit linear PCM as bytes and signals: the one place for the conversions every layer needs (providers send
 * bytes, carriers and WAV files hold bytes, the pipeline works on samples).
 */
import { StreamResampler } from './resampler.ts';

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

/**
 * Decodes a stream of little-endian 16-bit PCM that arrives in chunks of any length: a sample split across two
 * chunks (odd-length chunk) is carried over and completed by the next one.
 */
export class Pcm16StreamDecoder {
  private oddByte = -1;

  decode(chunk: Uint8Array): Int16Array {
    let bytes = chunk;
    if (this.oddByte >= 0) {
      bytes = new Uint8Array(chunk.length + 1);
      bytes[0] = this.oddByte;
      bytes.set(chunk, 1);
      this.oddByte = -1;
    }
    if (bytes.length & 1) this.oddByte = bytes[bytes.length - 1] as number;
    return pcm16FromBytes(bytes);
  }
}

/** Mixes interleaved multi-channel samples down to mono by averaging (rounded). Mono input is returned as is. */
export function downmixToMono(samples: Int16Array, channels: number): Int16Array {
  if (channels === 1) return samples;
  const frames = Math.floor(samples.length / channels);
  const mono = new Int16Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[f * channels + c] as number;
    mono[f] = Math.round(sum / channels);
  }
  return mono;
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
