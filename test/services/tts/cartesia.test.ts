import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame, FrameOf } from '../../../src/pipeline/frames.ts';
import { makeFrame } from '../../../src/pipeline/frames.ts';
import { PipelineTask, type PipelineError } from '../../../src/pipeline/task.ts';
import { startCartesiaEmulator, type CartesiaEmulator } from '../../../src/sandbox/providers/cartesia-emulator.ts';
import { CartesiaTtsService, type CartesiaTtsOptions } from '../../../src/services/tts/cartesia.ts';
import { TtsProcessor } from '../../../src/services/tts/tts-processor.ts';
import { ManualClock } from '../../../src/util/clock.ts';
import { concat, rms, samplesOf, voicedFraction } from './audio-checks.ts';
import { checkWordTimeline, record, sleep } from './stream-helpers.ts';

const VOICE = 'a0e99841-438c-4a64-b679-ae501e7d6091';
const MULAW_8K = { encoding: 'mulaw', sampleRate: 8000 } as const;

let emulator: CartesiaEmulator;
const services: CartesiaTtsService[] = [];

function service(overrides: Partial<CartesiaTtsOptions> = {}, target: CartesiaEmulator = emulator): CartesiaTtsService {
  const created = new CartesiaTtsService({
    apiKey: 'sk_car_test',
    voiceId: VOICE,
    baseUrl: target.url,
    tls: { ca: target.ca },
    ...overrides,
  });
  services.push(created);
  return created;
}

beforeAll(async () => {
  emulator = await startCartesiaEmulator({ ttfbMs: 0, realtimeFactor: Infinity });
});

afterAll(async () => {
  for (const s of services) await s.close();
  await emulator.close();
});

