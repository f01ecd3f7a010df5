/** A growable recording of one direction of a call's audio (8 kHz μ-law), exportable as WAV. */
import { mulawDecode } from '../../../audio/g711.ts';
import { writeWav } from '../../../audio/wav.ts';

export class AudioTape {
  private buffer: Uint8Array;
  private length = 0;

  constructor(initialBytes = 8000 * 10) {
    this.buffer = new Uint8Array(initialBytes);
  }

  append(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.buffer.length) {
      let capacity = this.buffer.length * 2;
      while (capacity < this.length + bytes.length) capacity *= 2;
      const grown = new Uint8Array(capacity);
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  get byteLength(): number {
    return this.length;
  }

  /** Duration recorded, in ms. */
  get durationMs(): number {
    return this.length / 8;
  }

  /** A copy of the recorded μ-law bytes. */
  mulaw(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  /** Decoded 16-bit PCM, 8 kHz mono. */
  pcm(): Int16Array {
    return mulawDecode(this.buffer.subarray(0, this.length));
  }

  /** The recording as a WAV file (16-bit PCM by default, or μ-law as received). */
  wav(format: 'pcm16' | 'mulaw' = 'pcm16'): Buffer {
    return writeWav({ sampleRate: 8000, channels: 1, samples: this.pcm(), format });
  }
}

/** Both directions as a stereo WAV: left = what the callee said, right = what the callee heard (the bot). */
export function stereoWav(left: AudioTape, right: AudioTape): Buffer {
  const l = left.pcm();
  const r = right.pcm();
  const frames = Math.max(l.length, r.length);
  const samples = new Int16Array(frames * 2);
  for (let i = 0; i < frames; i++) {
    samples[2 * i] = l[i] ?? 0;
    samples[2 * i + 1] = r[i] ?? 0;
  }
  return writeWav({ sampleRate: 8000, channels: 2, samples });
}
