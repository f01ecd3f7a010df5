import { pcm16FromBytes } from '../../services/tts/audio-format.ts';

/**
 * Decodes a stream of little-endian 16-bit PCM that arrives in chunks of any length: a sample split across
 * two chunks (odd-length chunk) is carried over and completed by the next one.
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