describe('CartesiaTtsService against the emulator', () => {
  it('speaks one utterance as one context continued across sentences, with word timings', async () => {
    const tts = service();
    const before = emulator.received.length;
    const rec = record(tts, 'utt-1', MULAW_8K);
    rec.stream.pushText('Hello there, thanks for calling. ');
    rec.stream.pushText('How can I help you today? ');
    rec.stream.finish();
    expect((await rec.ended).type).toBe('done');

    const audio = rec.audio();
    expect(audio.every((a) => a.sampleRate === 8000 && a.mulaw instanceof Uint8Array)).toBe(true);
    const pcm = rec.pcm();
    expect(rms(pcm)).toBeGreaterThan(1000);
    expect(voicedFraction(pcm, 8000)).toBeGreaterThan(0.4);
    const words = rec.words();
    expect(words.map((w) => w.word)).toEqual('Hello there, thanks for calling. How can I help you today?'.split(' '));
    checkWordTimeline(words, pcm.length / 8000);

    const sent = emulator.received.slice(before) as Array<Record<string, unknown>>;
    expect(sent.map((m) => [m.context_id, m.transcript, m.continue])).toEqual([
      ['utt-1', 'Hello there, thanks for calling. ', true],
      ['utt-1', 'How can I help you today? ', true],
      ['utt-1', '', false],
    ]);
    expect(sent[0]).toMatchObject({
      model_id: 'sonic-3',
      voice: { mode: 'id', id: VOICE },
      output_format: { container: 'raw', encoding: 'pcm_mulaw', sample_rate: 8000 },
      add_timestamps: true,
      max_buffer_delay_ms: 0,
    });
  });

  it('goes on in a new context after an LLM pause longer than the 1 s expiry: every sentence spoken, one timeline', async () => {
    const tts = service();
    const before = emulator.received.length;
    const rec = record(tts, 'pause', MULAW_8K);
    rec.stream.pushText('Let me check that for you. ');
    while (rec.words().length < 6) await sleep(5);
    await sleep(1300); // the LLM is thinking (a tool call, a slow token): the context expires meanwhile
    rec.stream.pushText('You are booked for Tuesday at ten. ');
    rec.stream.finish();
    const ended = await Promise.race([rec.ended, sleep(5000).then(() => ({ type: 'stalled' as const }))]);
    expect(ended.type).toBe('done');

    const pcm = rec.pcm();
    const words = rec.words();
    expect(words.map((w) => w.word)).toEqual('Let me check that for you. You are booked for Tuesday at ten.'.split(' '));
    checkWordTimeline(words, pcm.length / 8000);
    // The second sentence's words sit after the first sentence's audio (not at 0 s again), over its speech.
    expect(words[6]?.startSec).toBeGreaterThan(1);
    expect(rms(pcm.subarray(Math.round((words[6]?.startSec ?? 0) * 8000)))).toBeGreaterThan(1000);

    const sent = (emulator.received.slice(before) as Array<Record<string, unknown>>).filter((m) => m.transcript !== undefined);
    expect(sent.map((m) => [m.context_id, m.transcript, m.continue])).toEqual([
      ['pause', 'Let me check that for you. ', true],
      ['pause', '', false], // ends the old context (already expired: the emulator answers with an error)
      ['pause~2', 'You are booked for Tuesday at ten. ', true],
      ['pause~2', '', false],
    ]);
  });

  it('ends an idle context that is still alive and moves on in order (client clock driven by hand)', async () => {
    const clock = new ManualClock(0);
    const before = emulator.received.length;
    const errorsBefore = emulator.stats.errors;
    const rec = record(service({ clock }), 'idle', MULAW_8K);
    rec.stream.pushText('First sentence here. ');
    while (rec.words().length < 3) await sleep(5);
    clock.advance(800); // idle past reopenAfterIdleMs (750), while the service still holds the context
    rec.stream.pushText('Second sentence follows. ');
    rec.stream.finish();
    expect((await rec.ended).type).toBe('done');
    const words = rec.words();
    expect(words.map((w) => w.word)).toEqual('First sentence here. Second sentence follows.'.split(' '));
    checkWordTimeline(words, rec.pcm().length / 8000);
    const sent = (emulator.received.slice(before) as Array<Record<string, unknown>>).filter((m) => m.transcript !== undefined);
    expect(sent.map((m) => [m.context_id, m.transcript, m.continue])).toEqual([
      ['idle', 'First sentence here. ', true],
      ['idle', '', false], // still alive: answered with done
      ['idle~2', 'Second sentence follows. ', true],
      ['idle~2', '', false],
    ]);
    expect(emulator.stats.errors).toBe(errorsBefore);
  });

  it('keeps one timeline when the service would restart an expired id at 0 s', async () => {
    const forgetful = await startCartesiaEmulator({ ttfbMs: 0, realtimeFactor: Infinity, expiredContextInput: 'new-context' });
    try {
      const rec = record(service({}, forgetful), 'restart', MULAW_8K);
      rec.stream.pushText('Let me check that for you. ');
      while (rec.words().length < 6) await sleep(5);
      await sleep(1300);
      rec.stream.pushText('You are booked for Tuesday at ten. ');
      rec.stream.finish();
      expect((await rec.ended).type).toBe('done');
      const words = rec.words();
      expect(words.map((w) => w.word)).toEqual('Let me check that for you. You are booked for Tuesday at ten.'.split(' '));
      checkWordTimeline(words, rec.pcm().length / 8000);
    } finally {
      await forgetful.close();
    }
  });

  it('sends text that still reached an expired context again on a new one', async () => {
    const quick = await startCartesiaEmulator({ ttfbMs: 0, realtimeFactor: Infinity, contextExpiryMs: 150 });
    try {
      // The client believes contexts live 5 s, as if the network delayed its text past the expiry.
      const rec = record(service({ reopenAfterIdleMs: 5000, contextExpiryMs: 5000 }, quick), 'late', MULAW_8K);
      rec.stream.pushText('First part is here. ');
      while (rec.words().length < 4) await sleep(5);
      await sleep(400);
      rec.stream.pushText('Second part follows. ');
      rec.stream.pushText('Third part ends it. ');
      rec.stream.finish();
      const ended = await Promise.race([rec.ended, sleep(5000).then(() => ({ type: 'stalled' as const }))]);
      expect(ended.type).toBe('done');
      const words = rec.words();
      expect(words.map((w) => w.word)).toEqual('First part is here. Second part follows. Third part ends it.'.split(' '));
      checkWordTimeline(words, rec.pcm().length / 8000);
      expect(words[4]?.startSec).toBeGreaterThan(0.5);
      expect(quick.stats.errors).toBeGreaterThanOrEqual(1); // the rejected input
    } finally {
      await quick.close();
    }
  });

  it('delivers PCM at 16 kHz natively and converts a rate Cartesia does not offer', async () => {
    const tts = service();
    const wide = record(tts, 'pcm16', { encoding: 'pcm16', sampleRate: 16000 });
    const odd = record(tts, 'pcm11', { encoding: 'pcm16', sampleRate: 11025 });
    for (const rec of [wide, odd]) {
      rec.stream.pushText('Checking the audio format. ');
      rec.stream.finish();
    }
    await Promise.all([wide.ended, odd.ended]);
    expect(wide.audio().every((a) => a.sampleRate === 16000 && a.pcm)).toBe(true);
    expect(odd.audio().every((a) => a.sampleRate === 11025 && a.pcm)).toBe(true);
    const seconds = wide.pcm().length / 16000;
    expect(odd.pcm().length / 11025).toBeCloseTo(seconds, 1);
    expect(rms(odd.pcm())).toBeGreaterThan(1000);
  });

  it('cancel sends cancel for the context and nothing more is reported', async () => {
    const slow = await startCartesiaEmulator({ ttfbMs: 0, realtimeFactor: 4 });
    try {
      const tts = service({}, slow);
      const rec = record(tts, 'barge', MULAW_8K);
      rec.stream.pushText('This is a long sentence that would take several seconds to say completely. ');
      while (rec.firstAudioAt === undefined) await sleep(5);
      rec.stream.cancel();
      const count = rec.events.length;
      await sleep(250);
      expect(rec.events.length).toBe(count);
      expect(rec.stream.state).toBe('cancelled');
      expect(slow.received).toContainEqual({ cancel: true, context_id: 'barge' });
      expect(slow.stats.cancels).toBe(1);
    } finally {
      await slow.close();
    }
  });

  it('reports the provider error code for a bad voice, and a dropped connection, then recovers', async () => {
    const bad = service({ voiceId: 'no-such-voice' });
    const failed = record(bad, 'bad-voice', MULAW_8K);
    failed.stream.pushText('Hello. ');
    failed.stream.finish();
    expect((await failed.ended).type).toBe('error');
    expect(failed.error()).toMatchObject({ provider: 'cartesia', code: 'voice_not_found', status: 404, utteranceId: 'bad-voice' });

    const paced = await startCartesiaEmulator({ ttfbMs: 0, realtimeFactor: 2 });
    try {
      const tts = service({}, paced);
      const first = record(tts, 'before-drop', MULAW_8K);
      first.stream.pushText('A sentence long enough to still be speaking when the connection drops. ');
      while (first.firstAudioAt === undefined) await sleep(5);
      paced.dropConnections();
      expect((await first.ended).type).toBe('error');
      expect(first.error()).toMatchObject({ provider: 'cartesia', code: '1006', utteranceId: 'before-drop' });

      const after = record(tts, 'after-drop', MULAW_8K);
      after.stream.pushText('Back again. ');
      after.stream.finish();
      expect((await after.ended).type).toBe('done');
      expect(rms(after.pcm())).toBeGreaterThan(1000);
      expect(paced.stats.connections).toBe(2);
    } finally {
      await paced.close();
    }
  });

  it('fails the stream with the handshake status when the API key is refused', async () => {
    const locked = await startCartesiaEmulator({ apiKey: 'sk_car_right', ttfbMs: 0 });
    try {
      const tts = service({ apiKey: 'sk_car_wrong' }, locked);
      const rec = record(tts, 'denied', MULAW_8K);
      rec.stream.pushText('Hello. ');
      rec.stream.finish();
      expect((await rec.ended).type).toBe('error');
      expect(rec.error()?.message).toMatch(/401/);
    } finally {
      await locked.close();
    }
  });

  it('does not trust the emulator certificate unless told to', async () => {
    const tts = service({ tls: {} });
    const rec = record(tts, 'untrusted', MULAW_8K);
    rec.stream.pushText('Hello. ');
    expect((await rec.ended).type).toBe('error');
    expect(rec.error()?.message).toMatch(/self-signed|certificate/i);
  });
});

