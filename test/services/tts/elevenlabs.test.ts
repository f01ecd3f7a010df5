import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame, FrameOf } from '../../../src/pipeline/frames.ts';
import { makeFrame } from '../../../src/pipeline/frames.ts';
import { PipelineTask, type PipelineError } from '../../../src/pipeline/task.ts';
import { startElevenLabsEmulator, type ElevenLabsEmulator } from '../../../src/sandbox/providers/elevenlabs-emulator.ts';
import { ElevenLabsTtsService, type ElevenLabsTtsOptions } from '../../../src/services/tts/elevenlabs.ts';
import type { TtsError } from '../../../src/services/tts/tts-service.ts';
import { TtsProcessor } from '../../../src/services/tts/tts-processor.ts';
import { concat, rms, samplesOf, voicedFraction } from './audio-checks.ts';
import { checkWordTimeline, record, sleep } from './stream-helpers.ts';

const VOICE = '21m00Tcm4TlvDq8ikWAM';
const MULAW_8K = { encoding: 'mulaw', sampleRate: 8000 } as const;

let emulator: ElevenLabsEmulator;
const services: ElevenLabsTtsService[] = [];

function service(overrides: Partial<ElevenLabsTtsOptions> = {}, target: ElevenLabsEmulator = emulator): ElevenLabsTtsService {
  const created = new ElevenLabsTtsService({ apiKey: 'xi_test', voiceId: VOICE, baseUrl: target.url, ...overrides });
  services.push(created);
  return created;
}

beforeAll(async () => {
  emulator = await startElevenLabsEmulator({ ttfbMs: 0, realtimeFactor: Infinity });
});

afterAll(async () => {
  for (const s of services) await s.close();
  await emulator.close();
});

describe('ElevenLabsTtsService against the emulator', () => {
  it('speaks an utterance on one context with word timings from the alignment', async () => {
    const tts = service();
    const before = emulator.received.length;
    const rec = record(tts, 'utt-1', MULAW_8K);
    rec.stream.pushText('Hello there, thanks for calling. ');
    // auto_mode: the first sentence is spoken before the utterance is finished.
    while (rec.firstAudioAt === undefined) await sleep(5);
    rec.stream.pushText('How can I help you today? ');
    rec.stream.finish();
    expect((await rec.ended).type).toBe('done');

    const pcm = rec.pcm();
    expect(rec.audio().every((a) => a.sampleRate === 8000 && a.mulaw)).toBe(true);
    expect(rms(pcm)).toBeGreaterThan(1000);
    expect(voicedFraction(pcm, 8000)).toBeGreaterThan(0.4);
    const words = rec.words();
    expect(words.map((w) => w.word)).toEqual('Hello there, thanks for calling. How can I help you today?'.split(' '));
    checkWordTimeline(words, pcm.length / 8000);
    expect(words[5]?.startSec).toBeGreaterThan(1.5); // the second sentence follows the first on one timeline

    expect(emulator.received.slice(before)).toEqual([
      { text: ' ', context_id: 'utt-1' },
      { text: 'Hello there, thanks for calling. ', context_id: 'utt-1' },
      { text: 'How can I help you today? ', context_id: 'utt-1' },
      { context_id: 'utt-1', flush: true },
      { context_id: 'utt-1', close_context: true },
    ]);
  });

  it('picks the socket format from connect() and converts streams that want another', async () => {
    const tts = service();
    await tts.connect({ encoding: 'pcm16', sampleRate: 16000 });
    const wide = record(tts, 'wide', { encoding: 'pcm16', sampleRate: 16000 });
    const phone = record(tts, 'phone', MULAW_8K);
    for (const rec of [wide, phone]) {
      rec.stream.pushText('Two formats at once. ');
      rec.stream.finish();
    }
    await Promise.all([wide.ended, phone.ended]);
    expect(wide.audio().every((a) => a.sampleRate === 16000 && a.pcm)).toBe(true);
    expect(phone.audio().every((a) => a.sampleRate === 8000 && a.mulaw)).toBe(true);
    expect(phone.pcm().length / 8000).toBeCloseTo(wide.pcm().length / 16000, 1);
    expect(rms(phone.pcm())).toBeGreaterThan(1000);
  });

  it('accepts the old charsDurationsMs spelling', async () => {
    const old = await startElevenLabsEmulator({ ttfbMs: 0, durationsKey: 'charsDurationsMs' });
    try {
      const rec = record(service({}, old), 'old-key', MULAW_8K);
      rec.stream.pushText('Old style alignment works. ');
      rec.stream.finish();
      await rec.ended;
      const words = rec.words();
      expect(words.map((w) => w.word)).toEqual(['Old', 'style', 'alignment', 'works.']);
      expect(words.every((w) => w.endSec > w.startSec)).toBe(true);
    } finally {
      await old.close();
    }
  });

  it('reads snake_case replies (is_final, context_id, normalized_alignment, char_*_ms) without stalling', async () => {
    const snake = await startElevenLabsEmulator({ ttfbMs: 0, realtimeFactor: Infinity, keyStyle: 'snake_case' });
    try {
      const rec = record(service({}, snake), 'snake', MULAW_8K);
      rec.stream.pushText('Snake case replies work. ');
      rec.stream.pushText('Both sentences are timed. ');
      rec.stream.finish();
      // Read as camelCase only, the end of the context never arrives and the utterance stalls.
      const ended = await Promise.race([rec.ended, sleep(3000).then(() => ({ type: 'stalled' as const }))]);
      expect(ended.type).toBe('done');
      const pcm = rec.pcm();
      expect(rms(pcm)).toBeGreaterThan(1000);
      const words = rec.words();
      expect(words.map((w) => w.word)).toEqual('Snake case replies work. Both sentences are timed.'.split(' '));
      checkWordTimeline(words, pcm.length / 8000);
      expect(words.every((w) => w.endSec > w.startSec)).toBe(true);
    } finally {
      await snake.close();
    }
  });

  it('cancel closes the context at once and reports nothing more', async () => {
    const slow = await startElevenLabsEmulator({ ttfbMs: 0, realtimeFactor: 4 });
    try {
      const rec = record(service({}, slow), 'barge', MULAW_8K);
      rec.stream.pushText('This is a long sentence that would take several seconds to say completely. ');
      while (rec.firstAudioAt === undefined) await sleep(5);
      rec.stream.cancel();
      const count = rec.events.length;
      await sleep(200);
      expect(rec.events.length).toBe(count);
      expect(slow.received.at(-1)).toEqual({ context_id: 'barge', close_context: true });
      expect(slow.stats.closedContexts).toBe(1);
    } finally {
      await slow.close();
    }
  });

  it('a sixth open context fails every stream with the provider code; the next stream reconnects', async () => {
    const tts = service();
    const recs = Array.from({ length: 6 }, (_, i) => record(tts, `ctx-${i}`, MULAW_8K));
    for (const rec of recs) rec.stream.pushText('Still talking. ');
    await Promise.all(recs.map((r) => r.ended));
    for (const rec of recs) {
      expect(rec.error()).toMatchObject({ provider: 'elevenlabs', code: 'max_active_conversations' });
    }
    const next = record(tts, 'after', MULAW_8K);
    next.stream.pushText('Working again. ');
    next.stream.finish();
    expect((await next.ended).type).toBe('done');
  });

  it('reports a refused API key', async () => {
    const locked = await startElevenLabsEmulator({ apiKey: 'xi_right', ttfbMs: 0 });
    try {
      const rec = record(service({ apiKey: 'xi_wrong' }, locked), 'denied', MULAW_8K);
      rec.stream.pushText('Hello. ');
      expect((await rec.ended).type).toBe('error');
      expect(rec.error()).toMatchObject({ code: 'http_401', status: 401 });
    } finally {
      await locked.close();
    }
  });

  it('keeps an idle socket open with keep-alives', async () => {
    const strict = await startElevenLabsEmulator({ ttfbMs: 0 });
    try {
      const tts = service({ inactivityTimeoutSec: 1, keepAliveIntervalMs: 300 }, strict);
      await tts.connect(MULAW_8K);
      await sleep(1400);
      const rec = record(tts, 'later', MULAW_8K);
      rec.stream.pushText('Still connected. ');
      rec.stream.finish();
      expect((await rec.ended).type).toBe('done');
      expect(strict.stats.connections).toBe(1);
      expect(strict.stats.policyCloses).toBe(0);
    } finally {
      await strict.close();
    }
  });
  it('never keeps a closed context alive (that would open it again)', async () => {
    const slow = await startElevenLabsEmulator({ ttfbMs: 0, realtimeFactor: 4 });
    try {
      const tts = service({ keepAliveIntervalMs: 40 }, slow);
      const rec = record(tts, 'closing', MULAW_8K);
      rec.stream.pushText('A sentence that takes a little while to speak out. ');
      await sleep(100);
      rec.stream.finish();
      await rec.ended;
      await sleep(150);
      const messages = slow.received as Array<Record<string, unknown>>;
      const closedAt = messages.findIndex((m) => m.close_context === true);
      expect(messages.slice(0, closedAt).some((m) => m.text === '' && m.context_id === 'closing')).toBe(true);
      expect(messages.slice(closedAt).some((m) => m.context_id === 'closing' && m.text !== undefined)).toBe(false);
      expect(slow.stats.contexts).toBe(1);
    } finally {
      await slow.close();
    }
  });
});

