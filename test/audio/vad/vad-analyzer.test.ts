import { afterAll, describe, expect, it } from 'vitest';
import type { SileroInference } from '../../../src/audio/vad/silero-model.ts';
import { SileroModel } from '../../../src/audio/vad/silero-model.ts';
import { SileroBatcher } from '../../../src/audio/vad/silero-batcher.ts';
import { VadAnalyzer, type VadAnalyzerOptions, type VadEvent, type VadState } from '../../../src/audio/vad/vad-analyzer.ts';
import { FixtureDir, utteranceFile } from '../fixtures.ts';

const W = 0.032; // window length (s)
const RATE = 8000;
const WINDOW = 256;

/** Returns scripted probabilities window by window (and counts how often the model would have run). */
class ScriptedInference implements SileroInference {
  calls = 0;
  constructor(private readonly probs: (window: number) => number) {}
  async infer(): Promise<number> {
    return this.probs(this.calls++);
  }
}

/** `windows` windows of a −20 dBFS 440 Hz tone (volume ≈ 0.87) or silence, as 16-bit PCM. */
function audio(windows: number, loud: (window: number) => boolean = () => true): Int16Array {
  const x = new Int16Array(windows * WINDOW);
  for (let i = 0; i < x.length; i++) {
    if (loud(Math.floor(i / WINDOW))) x[i] = Math.round(3277 * Math.sin((2 * Math.PI * 440 * i) / RATE));
  }
  return x;
}

interface Trace {
  events: VadEvent[];
  states: VadState[];
}

/** Feeds `pcm` in `chunk`-sample pieces, recording events and the state after every call. */
async function feed(analyzer: VadAnalyzer, pcm: Int16Array, chunk = 160): Promise<Trace> {
  const trace: Trace = { events: [], states: [] };
  for (let i = 0; i < pcm.length; i += chunk) {
    trace.events.push(...(await analyzer.process(pcm.subarray(i, i + chunk))));
    trace.states.push(analyzer.state);
  }
  return trace;
}

/** Probability script: speech (0.95) in the given window ranges [from, to), else 0.05. */
function speechIn(...ranges: Array<[number, number]>): (w: number) => number {
  return (w) => (ranges.some(([a, b]) => w >= a && w < b) ? 0.95 : 0.05);
}

function scripted(probs: (w: number) => number, opts: Partial<VadAnalyzerOptions> = {}) {
  const inference = new ScriptedInference(probs);
  const analyzer = new VadAnalyzer(inference, { sampleRate: RATE, skipSilentWindows: false, ...opts });
  return { inference, analyzer };
}

