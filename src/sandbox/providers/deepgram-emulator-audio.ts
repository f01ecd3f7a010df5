import { alawDecode, mulawDecode, mulawEncode } from '../../audio/g711.ts';
import type { ListenParams } from './deepgram-emulator-params.ts';
import { Pcm16StreamDecoder } from '../../audio/pcm.ts';

/** One binary message decoded: samples for the VAD, and μ-law bytes for line matching when there are any. */
export interface DecodedAudio {
  pcm: Int16Array;
  /** The audio as 8 kHz-comparable μ-law (the received bytes for mulaw; re-encoded for linear16), else null. */
  mulaw: Uint8Array | null;
}

const EMPTY: DecodedAudio = { pcm: new Int16Array(0), mulaw: null };

/**
 * Decodes what a `/v1/listen` client sends: raw `mulaw`, `alaw`, `linear16` (little-endian, samples may be
 * split across messages) per the query, or — without `encoding` — a container. The emulator reads WAV
 * (PCM16, μ-law, A-law) headers; Ogg, FLAC and MP3 are accepted but not decoded (heard as silence); anything
 * else is undecodable. Other raw encodings (opus, amr…) are accepted and heard as silence.
 */
export class ListenAudioDecoder {
  /** Encoding and rate in effect (from the query, or from the WAV header). */
  encoding: string | undefined;
  sampleRate: number;
  private container: 'pending' | 'raw' | 'opaque';
  private header = new Uint8Array(0);
  private readonly linear16 = new Pcm16StreamDecoder();

  constructor(params: Pick<ListenParams, 'encoding' | 'sampleRate'>) {
    this.encoding = params.encoding;
    this.sampleRate = params.sampleRate ?? 8000;
    this.container = params.encoding === undefined ? 'pending' : 'raw';
  }

  /** Decoded audio, null while a container header is still incomplete, false for undecodable data. */
  decode(chunk: Uint8Array): DecodedAudio | null | false {
    if (this.container === 'pending') {
      const body = this.sniffContainer(chunk);
      if (body === false || body === null) return body;
      chunk = body;
    }
    if (this.container === 'opaque') return EMPTY;
    switch (this.encoding) {
      case 'mulaw':
        return { pcm: mulawDecode(chunk), mulaw: chunk };
      case 'alaw':
        return { pcm: alawDecode(chunk), mulaw: null };
      case 'linear16': {
        const pcm = this.linear16.decode(chunk);
        return { pcm, mulaw: this.sampleRate === 8000 ? mulawEncode(pcm) : null };
      }
      default:
        return EMPTY;
    }
  }

  /** Returns the audio after the header, null while the header is incomplete, or false for undecodable data. */
  private sniffContainer(chunk: Uint8Array): Uint8Array | null | false {
    const joined = new Uint8Array(this.header.length + chunk.length);
    joined.set(this.header);
    joined.set(chunk, this.header.length);
    this.header = joined;
    if (joined.length < 4) return null;
    const magic = String.fromCharCode(...joined.subarray(0, 4));
    const mp3Sync = joined[0] === 0xff && ((joined[1] as number) & 0xe0) === 0xe0;
    if (magic === 'OggS' || magic === 'fLaC' || magic.startsWith('ID3') || mp3Sync) {
      this.container = 'opaque';
      return new Uint8Array(0);
    }
    if (magic !== 'RIFF') return false;
    if (joined.length < 12) return null;
    const view = new DataView(joined.buffer, joined.byteOffset, joined.byteLength);
    let offset = 12;
    while (offset + 8 <= joined.length) {
      const id = String.fromCharCode(...joined.subarray(offset, offset + 4));
      const size = view.getUint32(offset + 4, true);
      if (id === 'fmt ') {
        if (offset + 8 + 16 > joined.length) return null;
        const format = view.getUint16(offset + 8, true);
        const bits = view.getUint16(offset + 22, true);
        this.sampleRate = view.getUint32(offset + 12, true);
        if (format === 7 && bits === 8) this.encoding = 'mulaw';
        else if (format === 6 && bits === 8) this.encoding = 'alaw';
        else if (format === 1 && bits === 16) this.encoding = 'linear16';
        else return false;
      } else if (id === 'data') {
        if (this.encoding === undefined) return false;
        this.container = 'raw';
        this.header = new Uint8Array(0);
        return joined.subarray(offset + 8);
      }
      offset += 8 + size + (size & 1);
    }
    return joined.length > 65_536 ? false : null;
  }
}
