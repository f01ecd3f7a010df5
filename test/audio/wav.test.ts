import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WavFormatError, readWav, writeWav } from '../../src/audio/wav.ts';
import { downmixToMono } from '../../src/audio/pcm.ts';
import { mulawDecode, mulawEncode } from '../../src/audio/g711.ts';
import { FixtureDir, espeakWav, run } from './fixtures.ts';

const dir = new FixtureDir();
let speech8k: string; // 16-bit mono 8 kHz, written by sox
afterAll(() => dir.remove());
beforeAll(() => {
  speech8k = espeakWav(dir, 'Please hold while I transfer your call.', 8000);
});

/** What sox itself decodes the file to, as 16-bit interleaved samples (no dither). */
function soxSamples(path: string): Int16Array {
  const raw = dir.file('sox.s16');
  run('sox', ['-D', path, '-t', 'raw', '-e', 'signed', '-b', '16', raw]);
  const bytes = readFileSync(raw);
  return new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function soxConvert(args: string[]): string {
  const out = dir.file('converted.wav');
  run('sox', [speech8k, ...args, out]);
  return out;
}

const load = (path: string) => readWav(new Uint8Array(readFileSync(path)));

describe('readWav on files written by sox', () => {
  it('16-bit PCM mono', () => {
    const wav = load(speech8k);
    expect(wav).toMatchObject({ sampleRate: 8000, channels: 1, format: 'pcm16' });
    expect(wav.samples.length).toBeGreaterThan(8000);
    expect(Array.from(wav.samples)).toEqual(Array.from(soxSamples(speech8k)));
  });

  it('stereo 16 kHz (interleaved)', () => {
    const path = soxConvert(['-r', '16000', '-c', '2']);
    const wav = load(path);
    expect(wav).toMatchObject({ sampleRate: 16000, channels: 2, format: 'pcm16' });
    expect(Array.from(wav.samples)).toEqual(Array.from(soxSamples(path)));
  });

  it('24-bit, 3 channels (WAVE_FORMAT_EXTENSIBLE, fact chunk)', () => {
    const path = soxConvert(['-b', '24', '-c', '3']);
    expect(readFileSync(path).readUInt16LE(20)).toBe(0xfffe); // really extensible
    const wav = load(path);
    expect(wav).toMatchObject({ sampleRate: 8000, channels: 3, format: 'pcm24' });
    expect(Array.from(wav.samples)).toEqual(Array.from(soxSamples(path)));
  });

  it('32-bit float (fact chunk)', () => {
    const path = soxConvert(['-e', 'floating-point', '-b', '32']);
    const wav = load(path);
    expect(wav.format).toBe('float32');
    // Float → 16 bit: sox and we may round the odd exact half differently.
    const ref = soxSamples(path);
    expect(wav.samples.length).toBe(ref.length);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs((wav.samples[i] as number) - (ref[i] as number)));
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('8-bit unsigned PCM', () => {
    const path = soxConvert(['-b', '8']);
    const wav = load(path);
    expect(wav.format).toBe('pcm8');
    expect(Array.from(wav.samples)).toEqual(Array.from(soxSamples(path)));
  });

  for (const [enc, format] of [
    ['mu-law', 'mulaw'],
    ['a-law', 'alaw'],
  ] as const) {
    it(`G.711 ${format} WAV`, () => {
      const path = soxConvert(['-D', '-e', enc]);
      const wav = load(path);
      expect(wav).toMatchObject({ sampleRate: 8000, channels: 1, format });
      expect(Array.from(wav.samples)).toEqual(Array.from(soxSamples(path)));
    });
  }

  it('skips unknown chunks (LIST with odd size + pad byte, junk) wherever they are', () => {
    const original = readFileSync(speech8k);
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([5, 0, 0, 0]), Buffer.from('INFOx'), Buffer.from([0])]);
    const junk = Buffer.concat([Buffer.from('junk'), Buffer.from([4, 0, 0, 0]), Buffer.alloc(4)]);
    // RIFF header, junk, fmt (24 bytes), LIST, data…
    const patched = Buffer.concat([original.subarray(0, 12), junk, original.subarray(12, 36), list, original.subarray(36)]);
    patched.writeUInt32LE(patched.length - 8, 4);
    expect(Array.from(readWav(patched).samples)).toEqual(Array.from(load(speech8k).samples));
  });

  it('reads what is there when the data size runs past the end (file still being written)', () => {
    const original = Buffer.from(readFileSync(speech8k));
    const cut = original.subarray(0, 44 + 1001); // 500.5 frames
    expect(readWav(cut).samples.length).toBe(500);
  });
});

describe('readWav errors', () => {
  it('says what is wrong', () => {
    expect(() => readWav(new Uint8Array(4))).toThrow(WavFormatError);
    expect(() => readWav(Buffer.from('{"not":"a wav file at all"}'))).toThrow(/missing RIFF\/WAVE header/);
    const original = readFileSync(speech8k);
    expect(() => readWav(original.subarray(0, 36))).toThrow(/no data chunk/);
    const noFmt = Buffer.concat([original.subarray(0, 12), original.subarray(36)]);
    expect(() => readWav(noFmt)).toThrow(/no fmt chunk/);
    const adpcm = soxConvert(['-e', 'ima-adpcm']);
    expect(() => load(adpcm)).toThrow(/unsupported WAV format tag 0x0011/);
  });
});

describe('writeWav', () => {
  it('writes 16-bit PCM that sox reads back identically', () => {
    const samples = Int16Array.from({ length: 4000 }, (_, i) => Math.round(9000 * Math.sin(i / 5)) + (i % 7));
    const path = dir.file('ours.wav');
    writeFileSync(path, writeWav({ sampleRate: 16000, channels: 2, samples }));
    const info = execFileSync('soxi', [path], { encoding: 'utf8' });
    expect(info).toMatch(/Channels\s*: 2/);
    expect(info).toMatch(/Sample Rate\s*: 16000/);
    expect(info).toMatch(/16-bit Signed Integer PCM/);
    expect(Array.from(soxSamples(path))).toEqual(Array.from(samples));
    expect(readWav(readFileSync(path))).toMatchObject({ sampleRate: 16000, channels: 2, format: 'pcm16' });
  });

  it('writes μ-law WAV that sox decodes to the same samples as ours', () => {
    const samples = Int16Array.from({ length: 3000 }, (_, i) => Math.round(20000 * Math.sin(i / 3)));
    const path = dir.file('ours-ulaw.wav');
    writeFileSync(path, writeWav({ sampleRate: 8000, channels: 1, samples, format: 'mulaw' }));
    expect(execFileSync('soxi', [path], { encoding: 'utf8' })).toMatch(/u-law/);
    const expected = mulawDecode(mulawEncode(samples));
    expect(Array.from(soxSamples(path))).toEqual(Array.from(expected));
    expect(Array.from(readWav(readFileSync(path)).samples)).toEqual(Array.from(expected));
  });

  it('rejects a sample count that is not whole frames', () => {
    expect(() => writeWav({ sampleRate: 8000, channels: 2, samples: new Int16Array(3) })).toThrow(/whole number/);
  });
});

describe('downmixToMono', () => {
  it('averages channels per frame', () => {
    expect(Array.from(downmixToMono(Int16Array.of(100, 300, -5, -6, 32767, 32767), 2))).toEqual([200, -5, 32767]);
  });
});
