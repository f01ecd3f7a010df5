import { describe, expect, it } from 'vitest';
import { mulawEncode } from '../../../src/audio/g711.ts';
import { SpeechDetector } from '../../../src/sandbox/callees/speech-detector.ts';

const frame = (amplitude: number): Uint8Array => {
  const pcm = new Int16Array(160);
  for (let i = 0; i < 160; i++) pcm[i] = Math.round(Math.sin((2 * Math.PI * 440 * i) / 8000) * amplitude);
  return mulawEncode(pcm);
};
const loud = frame(8000);
const quiet = frame(50); // about -56 dBFS: below the -45 dBFS threshold

function feed(detector: SpeechDetector, pattern: Array<[Uint8Array, number]>, t0 = 0): number {
  let t = t0;
  for (const [f, count] of pattern) {
    for (let i = 0; i < count; i++) {
      detector.push(f, t);
      t += 20;
    }
  }
  return t;
}

describe('SpeechDetector', () => {
  it('finds a stretch of speech with its start and end', () => {
    const d = new SpeechDetector();
    feed(d, [
      [quiet, 10],
      [loud, 50],
      [quiet, 20],
    ]);
    expect(d.segments).toEqual([{ startAt: 200, endAt: 1200 }]);
    expect(d.speaking).toBe(false);
  });

  it('keeps short pauses inside one stretch and splits at long ones', () => {
    const d = new SpeechDetector({ segmentGapMs: 300 });
    feed(d, [
      [loud, 20],
      [quiet, 10],
      [loud, 20],
      [quiet, 20],
      [loud, 5],
    ]);
    expect(d.segments.map((s) => [s.startAt, s.endAt])).toEqual([
      [0, 1000],
      [1400, null],
    ]);
    expect(d.speaking).toBe(true);
  });

  it('ignores a single loud frame (a click)', () => {
    const d = new SpeechDetector();
    feed(d, [
      [loud, 1],
      [quiet, 20],
    ]);
    expect(d.segments).toEqual([]);
  });
});
