import { describe, expect, it } from 'vitest';
import { mulawEncode } from '../../../src/audio/g711.ts';
import { toneCalleeVoice } from '../../../src/sandbox/callees/callee-voice.ts';
import type { Persona } from '../../../src/sandbox/callees/persona.ts';
import { SimulatedCallee } from '../../../src/sandbox/callees/simulated-callee.ts';
import { SpeechRegistry } from '../../../src/sandbox/speech-registry.ts';

const botFrame = (() => {
  const pcm = new Int16Array(160);
  for (let i = 0; i < 160; i++) pcm[i] = Math.round(Math.sin((2 * Math.PI * 300 * i) / 8000) * 9000);
  return mulawEncode(pcm);
})();
const silence = new Uint8Array(160).fill(0xff);

/**
 * Drives a callee on virtual time, 20 ms per tick, the way the carrier does: its next frame goes out, then
 * it hears what the bot plays. `bot(t)` says whether the bot is audible during the tick at t.
 */
function rig(persona: Persona) {
  let t = 0;
  const registry = new SpeechRegistry();
  const callee = new SimulatedCallee({ persona, voice: toneCalleeVoice(), speech: registry, timeScale: 0, now: () => t });
  const dtmf: Array<{ digit: string; at: number }> = [];
  let hungUpAt: number | null = null;
  const sent: Array<{ at: number; speech: boolean }> = [];
  callee.connect({ sendDtmf: (digit) => dtmf.push({ digit, at: t }), hangUp: () => (hungUpAt = t) }, 0);
  return {
    callee,
    registry,
    dtmf,
    sent,
    hungUpAt: () => hungUpAt,
    /** Runs until `until` ms (virtual); yields to the event loop every tick so the script can advance. */
    async run(until: number, bot: (t: number) => boolean = () => false) {
      while (t < until) {
        const frame = callee.nextFrame(t);
        sent.push({ at: t, speech: frame !== null });
        callee.hear(bot(t) ? botFrame : silence, t);
        await new Promise((r) => setImmediate(r));
        t += 20;
      }
    },
    /** Virtual time of the first frame of the n-th line the callee sent. */
    lineStart: (n: number) => callee.record.said[n]?.startAt ?? null,
  };
}

describe('SimulatedCallee', () => {
  it('speaks its first line right away, registered with the speech registry before it is sent', async () => {
    const r = rig({ id: 'hello', steps: [{ say: 'Hello?' }] });
    await r.run(1000);
    const said = r.callee.record.said[0];
    expect(said?.text).toBe('Hello?');
    expect(said?.startAt).toBe(20); // the first tick after the script started
    expect((said?.endAt as number) - (said?.startAt as number)).toBe(340); // one 260 ms word + 80 ms gap (tone voice)
    expect(r.registry.get(said?.lineId as number)?.text).toBe('Hello?');
    expect(r.sent.filter((s) => s.speech)).toHaveLength(17);
    expect(r.callee.record.scriptFinished).toBe(true);
  });

  it('waits for the bot to start and then stop for minSilenceMs before the next line', async () => {
    const r = rig({
      id: 'waiter',
      steps: [{ say: 'Hello?' }, { waitForBotToFinish: true, minSilenceMs: 600 }, { say: 'Yes.' }],
    });
    // The bot talks 500–1700 ms, with a 200 ms breath at 1000 ms.
    await r.run(4000, (t) => t >= 500 && t < 1700 && !(t >= 1000 && t < 1200));
    expect(r.callee.record.heard.map((s) => [s.startAt, s.endAt])).toEqual([[500, 1700]]);
    // 1700 + 600 = 2300: the frame starting at 2280 is the first that ends 600 ms after the bot stopped → line at 2300.
    expect(r.lineStart(1)).toBe(2300);
    expect(r.callee.record.steps[1]?.outcome).toBe('done');
  });

  it('ignores bot speech that started before its own last line when waiting for a reply', async () => {
    const r = rig({ id: 'waiter', steps: [{ say: 'Hi there' }, { waitForBotToFinish: true, minSilenceMs: 300 }, { say: 'Ok' }] });
    // The bot talks over our line (0–400), then replies 1000–1400.
    await r.run(3000, (t) => t < 400 || (t >= 1000 && t < 1400));
    expect(r.lineStart(1)).toBe(1700);
  });

  it('interrupts after the bot has spoken for waitForBotSpeechMs, overlapping the bot', async () => {
    const r = rig({ id: 'interrupter', steps: [{ say: 'Hello?' }, { waitForBotSpeechMs: 1000 }, { say: 'Sorry, what?' }] });
    await r.run(4000, (t) => t >= 600 && t < 3600);
    expect(r.lineStart(1)).toBe(1600);
    expect(r.callee.record.said[1]?.overlappedBot).toBe(true);
  });

  it('presses keys, gives up a wait after its timeout, then hangs up', async () => {
    const r = rig({
      id: 'keys',
      steps: [{ press: '1', gapMs: 0 }, { waitForBotToFinish: true, timeoutMs: 500 }, { hangUp: true }],
    });
    await r.run(1500);
    expect(r.dtmf).toEqual([{ digit: '1', at: 0 }]);
    expect(r.callee.record.pressed).toEqual([{ digit: '1', at: 0 }]);
    expect(r.callee.record.steps.map((s) => s.outcome)).toEqual(['done', 'timeout', 'done']);
    expect(r.hungUpAt()).toBe(500);
    expect(r.callee.record.hungUp).toBe(true);
  });

  it('stops the script when the call ends', async () => {
    const r = rig({ id: 'waiter', steps: [{ say: 'Hello?' }, { waitForBotToFinish: true }, { say: 'Never said' }] });
    await r.run(400);
    r.callee.end(400);
    await r.run(800);
    expect(r.callee.record.said.map((s) => s.text)).toEqual(['Hello?']);
    expect(r.callee.record.steps[1]?.outcome).toBe('call-ended');
    expect(r.callee.record.scriptFinished).toBe(false);
  });
});

