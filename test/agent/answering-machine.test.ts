import { describe, expect, it } from 'vitest';
import type { AnsweringMachineVerdict } from '../../src/agent/answering-machine.ts';
import { AnsweringMachineDetector } from '../../src/agent/answering-machine.ts';

/** Drives a detector through a scripted opening: speech stretches (ms from the answer) with their words. */
function opening(
  script: Array<{ speak?: [number, number]; words?: string; beep?: [number, number] }>,
  untilMs: number,
  options: ConstructorParameters<typeof AnsweringMachineDetector>[1] = {},
) {
  const detector = new AnsweringMachineDetector(0, options);
  const verdicts: AnsweringMachineVerdict[] = [];
  const ready: Array<{ reason: string; atMs: number }> = [];
  detector.onVerdict = (v) => verdicts.push(v);
  detector.onReady = (r) => ready.push(r);
  const events: Array<[number, () => void]> = [];
  for (const step of script) {
    if (step.speak) {
      const [from, to] = step.speak;
      events.push([from, () => detector.speechStarted(from)]);
      events.push([to, () => detector.speechStopped(to)]);
      if (step.words) events.push([to + 150, () => detector.transcript(step.words as string, true)]);
    }
    if (step.beep) {
      const [from, to] = step.beep;
      events.push([from + 160, () => detector.beepStarted(from)]);
      events.push([to + 20, () => detector.beepEnded(to)]);
    }
  }
  events.sort((a, b) => a[0] - b[0]);
  for (let t = 0, e = 0; t <= untilMs; t += 50) {
    while (e < events.length && (events[e] as [number, () => void])[0] <= t) (events[e++] as [number, () => void])[1]();
    detector.update(t);
  }
  return { verdicts, ready };
}

describe('AnsweringMachineDetector', () => {
  it('a person: "Hello?" and silence is a human within half a second of the silence', () => {
    const { verdicts } = opening([{ speak: [400, 900], words: 'Hello?' }], 4000);
    expect(verdicts).toEqual([expect.objectContaining({ answeredBy: 'human', how: 'short-answer' })]);
    expect(verdicts[0]!.atMs - 900).toBeLessThanOrEqual(550);
  });

  it('a person who introduces themselves ("Hi, this is Dana speaking.")', () => {
    const { verdicts } = opening([{ speak: [300, 1900], words: 'Hi, this is Dana speaking.' }], 4000);
    expect(verdicts.map((v) => v.answeredBy)).toEqual(['human']);
  });

  it('an ambiguous opening waits longer, so a greeting that goes on after a short pause is not taken for a person', () => {
    const { verdicts } = opening(
      [
        { speak: [300, 1400], words: 'Hi, this is Dana.' },
        { speak: [2000, 4000], words: 'Sorry I missed your call.' },
      ],
      6000,
    );
    expect(verdicts.map((v) => v.answeredBy)).toEqual(['machine']);
  });

  it('greeting words decide a machine as soon as they are heard', () => {
    const { verdicts } = opening([{ speak: [300, 2600], words: "Hi, you've reached Jordan Miller." }], 3000);
    expect(verdicts).toEqual([expect.objectContaining({ answeredBy: 'machine', how: 'transcript' })]);
  });

  it('long opening speech with no words recognised is a machine', () => {
    const { verdicts } = opening([{ speak: [300, 6000] }], 6000);
    expect(verdicts).toEqual([expect.objectContaining({ answeredBy: 'machine', how: 'long-greeting' })]);
    expect(verdicts[0]!.atMs).toBeLessThanOrEqual(300 + 3500 + 50);
  });

  it('a beep is a machine, and the message may start right after it', () => {
    const { verdicts, ready } = opening([{ beep: [500, 900] }], 3000);
    expect(verdicts[0]).toMatchObject({ answeredBy: 'machine', how: 'beep' });
    expect(ready).toEqual([{ reason: 'beep', atMs: expect.any(Number) }]);
    expect(ready[0]!.atMs).toBeGreaterThanOrEqual(900 + 250);
    expect(ready[0]!.atMs).toBeLessThanOrEqual(900 + 350);
  });

  it('after a machine verdict the message waits for the end of the greeting and the beep', () => {
    const { ready } = opening(
      [
        { speak: [300, 3000], words: 'You have reached the voicemail of Sam.' },
        { speak: [3400, 6200], words: 'Please leave a message after the tone.' },
        { beep: [6700, 7200] },
      ],
      9000,
    );
    expect(ready).toHaveLength(1);
    expect(ready[0]!.reason).toBe('beep');
    expect(ready[0]!.atMs).toBeGreaterThanOrEqual(7200);
  });

  it('with no beep, the message starts once the greeting has been quiet for maxWaitForBeepSecs', () => {
    const { ready } = opening([{ speak: [300, 5200], words: 'Please leave a message.' }], 9000, { maxWaitForBeepSecs: 2 });
    expect(ready).toEqual([{ reason: 'silence', atMs: expect.any(Number) }]);
    expect(ready[0]!.atMs).toBeGreaterThanOrEqual(7200);
    expect(ready[0]!.atMs).toBeLessThanOrEqual(7300);
  });

  it('a human verdict is revised by a beep or "after the tone" that still comes early in the call', () => {
    const { verdicts } = opening(
      [
        { speak: [300, 900], words: 'Hello?' },
        { speak: [2500, 4500], words: 'Please leave a message after the tone.' },
      ],
      6000,
    );
    expect(verdicts.map((v) => [v.answeredBy, v.how])).toEqual([
      ['human', 'short-answer'],
      ['machine', 'transcript (revised)'],
    ]);
  });

  it('nobody says anything: unknown', () => {
    const { verdicts } = opening([], 7000);
    expect(verdicts).toEqual([expect.objectContaining({ answeredBy: 'unknown', how: 'no-speech' })]);
  });
});