describe('VadAnalyzer state machine (scripted probabilities, loud audio)', () => {
  it('starts after startSecs of speech, stops after stopSecs of silence, timestamps at the real edges', async () => {
    // Tone throughout so the smoothed volume has settled; speech windows 20–59.
    const { analyzer } = scripted(speechIn([20, 60]));
    const { events, states } = await feed(analyzer, audio(120));
    expect(events).toHaveLength(2);
    const [start, stop] = events as [VadEvent, VadEvent];
    expect(start.type).toBe('speech-start');
    expect(start.atSec).toBeCloseTo(20 * W, 9); // first speech window, not shifted by startSecs
    expect(start.decidedAtSec).toBeCloseTo((20 + 6) * W, 9); // 0.2 s → 6 windows
    expect(stop.type).toBe('speech-stop');
    expect(stop.atSec).toBeCloseTo(60 * W, 9); // first silent window
    expect(stop.decidedAtSec).toBeCloseTo((60 + 25) * W, 9); // 0.8 s → 25 windows
    // The states seen along the way, in order (collapsed).
    const seen = states.filter((s, i) => s !== states[i - 1]);
    expect(seen).toEqual(['quiet', 'starting', 'speaking', 'stopping', 'quiet']);
  });

  it('a blip shorter than startSecs never becomes speech', async () => {
    const { analyzer } = scripted(speechIn([20, 25], [40, 41]));
    const { events, states } = await feed(analyzer, audio(80));
    expect(events).toEqual([]);
    expect(states).toContain('starting');
    expect(analyzer.state).toBe('quiet');
  });

  it('tolerates gaps of up to 2 windows while starting (they do not count towards startSecs)', async () => {
    const { analyzer } = scripted(speechIn([20, 24], [26, 40]));
    const { events } = await feed(analyzer, audio(80));
    // 4 speech windows, 2 gap windows, then 2 more speech windows reach the 6 needed.
    expect(events[0]).toMatchObject({ type: 'speech-start', atSec: expect.closeTo(20 * W, 9), decidedAtSec: expect.closeTo(28 * W, 9) });
  });

  it('a longer gap while starting, or any gap with maxStartGapSecs 0 (Pipecat), restarts the run', async () => {
    const { analyzer } = scripted(speechIn([20, 24], [27, 40]));
    expect((await feed(analyzer, audio(80))).events[0]).toMatchObject({ atSec: expect.closeTo(27 * W, 9) });
    const { analyzer: strict } = scripted(speechIn([20, 24], [25, 40]), { maxStartGapSecs: 0 });
    expect((await feed(strict, audio(80))).events[0]).toMatchObject({ atSec: expect.closeTo(25 * W, 9) });
  });

  it('a pause shorter than stopSecs does not split an utterance', async () => {
    const { analyzer } = scripted(speechIn([20, 50], [70, 100]));
    const { events } = await feed(analyzer, audio(160));
    expect(events.map((e) => e.type)).toEqual(['speech-start', 'speech-stop']);
    expect(events[1]!.atSec).toBeCloseTo(100 * W, 9);
  });

  it('confident windows that are too quiet (below minVolume) are not speech', async () => {
    const quietTone = audio(120).map((s) => Math.round(s / 100)); // −60 dBFS
    const { analyzer } = scripted(speechIn([20, 60]));
    expect((await feed(analyzer, quietTone)).events).toEqual([]);
    const { analyzer: noGate } = scripted(speechIn([20, 60]), { minVolume: 0 });
    expect((await feed(noGate, quietTone)).events.map((e) => e.type)).toEqual(['speech-start', 'speech-stop']);
  });

  it('dates the start back over windows held back only by volume smoothing after silence', async () => {
    // Silence, then tone + speech from window 30: raw volume is there at once, the smoothed one needs ~6 windows.
    const { analyzer } = scripted(speechIn([30, 80]));
    const { events } = await feed(
      analyzer,
      audio(120, (w) => w >= 30),
    );
    expect(events[0]!.atSec).toBeCloseTo(30 * W, 9);
    expect(events[0]!.decidedAtSec).toBeGreaterThan((30 + 6) * W); // decision still waited for the volume
  });

  it('gives the same events for any chunking (20 ms, 1 sample, 1 s, all at once)', async () => {
    const probs = speechIn([10, 30], [33, 35], [60, 90], [95, 140]);
    const pcm = audio(200);
    const reference = (await feed(scripted(probs).analyzer, pcm, 160)).events;
    expect(reference.length).toBeGreaterThan(0);
    for (const chunk of [1, 8000, pcm.length]) {
      expect((await feed(scripted(probs).analyzer, pcm, chunk)).events).toEqual(reference);
    }
  });

  it('updates parameters at runtime and rejects bad values without changing anything', async () => {
    const { analyzer } = scripted(speechIn([20, 40], [100, 130]));
    await feed(analyzer, audio(80));
    analyzer.setParams({ startSecs: 0.5 }); // 16 windows
    const { events } = await feed(analyzer, audio(80));
    expect(events[0]).toMatchObject({ type: 'speech-start', decidedAtSec: expect.closeTo((100 + 16) * W, 9) });
    expect(() => analyzer.setParams({ confidence: 1.5, stopSecs: 2 })).toThrow(/confidence/);
    expect(analyzer.params).toEqual({ confidence: 0.7, startSecs: 0.5, stopSecs: 0.8, minVolume: 0.6 });
  });

  it('flush() closes an open utterance at the start of its trailing silence, or at the end of audio', async () => {
    const { analyzer } = scripted(speechIn([20, 60]));
    await feed(analyzer, audio(70)); // stopping for 10 windows
    expect(analyzer.state).toBe('stopping');
    expect(await analyzer.flush()).toEqual([
      { type: 'speech-stop', atSec: expect.closeTo(60 * W, 9), decidedAtSec: expect.closeTo(70 * W, 9) },
    ]);
    const { analyzer: talking } = scripted(speechIn([20, 100]));
    await feed(talking, audio(50));
    expect(await talking.flush()).toEqual([
      { type: 'speech-stop', atSec: expect.closeTo(50 * W, 9), decidedAtSec: expect.closeTo(50 * W, 9) },
    ]);
    expect(talking.state).toBe('quiet');
  });
});