describe('SimulatedCallee play step', () => {
  it('plays a WAV (any rate) at a gain; a transcript registers it for STT, a sound without one is not registered', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeWav } = await import('../../../src/audio/wav.ts');
    const { mulawDecode } = await import('../../../src/audio/g711.ts');
    const dir = mkdtempSync(join(tmpdir(), 'play-step-'));
    // 0.5 s at 16 kHz: 0.1 s silence, 0.3 s of a 500 Hz tone at about -12 dBFS, 0.1 s silence.
    const samples = Int16Array.from({ length: 8000 }, (_, i) =>
      i >= 1600 && i < 6400 ? Math.round(Math.sin((2 * Math.PI * 500 * i) / 16000) * 8000) : 0,
    );
    writeFileSync(join(dir, 'clip.wav'), writeWav({ sampleRate: 16000, channels: 1, samples }));
    // Loaded before the virtual clock runs: file reads take real time, which a busy machine stretches past the
    // rig's 100 virtual ticks (the step's timing is what is tested here, not the loader's speed).
    const { loadSoundClip } = await import('../../../src/sandbox/callees/sound-clip.ts');
    await loadSoundClip(join(dir, 'clip.wav'), { gainDb: -6, transcript: 'Ha ha.' });
    await loadSoundClip(join(dir, 'clip.wav'));
    const r = rig({
      id: 'player',
      steps: [{ play: join(dir, 'clip.wav'), gainDb: -6, transcript: 'Ha ha.' }, { play: join(dir, 'clip.wav') }],
    });
    await r.run(2000);
    const [spoken, sound] = r.callee.record.said;
    expect(spoken).toMatchObject({ text: 'Ha ha.', step: 0 });
    expect((spoken?.endAt as number) - (spoken?.startAt as number)).toBeCloseTo(500, -1); // resampled to 8 kHz
    // Audible from 0.1 s to 0.4 s into the clip (to the 20 ms frame, and the resampler's few samples of delay).
    const audibleFrom = (spoken?.firstAudibleAt as number) - (spoken?.startAt as number);
    const audibleTo = (spoken?.lastAudibleAt as number) - (spoken?.startAt as number);
    expect(audibleFrom).toBeGreaterThanOrEqual(80);
    expect(audibleFrom).toBeLessThanOrEqual(120);
    expect(audibleTo).toBeGreaterThanOrEqual(390);
    expect(audibleTo).toBeLessThanOrEqual(430);
    const line = r.registry.get(spoken?.lineId as number);
    expect(line?.words.map((w) => w.word)).toEqual(['Ha', 'ha.']);
    expect(line!.words[0]!.startSec).toBeGreaterThanOrEqual(0.09);
    expect(line!.words[1]!.endSec).toBeLessThanOrEqual(0.43);
    // The gain: the tone's peak is 8000 · 10^(-6/20) ≈ 4010.
    const peak = Math.max(...mulawDecode(line!.mulaw).map(Math.abs));
    expect(peak).toBeGreaterThan(3700);
    expect(peak).toBeLessThan(4300);
    expect(sound).toMatchObject({ text: '', lineId: null, step: 1 });
    expect(r.registry.size).toBe(1);
  });
});
