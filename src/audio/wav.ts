/**
 * Minimal RIFF/WAVE reader and writer.
 *
 * Reads PCM (8/16/24/32-bit), IEEE float (32/64-bit), μ-law and A-law, plain or WAVE_FORMAT_EXTENSIBLE, skipping
 * any chunks it does not need (LIST, fact, cue, bext, …). Everything is decoded to interleaved 16-bit samples;
 * float input is clipped to ±1 and rounded.
 */
import { alawDecode, alawEncode, mulawDecode, mulawEncode } from './g711.ts';
import { SwitchboardError } from '../errors.ts';

/** Sample encoding found in the file (before decoding to 16-bit). */
export type WavFormat = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64' | 'mulaw' | 'alaw';

export interface WavData {
  sampleRate: number;
  channels: number;
  format: WavFormat;
  /** Interleaved samples decoded to 16-bit; length = frames × channels. */
  samples: Int16Array;
}

/** Thrown for anything that is not a WAV file we can decode; the message says what was found. */
export class WavFormatError extends SwitchboardError {
  constructor(message: string) {
    super(message, { code: 'invalid_wav' });
  }
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_ALAW = 0x0006;
const WAVE_FORMAT_MULAW = 0x0007;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

function fourcc(view: DataView, offset: number): string {
  return String.fromCharCode(view.getUint8(offset), view.getUint8(offset + 1), view.getUint8(offset + 2), view.getUint8(offset + 3));
}

function formatOf(tag: number, bits: number): WavFormat {
  if (tag === WAVE_FORMAT_PCM) {
    if (bits === 8) return 'pcm8';
    if (bits === 16) return 'pcm16';
    if (bits === 24) return 'pcm24';
    if (bits === 32) return 'pcm32';
    throw new WavFormatError(`unsupported PCM bit depth ${bits} (supported: 8, 16, 24, 32)`);
  }
  if (tag === WAVE_FORMAT_IEEE_FLOAT) {
    if (bits === 32) return 'float32';
    if (bits === 64) return 'float64';
    throw new WavFormatError(`unsupported float bit depth ${bits} (supported: 32, 64)`);
  }
  if (tag === WAVE_FORMAT_MULAW || tag === WAVE_FORMAT_ALAW) {
    if (bits !== 8) throw new WavFormatError(`G.711 WAV must be 8 bits per sample, got ${bits}`);
    return tag === WAVE_FORMAT_MULAW ? 'mulaw' : 'alaw';
  }
  throw new WavFormatError(`unsupported WAV format tag 0x${tag.toString(16).padStart(4, '0')}`);
}

function floatToInt16(v: number): number {
  const s = Math.round(v * 32768);
  return s > 32767 ? 32767 : s < -32768 ? -32768 : Number.isNaN(s) ? 0 : s;
}

function decodeSamples(format: WavFormat, view: DataView, offset: number, count: number): Int16Array {
  const out = new Int16Array(count);
  switch (format) {
    case 'pcm8': // unsigned, 128 = zero
      for (let i = 0; i < count; i++) out[i] = (view.getUint8(offset + i) - 128) << 8;
      break;
    case 'pcm16':
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, true);
      break;
    case 'pcm24': // keep the top 16 bits (truncation, as every 24 → 16 bit tool without dither does)
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 3 * i + 1, true);
      break;
    case 'pcm32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, true) >> 16;
      break;
    case 'float32':
      for (let i = 0; i < count; i++) out[i] = floatToInt16(view.getFloat32(offset + 4 * i, true));
      break;
    case 'float64':
      for (let i = 0; i < count; i++) out[i] = floatToInt16(view.getFloat64(offset + 8 * i, true));
      break;
    case 'mulaw':
      mulawDecode(new Uint8Array(view.buffer, view.byteOffset + offset, count), out);
      break;
    case 'alaw':
      alawDecode(new Uint8Array(view.buffer, view.byteOffset + offset, count), out);
      break;
  }
  return out;
}

/**
 * Parses a WAV file held in memory. Throws {@link WavFormatError} with a specific message for non-WAV input,
 * truncated headers, missing chunks and unsupported encodings. A data chunk whose declared size runs past the
 * end of the buffer (common for files written while streaming) is read up to the last whole frame.
 */