describe('VadAnalyzer energy gate', () => {
  it('skips inference on plainly silent audio after 256 ms, and resumes at the first sound', async () => {
    const { inference, analyzer } = scripted(() => 0.01, { skipSilentWindows: true });
    await feed(
      analyzer,
      audio(100, (w) => w >= 50 && w < 60),
    );
    expect(analyzer.windowsInferred + analyzer.windowsSkipped).toBe(100);
    expect(inference.calls).toBe(analyzer.windowsInferred);
    // Windows 0–7 run while the gate arms, 8–49 skip (42); 50–59 (tone) run; at 60 the smoothed volume is still
    // 0.62, so quiet windows count again from 61 and skipping resumes at 69 (31 more).
    expect(analyzer.windowsSkipped).toBe(42 + 31);
  });

  it('never engages when minVolume is 0 or when disabled', async () => {
    const off = scripted(() => 0.01, { skipSilentWindows: false });
    await feed(
      off.analyzer,
      audio(60, () => false),
    );
    expect(off.inference.calls).toBe(60);
    const zero = scripted(() => 0.01, { skipSilentWindows: true, minVolume: 0 });
    await feed(
      zero.analyzer,
      audio(60, () => false),
    );
    expect(zero.inference.calls).toBe(60);
  });
});

describe('VadAnalyzer with the real model', () => {
  const dir = new FixtureDir();
  afterAll(() => dir.remove());

  it('16 kHz: finds each utterance within ±0.3 s, one segment each', async () => {
    const file = utteranceFile(dir, 16000, ['Hello, is anybody there?', 'Yes.', 'Please call me back tomorrow morning.'], [1.2, 1.6]);
    const analyzer = await VadAnalyzer.create({ sampleRate: 16000 });
    const { events } = await feed(analyzer, file.samples, 320);
    events.push(...(await analyzer.flush()));
    const starts = events.filter((e) => e.type === 'speech-start');
    const stops = events.filter((e) => e.type === 'speech-stop');
    expect(starts).toHaveLength(file.truth.length);
    expect(stops).toHaveLength(file.truth.length);
    file.truth.forEach((t, i) => {
      expect(Math.abs(starts[i]!.atSec - t.start)).toBeLessThanOrEqual(0.3);
      expect(Math.abs(stops[i]!.atSec - t.end)).toBeLessThanOrEqual(0.3);
    });
    expect(analyzer.windowsSkipped).toBeGreaterThan(0); // the gate engaged in the gaps
  });

  it('the energy gate saves inference in pauses without changing what is detected (within 0.1 s)', async () => {
    const file = utteranceFile(dir, 8000, ['Hello, thank you for calling.', 'Yes.', 'I would like to pay my bill, please.'], [1.0, 2.0]);
    const events = async (skipSilentWindows: boolean) => {
      const analyzer = await VadAnalyzer.create({ sampleRate: 8000, skipSilentWindows });
      const trace = await feed(analyzer, file.samples);
      trace.events.push(...(await analyzer.flush()));
      return { events: trace.events, skipped: analyzer.windowsSkipped / (analyzer.windowsSkipped + analyzer.windowsInferred) };
    };
    const gated = await events(true);
    const ungated = await events(false);
    expect(gated.skipped).toBeGreaterThan(0.3);
    expect(ungated.skipped).toBe(0);
    expect(gated.events.map((e) => e.type)).toEqual(ungated.events.map((e) => e.type));
    expect(gated.events).toHaveLength(6);
    gated.events.forEach((e, i) => expect(Math.abs(e.atSec - ungated.events[i]!.atSec)).toBeLessThanOrEqual(0.1));
  });

  it('streams sharing a batcher get the same events as separate inference', async () => {
    const file = utteranceFile(dir, 8000, ['Can you hear me?', 'I need help with my account.'], [1.3]);
    const run = async (inference: SileroInference, offset: number) => {
      const analyzer = new VadAnalyzer(inference, { sampleRate: 8000 });
      const { events } = await feed(analyzer, file.samples.subarray(offset));
      return events;
    };
    const model = await SileroModel.load();
    const alone = await Promise.all([0, 800, 2400].map((o) => run(model, o)));
    const batcher = new SileroBatcher(model);
    const batched = await Promise.all([0, 800, 2400].map((o) => run(batcher, o)));
    expect(alone[0]!.length).toBe(4);
    expect(batched).toEqual(alone);
    expect(batcher.batches).toBeLessThan(batcher.windows); // windows really were batched together
  });
});

