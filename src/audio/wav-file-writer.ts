/**
 * A PCM16 WAV file written as it grows: a header with the sizes so far, then interleaved samples appended.
 * Every {@link WavFileWriter.append} rewrites the header's two size fields after the data, so the file on disk
 * is a valid WAV of everything appended so far — a crash loses only what was never appended.
 */
import { open, type FileHandle } from 'node:fs/promises';

const HEADER_BYTES = 44;

export interface WavFileWriterOptions {
  sampleRate: number;
  channels: number;
}

export class WavFileWriter {
  private dataBytes = 0;

  private constructor(
    private readonly file: FileHandle,
    private readonly options: WavFileWriterOptions,
  ) {}

  /** Creates (or truncates) `path` and writes an empty WAV header. */
  static async create(path: string, options: WavFileWriterOptions): Promise<WavFileWriter> {
    const file = await open(path, 'w');
    const writer = new WavFileWriter(file, options);
    await file.write(writer.header(), 0, HEADER_BYTES, 0);
    return writer;
  }

  /** Bytes of sample data written so far. */
  get dataByteLength(): number {
    return this.dataBytes;
  }

  /** Appends interleaved samples and updates the header's sizes. */
  async append(samples: Int16Array): Promise<void> {
    if (samples.length === 0) return;
    const bytes = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength); // little-endian hosts only
    await this.file.write(bytes, 0, bytes.length, HEADER_BYTES + this.dataBytes);
    this.dataBytes += bytes.length;
    await this.file.write(this.header(), 0, HEADER_BYTES, 0);
  }

  async close(): Promise<void> {
    await this.file.write(this.header(), 0, HEADER_BYTES, 0);
    await this.file.close();
  }

  private header(): Buffer {
    const { sampleRate, channels } = this.options;
    const header = Buffer.alloc(HEADER_BYTES);
    header.write('RIFF', 0, 'ascii');
    header.writeUInt32LE(36 + this.dataBytes, 4);
    header.write('WAVE', 8, 'ascii');
    header.write('fmt ', 12, 'ascii');
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20); // PCM
    header.writeUInt16LE(channels, 22);
    header.writeUInt32LE(sampleRate, 24);
    header.writeUInt32LE(sampleRate * channels * 2, 28);
    header.writeUInt16LE(channels * 2, 32);
    header.writeUInt16LE(16, 34);
    header.write('data', 36, 'ascii');
    header.writeUInt32LE(this.dataBytes, 40);
    return header;
  }
}