export function readWav(buf: Uint8Array): WavData {
  if (buf.length < 12) throw new WavFormatError(`not a WAV file: only ${buf.length} bytes`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const riff = fourcc(view, 0);
  if (riff === 'RIFX' || riff === 'RF64') throw new WavFormatError(`unsupported ${riff} container (only RIFF)`);
  if (riff !== 'RIFF' || fourcc(view, 8) !== 'WAVE') throw new WavFormatError('not a WAV file: missing RIFF/WAVE header');

  let fmt: { tag: number; channels: number; sampleRate: number; blockAlign: number; bits: number } | undefined;
  let data: { offset: number; size: number } | undefined;
  let pos = 12;
  while (pos + 8 <= buf.length) {
    const id = fourcc(view, pos);
    const size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw new WavFormatError(`fmt chunk too short (${size} bytes)`);
      let tag = view.getUint16(body, true);
      const bits = view.getUint16(body + 14, true);
      if (tag === WAVE_FORMAT_EXTENSIBLE) {
        // WAVEFORMATEXTENSIBLE: cbSize(2) validBits(2) channelMask(4) SubFormat GUID (first 2 bytes = format tag).
        if (size < 40 || body + 26 > buf.length) throw new WavFormatError('WAVE_FORMAT_EXTENSIBLE fmt chunk too short');
        tag = view.getUint16(body + 24, true);
      }
      fmt = {
        tag,
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        blockAlign: view.getUint16(body + 12, true),
        bits,
      };
    } else if (id === 'data') {
      data = { offset: body, size: Math.min(size, buf.length - body) };
      if (fmt) break; // everything needed; ignore trailing chunks
    }
    pos = body + size + (size & 1); // chunks are word-aligned
  }
  if (!fmt) throw new WavFormatError('WAV file has no fmt chunk');
  if (!data) throw new WavFormatError('WAV file has no data chunk');
  const format = formatOf(fmt.tag, fmt.bits);
  if (fmt.channels < 1) throw new WavFormatError(`invalid channel count ${fmt.channels}`);
  if (fmt.sampleRate < 1) throw new WavFormatError(`invalid sample rate ${fmt.sampleRate}`);
  const bytesPerSample = fmt.bits / 8;
  const blockAlign = fmt.blockAlign || bytesPerSample * fmt.channels;
  if (blockAlign !== bytesPerSample * fmt.channels) {
    throw new WavFormatError(`inconsistent block align ${blockAlign} for ${fmt.channels} × ${fmt.bits}-bit samples`);
  }
  const frames = Math.floor(data.size / blockAlign);
  return {
    sampleRate: fmt.sampleRate,
    channels: fmt.channels,
    format,
    samples: decodeSamples(format, view, data.offset, frames * fmt.channels),
  };
}

export interface WavWriteInput {
  sampleRate: number;
  channels: number;
  /** Interleaved 16-bit samples. */
  samples: Int16Array;
  /** Encoding to store. @default 'pcm16' */
  format?: 'pcm16' | 'mulaw' | 'alaw';
}

/** Encodes interleaved 16-bit samples as a WAV file (PCM, or G.711 with the fact chunk the spec requires). */
export function writeWav(input: WavWriteInput): Buffer {
  const { sampleRate, channels, samples } = input;
  const format = input.format ?? 'pcm16';
  if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`writeWav: invalid channel count ${channels}`);
  if (!Number.isInteger(sampleRate) || sampleRate < 1) throw new RangeError(`writeWav: invalid sample rate ${sampleRate}`);
  if (samples.length % channels !== 0) {
    throw new RangeError(`writeWav: ${samples.length} samples is not a whole number of ${channels}-channel frames`);
  }
  const pcm = format === 'pcm16';
  const bytesPerSample = pcm ? 2 : 1;
  const dataSize = samples.length * bytesPerSample;
  const fmtSize = pcm ? 16 : 18; // non-PCM formats carry cbSize = 0
  const factSize = pcm ? 0 : 12;
  const total = 12 + 8 + fmtSize + factSize + 8 + dataSize + (dataSize & 1);
  const out = Buffer.alloc(total);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(total - 8, 4);
  out.write('WAVE', 8, 'ascii');
  out.write('fmt ', 12, 'ascii');
  out.writeUInt32LE(fmtSize, 16);
  out.writeUInt16LE(pcm ? WAVE_FORMAT_PCM : format === 'mulaw' ? WAVE_FORMAT_MULAW : WAVE_FORMAT_ALAW, 20);
  out.writeUInt16LE(channels, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * channels * bytesPerSample, 28);
  out.writeUInt16LE(channels * bytesPerSample, 32);
  out.writeUInt16LE(bytesPerSample * 8, 34);
  let pos = 36;
  if (!pcm) {
    out.writeUInt16LE(0, pos); // cbSize
    pos += 2;
    out.write('fact', pos, 'ascii');
    out.writeUInt32LE(4, pos + 4);
    out.writeUInt32LE(samples.length / channels, pos + 8);
    pos += 12;
  }
  out.write('data', pos, 'ascii');
  out.writeUInt32LE(dataSize, pos + 4);
  pos += 8;
  if (pcm) {
    for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i] as number, pos + 2 * i);
  } else {
    const dst = new Uint8Array(out.buffer, out.byteOffset + pos, samples.length);
    if (format === 'mulaw') mulawEncode(samples, dst);
    else alawEncode(samples, dst);
  }
  return out;
}