describe('speech onset dating', () => {
  it('dates a soft first sound ("Wh…") within 40 ms of where it starts, at every window alignment', async () => {
    const { synthesizeMulaw8k } = await import('../../../src/services/tts/offline/espeak-voice.ts');
    const { mulawDecode } = await import('../../../src/audio/g711.ts');
    const clip = mulawDecode((await synthesizeMulaw8k('What time was that again?', { voice: 'en-us+f3' })).mulaw);
    const errorsMs: number[] = [];
    for (let offsetMs = 0; offsetMs < 32; offsetMs += 4) {
      const lead = 8 * (500 + offsetMs);
      const pcm = new Int16Array(lead + clip.length + 8000);
      pcm.set(clip, lead);
      const analyzer = await VadAnalyzer.create({ sampleRate: 8000 });
      let startSec: number | undefined;
      for (let i = 0; i < pcm.length && startSec === undefined; i += 160) {
        startSec = (await analyzer.process(pcm.subarray(i, i + 160))).find((e) => e.type === 'speech-start')?.atSec;
      }
      errorsMs.push(Math.round((startSec! - lead / 8000) * 1000));
    }
    // Before onset dating looked at soft windows, two of these eight alignments came out ~170 ms late.
    expect(Math.max(...errorsMs.map(Math.abs))).toBeLessThanOrEqual(40);
  });
});

describe('catching up under load', () => {
  it('a backlog of windows is worked off several windows per event-loop turn, batched across streams', async () => {
    const model = await SileroModel.load();
    expect(model.synchronous).toBe(true); // onnxruntime-node's native synchronous path is in use
    const batcher = new SileroBatcher(model);
    const analyzers = Array.from({ length: 4 }, () => new VadAnalyzer(batcher, { sampleRate: 8000, skipSilentWindows: false }));
    const backlog = new Int16Array(256 * 12).map((_, i) => Math.round(3000 * Math.sin(i / 3)));
    let turns = 0;
    let done = false;
    const countTurns = () => {
      if (done) return;
      turns++;
      setImmediate(countTurns);
    };
    setImmediate(countTurns);
    await Promise.all(analyzers.map((a) => a.process(backlog)));
    done = true;
    expect(batcher.windows).toBe(48); // 12 windows × 4 streams
    expect(batcher.batches).toBe(12); // each batch scores all four streams
    expect(turns).toBeLessThanOrEqual(4); // one window per turn would need 12 turns
  });
});
