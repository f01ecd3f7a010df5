import { describe, expect, it } from 'vitest';
import { mulawDecode, mulawEncode } from '../../src/audio/g711.ts';
import { DtmfDetector, dtmfTones } from '../../src/audio/dtmf.ts';

/** Feeds audio in 20 ms chunks, as a media stream delivers it. */
function detect(samples: Int16Array): string {
  const detector = new DtmfDetector();
  let keys = '';
  for (let i = 0; i < samples.length; i += 160) keys += detector.push(samples.subarray(i, i + 160)).join('');
  return keys;
}

describe('DTMF', () => {
  it('detects every key it generates, once each, through μ-law', () => {
    const keys = '0123456789*#ABCD';
    const tones = mulawDecode(mulawEncode(dtmfTones(keys)));
    expect(detect(tones)).toBe(keys);
  });

  it('reports a repeated key twice when a gap separates the presses', () => {
    expect(detect(dtmfTones('11'))).toBe('11');
  });

  it('finds keys at -25 dBFS under noise, and nothing in noise, a single tone or a chord of two rows', () => {
    let seed = 7;
    const noise = (n: number, amplitude: number) =>
      Int16Array.from({ length: n }, () => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return Math.round(((seed / 2 ** 31) * 2 - 1) * amplitude);
      });
    const quiet = dtmfTones('5', { levelDb: -25 });
    const hiss = noise(quiet.length, 300);
    expect(detect(Int16Array.from(quiet, (v, i) => v + (hiss[i] as number)))).toBe('5');
    expect(detect(noise(8000, 8000))).toBe('');
    const single = Int16Array.from({ length: 1600 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 697 * i) / 8000)));
    expect(detect(single)).toBe('');
    const rows = Int16Array.from({ length: 1600 }, (_, i) =>
      Math.round(6000 * (Math.sin((2 * Math.PI * 697 * i) / 8000) + Math.sin((2 * Math.PI * 852 * i) / 8000))),
    );
    expect(detect(rows)).toBe('');
  });

  it('refuses characters that are not keys', () => {
    expect(() => dtmfTones('1x')).toThrow(/not a DTMF key/);
  });
});