describe('TtsProcessor with ElevenLabs (emulated)', () => {
  it('a dropped connection becomes an error frame and the next utterance works', async () => {
    const paced = await startElevenLabsEmulator({ ttfbMs: 0, realtimeFactor: 3 });
    try {
      const out: Frame[] = [];
      const errors: PipelineError[] = [];
      const task = new PipelineTask([new TtsProcessor({ service: service({}, paced) })], {
        callId: 'eleven-call',
        onOutput: (f) => out.push(f),
        onError: (e) => errors.push(e),
      });
      const done = task.run();
      const of = <K extends Frame['type']>(type: K) => out.filter((f) => f.type === type) as unknown as Array<FrameOf<K>>;
      task.queueFrame(makeFrame('tts.speak', { text: 'This line is cut off by a network failure halfway through.', utteranceId: 'lost' }));
      while (of('tts.audio').length === 0) await sleep(5);
      paced.dropConnections();
      while (errors.length === 0) await sleep(5);
      expect(errors[0]?.fatal).toBe(false);
      expect((errors[0]?.cause as TtsError).code).toBe('1006');
      expect(of('tts.stopped').map((f) => f.utteranceId)).toEqual(['lost']);

      task.queueFrame(makeFrame('tts.speak', { text: 'And we are back.', utteranceId: 'back' }));
      task.end();
      await done;
      expect(of('tts.stopped').map((f) => f.utteranceId)).toEqual(['lost', 'back']);
      const back = concat(
        of('tts.audio')
          .filter((f) => f.utteranceId === 'back')
          .map((f) => samplesOf(f.audio)),
      );
      expect(rms(back)).toBeGreaterThan(1000);
      expect(
        of('tts.text')
          .filter((f) => f.utteranceId === 'back')
          .map((f) => f.text),
      ).toEqual(['And', 'we', 'are', 'back.']);
    } finally {
      await paced.close();
    }
  });
});
