import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import type { TTSWS } from '@cartesia/cartesia-js/resources/tts/ws';
import type { WebsocketResponse } from '@cartesia/cartesia-js/resources/tts';
import { getEspeakEngine, type EspeakEngine } from '../../../src/services/tts/offline/espeak-engine.ts';
import { synthesizeWith, type SpeechOptions } from '../../../src/services/tts/offline/espeak-voice.ts';
import { startCartesiaEmulator, type CartesiaEmulator } from '../../../src/sandbox/providers/cartesia-emulator.ts';
import { createSpeechCache } from '../../../src/sandbox/providers/speech-cache.ts';

const require = createRequire(import.meta.url);
const { Cartesia } = require('@cartesia/cartesia-js') as typeof import('@cartesia/cartesia-js');
const { TTSWS: SdkSocket } = require('@cartesia/cartesia-js/resources/tts/ws') as typeof import('@cartesia/cartesia-js/resources/tts/ws');

const VOICE = 'a0e99841-438c-4a64-b679-ae501e7d6091';
const MULAW_8K = { container: 'raw', encoding: 'pcm_mulaw', sample_rate: 8000 } as const;

function countingSynthesizer(): {
  calls: string[];
  synthesize: (engine: EspeakEngine, text: string, speech: SpeechOptions | undefined) => ReturnType<typeof synthesizeWith>;
} {
  const calls: string[] = [];
  return {
    calls,
    synthesize: (engine, text, speech) => {
      calls.push(`${speech?.voice ?? ''}|${text}`);
      return synthesizeWith(engine, text, speech);
    },
  };
}

describe('speech cache', () => {
  it('synthesises each (text, voice settings) once and returns the same speech again', async () => {
    const engine = await getEspeakEngine();
    const counting = countingSynthesizer();
    const cache = createSpeechCache({ synthesize: counting.synthesize });
    const first = cache.synthesize(engine, 'Your appointment is on Tuesday.', { voice: 'en-us' });
    const again = cache.synthesize(engine, 'Your appointment is on Tuesday.', { voice: 'en-us' });
    expect(again).toBe(first);
    expect(first.pcm.length).toBeGreaterThan(10_000);
    expect(first.words.map((w) => w.word)).toEqual(['Your', 'appointment', 'is', 'on', 'Tuesday.']);
    const otherVoice = cache.synthesize(engine, 'Your appointment is on Tuesday.', { voice: 'en-us+f3' });
    const otherRate = cache.synthesize(engine, 'Your appointment is on Tuesday.', { voice: 'en-us', wordsPerMinute: 220 });
    expect(otherVoice).not.toBe(first);
    expect(otherRate.pcm.length).toBeLessThan(first.pcm.length);
    expect(counting.calls).toHaveLength(3);
    expect(cache.stats()).toEqual({ hits: 1, misses: 3, entries: 3 });
  });

  it('keeps speech at the rate asked for, so hits need no resampling', async () => {
    const engine = await getEspeakEngine();
    const counting = countingSynthesizer();
    const cache = createSpeechCache({ synthesize: counting.synthesize });
    const native = cache.synthesize(engine, 'See you on Tuesday.', undefined);
    const phone = cache.synthesize(engine, 'See you on Tuesday.', undefined, 8000);
    const phoneAgain = cache.synthesize(engine, 'See you on Tuesday.', undefined, 8000);
    expect(native.sampleRate).toBe(22050);
    expect(phone.sampleRate).toBe(8000);
    expect(phone.pcm.length).toBe(Math.round((native.pcm.length * 8000) / 22050));
    expect(phone.words).toEqual(native.words);
    expect(phoneAgain).toBe(phone);
    expect(counting.calls).toHaveLength(2); // per rate: eSpeak ran for the native entry and the 8 kHz one
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const engine = await getEspeakEngine();
    const counting = countingSynthesizer();
    const cache = createSpeechCache({ maxEntries: 2, synthesize: counting.synthesize });
    cache.synthesize(engine, 'One.', undefined);
    cache.synthesize(engine, 'Two.', undefined);
    cache.synthesize(engine, 'One.', undefined); // hit: "Two." is now the oldest
    cache.synthesize(engine, 'Three.', undefined); // evicts "Two."
    cache.synthesize(engine, 'One.', undefined); // still cached
    cache.synthesize(engine, 'Two.', undefined); // synthesised again
    expect(counting.calls).toEqual(['|One.', '|Two.', '|Three.', '|Two.']);
    expect(cache.stats().entries).toBe(2);
  });

  it('does not cache failures (a bad voice name)', async () => {
    const engine = await getEspeakEngine();
    const cache = createSpeechCache();
    expect(() => cache.synthesize(engine, 'Hi.', { voice: 'bad voice!' })).toThrow(/invalid voice name/);
    expect(() => cache.synthesize(engine, 'Hi.', { voice: 'bad voice!' })).toThrow(/invalid voice name/);
    expect(cache.stats()).toEqual({ hits: 0, misses: 2, entries: 0 });
  });
});

describe('Cartesia emulator with the speech cache', () => {
  const emulators: CartesiaEmulator[] = [];
  const sockets: TTSWS[] = [];

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await Promise.all(emulators.map((e) => e.close()));
  });

  async function speak(emulator: CartesiaEmulator, text: string): Promise<Uint8Array> {
    const client = new Cartesia({ apiKey: 'sk_car_test', baseURL: emulator.url });
    const socket = new SdkSocket(client, { ca: emulator.ca });
    socket.on('error', () => undefined);
    sockets.push(socket);
    await socket.connect();
    const ctx = socket.context({ model_id: 'sonic-3', voice: { mode: 'id', id: VOICE }, output_format: MULAW_8K });
    await ctx.push({ transcript: text });
    await ctx.no_more_inputs();
    const events: WebsocketResponse[] = [];
    for await (const event of ctx.receive({ timeout: 5000 })) events.push(event);
    return Buffer.concat(events.flatMap((e) => (e.type === 'chunk' && e.audio ? [e.audio] : [])));
  }

  it('serves a repeated sentence from the cache, on any connection, with identical audio', async () => {
    const emulator = await startCartesiaEmulator({ ttfbMs: 0, realtimeFactor: Infinity });
    emulators.push(emulator);
    const text = 'Sure. Your appointment is on Tuesday at three thirty.';
    const first = await speak(emulator, text);
    const second = await speak(emulator, text);
    expect(first.length).toBeGreaterThan(16_000);
    expect(Buffer.compare(Buffer.from(first), Buffer.from(second))).toBe(0);
    const stats = emulator.speechCache();
    expect(stats.hits).toBeGreaterThanOrEqual(1);
    expect(stats.entries).toBe(stats.misses);
  });

  it('speechCacheEntries: 0 synthesises every time', async () => {
    const emulator = await startCartesiaEmulator({ ttfbMs: 0, realtimeFactor: Infinity, speechCacheEntries: 0 });
    emulators.push(emulator);
    const a = await speak(emulator, 'Hello again.');
    const b = await speak(emulator, 'Hello again.');
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
    expect(emulator.speechCache()).toEqual({ hits: 0, misses: 0, entries: 0 });
  });
});
