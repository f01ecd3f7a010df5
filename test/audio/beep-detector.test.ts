import { describe, expect, it } from 'vitest';
import { mulawDecode } from '../../src/audio/g711.ts';
import { BeepDetector } from '../../src/audio/beep-detector.ts';
import { blockPower, goertzelBin, goertzelPower, toneRatio } from '../../src/audio/goertzel.ts';
import { synthesizeMulaw8k } from '../../src/services/tts/offline/espeak-voice.ts';

function tone(frequency: number, ms: number, amplitude: number, rate = 8000): Int16Array {
  const n = Math.round((ms / 1000) * rate);
  return Int16Array.from({ length: n }, (_, i) => Math.round(Math.sin((2 * Math.PI * frequency * i) / rate) * amplitude * 32767));
}

function noise(ms: number, amplitude: number, seed = 1): Int16Array {
  let x = seed;
  return Int16Array.from({ length: ms * 8 }, () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return Math.round(((x / 0xffffffff) * 2 - 1) * amplitude * 32767);
  });
}

describe('goertzel', () => {
  it('measures one frequency: a full-scale sine reads 1 at its frequency and little elsewhere', () => {
    const sine = tone(1000, 20, 1);
    expect(goertzelPower(sine, goertzelBin(1000, 8000))).toBeCloseTo(1, 2);
    expect(goertzelPower(sine, goertzelBin(1300, 8000))).toBeLessThan(0.01);
    expect(toneRatio(goertzelPower(sine, goertzelBin(1000, 8000)), blockPower(sine))).toBeGreaterThan(0.97);
    const white = noise(20, 0.5);
    expect(toneRatio(goertzelPower(white, goertzelBin(1000, 8000)), blockPower(white))).toBeLessThan(0.2);
  });
});

describe('BeepDetector', () => {
  for (const frequency of [440, 850, 1000, 1400]) {
    it(`finds a ${frequency} Hz beep and when it starts and ends`, () => {
      const detector = new BeepDetector();
      const events: string[] = [];
      detector.onBeep = (b) => events.push(b.endSec === undefined ? 'start' : 'end');
      detector.push(new Int16Array(4000)); // 0.5 s of silence
      detector.push(tone(frequency, 400, 0.2));
      detector.push(noise(300, 0.01));
      expect(events).toEqual(['start', 'end']);
      const beep = detector.beeps[0]!;
      expect(Math.abs(beep.frequencyHz - frequency)).toBeLessThanOrEqual(12.5);
      expect(beep.startSec).toBeCloseTo(0.5, 1);
      expect(beep.endSec).toBeCloseTo(0.9, 1);
    });
  }

  it('ignores beeps too short, too faint, two-tone DTMF, noise and speech', async () => {
    const detector = new BeepDetector();
    detector.push(tone(1000, 100, 0.3)); // 100 ms: too short
    detector.push(new Int16Array(800));
    detector.push(tone(1000, 400, 0.003)); // about -53 dBFS
    const dtmf = tone(770, 300, 0.2).map((v, i) => v + (tone(1336, 300, 0.2)[i] as number));
    detector.push(dtmf);
    detector.push(noise(500, 0.2));
    for (const voice of ['en-us', 'en-us+f3', 'en-gb+m3']) {
      const speech = await synthesizeMulaw8k('Hiii, you have reached Dana. Ooooh, I am not available right now. Please leave a message.', {
        voice,
      });
      detector.push(mulawDecode(speech.mulaw));
    }
    expect(detector.beeps).toEqual([]);
  });
});