describe('TtsProcessor with Cartesia (emulated)', () => {
  it('barge-in stops the audio at once; the next reply plays; ttfb is reported', async () => {
    const paced = await startCartesiaEmulator({ ttfbMs: 30, realtimeFactor: 4 });
    try {
      const out: Frame[] = [];
      const errors: PipelineError[] = [];
      const task = new PipelineTask([new TtsProcessor({ service: service({}, paced) })], {
        callId: 'cartesia-call',
        onOutput: (f) => out.push(f),
        onError: (e) => errors.push(e),
      });
      const done = task.run();
      const of = <K extends Frame['type']>(type: K) => out.filter((f) => f.type === type) as unknown as Array<FrameOf<K>>;
      task.queueFrame(makeFrame('llm.response.start', { responseId: 'r1' }));
      for (const token of ['This reply ', 'is long. ', 'It keeps going ', 'for a while. ', 'Nobody hears the end.']) {
        task.queueFrame(makeFrame('llm.text', { text: token }));
      }
      task.queueFrame(makeFrame('llm.response.end', { responseId: 'r1' }));
      while (of('tts.audio').length < 3) await sleep(5);
      task.queueFrame(makeFrame('interruption', { reason: 'barge-in' }));
      const cut = out.length;
      await sleep(200);
      expect(out.slice(cut).filter((f) => f.type === 'tts.audio' || f.type === 'tts.stopped')).toEqual([]);
      expect(paced.received).toContainEqual({ cancel: true, context_id: 'r1' });

      task.queueFrame(makeFrame('tts.speak', { text: 'Go ahead.', utteranceId: 'r2' }));
      while (!of('tts.stopped').some((f) => f.utteranceId === 'r2')) await sleep(5);
      const replyAudio = concat(
        of('tts.audio')
          .filter((f) => f.utteranceId === 'r2')
          .map((f) => samplesOf(f.audio)),
      );
      expect(rms(replyAudio)).toBeGreaterThan(1000);
      const ttfb = of('metrics')
        .flatMap((m) => m.data)
        .filter((d) => d.kind === 'ttfb');
      expect(ttfb.length).toBe(2);
      for (const m of ttfb) expect(m.kind === 'ttfb' && m.valueMs).toBeGreaterThanOrEqual(25);
      expect(errors).toEqual([]);
      task.end();
      await done;
    } finally {
      await paced.close();
    }
  });
});
