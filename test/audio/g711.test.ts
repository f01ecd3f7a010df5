import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ALAW_SILENCE, MULAW_SILENCE, alawDecode, alawEncode, mulawDecode, mulawEncode } from '../../src/audio/g711.ts';
import { FixtureDir, espeakWav, run } from './fixtures.ts';

const dir = new FixtureDir();
afterAll(() => dir.remove());

const laws = [
  { name: 'μ-law', sox: 'mu-law', encode: mulawEncode, decode: mulawDecode },
  { name: 'A-law', sox: 'a-law', encode: alawEncode, decode: alawDecode },
] as const;

function int16FromFile(path: string): Int16Array {
  const bytes = readFileSync(path);
  return new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function allInt16(): Int16Array {
  const all = new Int16Array(65536);
  for (let i = 0; i < 65536; i++) all[i] = i - 32768;
  return all;
}

describe('G.711 against sox', () => {
  // -D: sox would otherwise dither when reducing 16-bit input to G.711's 13/14 bits (and then differ run to run).
  for (const law of laws) {
    it(`${law.name}: encodes every 16-bit value exactly like sox`, () => {
      const all = allInt16();
      const rawPath = dir.file('all.s16');
      writeFileSync(rawPath, new Uint8Array(all.buffer));
      const codedPath = dir.file('all.g711');
      run('sox', [
        '-D',
        '-t',
        'raw',
        '-r',
        '8000',
        '-e',
        'signed',
        '-b',
        '16',
        '-c',
        '1',
        rawPath,
        '-t',
        'raw',
        '-e',
        law.sox,
        '-b',
        '8',
        codedPath,
      ]);
      const soxCodes = new Uint8Array(readFileSync(codedPath));
      const ours = law.encode(all);
      let mismatches = 0;
      for (let i = 0; i < all.length; i++) if (ours[i] !== soxCodes[i]) mismatches++;
      expect(mismatches).toBe(0);
    });

    it(`${law.name}: encodes and decodes real speech byte-for-byte like sox`, () => {
      const wav = espeakWav(dir, 'Thanks for calling, your order number is four five six seven.', 8000);
      const codedPath = dir.file('speech.g711');
      run('sox', ['-D', wav, '-t', 'raw', '-e', law.sox, '-b', '8', codedPath]);
      const pcmPath = dir.file('speech.s16');
      run('sox', [wav, '-t', 'raw', '-e', 'signed', '-b', '16', pcmPath]);
      const pcm = int16FromFile(pcmPath);
      const soxCodes = new Uint8Array(readFileSync(codedPath));
      expect(pcm.length).toBeGreaterThan(8000);
      expect(Buffer.from(law.encode(pcm)).equals(Buffer.from(soxCodes))).toBe(true);

      // Decoder: sox's decode of the same bytes.
      const decodedPath = dir.file('speech-decoded.s16');
      run('sox', [
        '-t',
        'raw',
        '-r',
        '8000',
        '-e',
        law.sox,
        '-b',
        '8',
        '-c',
        '1',
        codedPath,
        '-t',
        'raw',
        '-e',
        'signed',
        '-b',
        '16',
        decodedPath,
      ]);
      expect(Array.from(law.decode(soxCodes))).toEqual(Array.from(int16FromFile(decodedPath)));
    });

    it(`${law.name}: decodes all 256 codes like sox`, () => {
      const codes = new Uint8Array(256).map((_, i) => i);
      const codesPath = dir.file('codes.g711');
      writeFileSync(codesPath, codes);
      const decodedPath = dir.file('codes.s16');
      run('sox', [
        '-t',
        'raw',
        '-r',
        '8000',
        '-e',
        law.sox,
        '-b',
        '8',
        '-c',
        '1',
        codesPath,
        '-t',
        'raw',
        '-e',
        'signed',
        '-b',
        '16',
        decodedPath,
      ]);
      expect(Array.from(law.decode(codes))).toEqual(Array.from(int16FromFile(decodedPath)));
    });
  }
});

describe('G.711 properties', () => {
  it('known values', () => {
    expect(MULAW_SILENCE).toBe(0xff);
    expect(ALAW_SILENCE).toBe(0xd5);
    expect(Array.from(mulawEncode(Int16Array.of(0, -1, 32767, -32768, 1000, -1000)))).toEqual([0xff, 0xff, 0x80, 0x00, 0xce, 0x4e]);
    expect(Array.from(mulawDecode(Uint8Array.of(0xff, 0x7f, 0x80, 0x00, 0xce)))).toEqual([0, 0, 32124, -32124, 988]);
    // Input is rounded to 13 bits first: -1 rounds to 0 (code of +0), -5 to -1 (code of -0).
    expect(Array.from(alawEncode(Int16Array.of(0, -1, -5, 32767, -32768)))).toEqual([0xd5, 0xd5, 0x55, 0xaa, 0x2a]);
    expect(Array.from(alawDecode(Uint8Array.of(0xd5, 0x55, 0xaa, 0x2a)))).toEqual([8, -8, 32256, -32256]);
  });

  it('every code survives decode → encode (except μ-law negative zero, which becomes +0)', () => {
    const codes = new Uint8Array(256).map((_, i) => i);
    const mu = mulawEncode(mulawDecode(codes));
    for (let c = 0; c < 256; c++) expect(mu[c]).toBe(c === 0x7f ? 0xff : c);
    expect(Array.from(alawEncode(alawDecode(codes)))).toEqual(Array.from(codes));
  });

  // Half a quantisation step is 1/32 of the segment; rounding to 13/14 bits first can move a value just below a
  // segment edge into the next, coarser segment, hence 4% + 12 LSB rather than 3.2%.
  it('quantisation error stays within 4% of the magnitude + 12 LSB below clipping', () => {
    const all = allInt16();
    for (const law of laws) {
      const back = law.decode(law.encode(all));
      let worst = 0;
      for (let i = 0; i < all.length; i++) {
        const x = all[i] as number;
        if (Math.abs(x) > 32000) continue; // clipping region
        const err = Math.abs((back[i] as number) - x);
        worst = Math.max(worst, err / (Math.abs(x) * 0.04 + 12));
      }
      expect(worst, law.name).toBeLessThanOrEqual(1);
    }
  });

  it('encoding is monotonic in the sample value', () => {
    const all = allInt16();
    for (const law of laws) {
      const back = law.decode(law.encode(all));
      let decreases = 0;
      for (let i = 1; i < all.length; i++) if ((back[i] as number) < (back[i - 1] as number)) decreases++;
      expect(decreases, law.name).toBe(0);
    }
  });

  it('writes into a caller buffer without allocating, and rejects one that is too small', () => {
    const pcm = Int16Array.of(100, -200, 300);
    const out = new Uint8Array(8);
    const coded = mulawEncode(pcm, out);
    expect(coded.buffer).toBe(out.buffer);
    expect(coded.length).toBe(3);
    const exact = new Int16Array(3);
    expect(mulawDecode(coded, exact)).toBe(exact);
    expect(() => alawEncode(pcm, new Uint8Array(2))).toThrow(/too small/);
  });
});
