import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TTSWS } from '@cartesia/cartesia-js/resources/tts/ws';
import type { WebsocketResponse } from '@cartesia/cartesia-js/resources/tts';
import { mulawDecode } from '../../../src/audio/g711.ts';
import { pcm16FromBytes } from '../../../src/audio/pcm.ts';
import { startCartesiaEmulator, type CartesiaEmulator } from '../../../src/sandbox/providers/cartesia-emulator.ts';
import { rms, voicedFraction } from '../../services/tts/audio-checks.ts';

// The SDK's ESM build cannot load `ws` (it calls require); its CommonJS build is the same code.
const require = createRequire(import.meta.url);
const { Cartesia } = require('@cartesia/cartesia-js') as typeof import('@cartesia/cartesia-js');
const { TTSWS: SdkSocket } = require('@cartesia/cartesia-js/resources/tts/ws') as typeof import('@cartesia/cartesia-js/resources/tts/ws');

const VOICE = 'a0e99841-438c-4a64-b679-ae501e7d6091';
const MULAW_8K = { container: 'raw', encoding: 'pcm_mulaw', sample_rate: 8000 } as const;

let emulator: CartesiaEmulator;
const sockets: TTSWS[] = [];

async function connect(options: { apiKey?: string; ca?: string | undefined } = {}): Promise<TTSWS> {
  const client = new Cartesia({ apiKey: options.apiKey ?? 'sk_car_test', baseURL: emulator.url });
  const socket = new SdkSocket(client, 'ca' in options ? (options.ca ? { ca: options.ca } : {}) : { ca: emulator.ca });
  socket.on('error', () => undefined); // connection errors surface through connect()
  sockets.push(socket);
  await socket.connect();
  return socket;
}

async function collect(events: AsyncIterable<WebsocketResponse>): Promise<WebsocketResponse[]> {
  const out: WebsocketResponse[] = [];
  try {
    for await (const event of events) out.push(event);
  } catch {
    // receive() throws after yielding an error event
  }
  return out;
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function audioOf(events: WebsocketResponse[]): Uint8Array {
  return Buffer.concat(events.flatMap((e) => (e.type === 'chunk' && e.audio ? [e.audio] : [])));
}

beforeAll(async () => {
  emulator = await startCartesiaEmulator({ ttfbMs: 0, realtimeFactor: Infinity });
});

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await emulator.close();
});

describe('Cartesia emulator through the official SDK', () => {
  it('streams one context across pushes: speech audio, word timestamps, done', async () => {
    const socket = await connect();
    const contextsBefore = emulator.stats.contexts;
    const ctx = socket.context({ model_id: 'sonic-3', voice: { mode: 'id', id: VOICE }, output_format: MULAW_8K, add_timestamps: true });
    await ctx.push({ transcript: 'Hello there, thanks for calling. ' });
    await ctx.push({ transcript: 'How can I help you today? ' });
    await ctx.no_more_inputs();
    const events = await collect(ctx.receive({ timeout: 5000 }));
    expect(emulator.stats.contexts - contextsBefore).toBe(1);
    expect(events.at(-1)).toMatchObject({ type: 'done', done: true, context_id: ctx.contextId });
    expect(events.every((e) => !('context_id' in e) || e.context_id === ctx.contextId)).toBe(true);

    const pcm = mulawDecode(audioOf(events));
    expect(pcm.length / 8000).toBeGreaterThan(3);
    expect(rms(pcm)).toBeGreaterThan(1000);
    expect(voicedFraction(pcm, 8000)).toBeGreaterThan(0.4);

    const words: Array<{ word: string; start: number; end: number }> = [];
    for (const e of events) {
      if (e.type !== 'timestamps' || !e.word_timestamps) continue;
      const t = e.word_timestamps;
      t.words.forEach((word, i) => words.push({ word, start: t.start[i] as number, end: t.end[i] as number }));
    }
    expect(words.map((w) => w.word)).toEqual('Hello there, thanks for calling. How can I help you today?'.split(' '));
    for (let i = 1; i < words.length; i++) expect(words[i]?.start).toBeGreaterThanOrEqual(words[i - 1]?.end ?? Infinity);
    // Timestamps are seconds from the context's start: the second push continues the first's timeline.
    expect(words[5]?.start).toBeGreaterThan(1.5);
    expect(words.at(-1)?.end).toBeLessThanOrEqual(pcm.length / 8000);
  });

  it('answers flush with flush_done and numbers later chunks with the next flush_id', async () => {
    const socket = await connect();
    const ctx = socket.context({ model_id: 'sonic-3', voice: VOICE, output_format: MULAW_8K });
    await ctx.push({ transcript: 'First part', flush: true });
    await ctx.push({ transcript: 'second part.' });
    await ctx.no_more_inputs();
    const events = await collect(ctx.receive({ timeout: 5000 }));
    const flushDone = events.findIndex((e) => e.type === 'flush_done');
    expect(events[flushDone]).toMatchObject({ flush_id: 1, flush_done: true });
    const ids = events.flatMap((e) => (e.type === 'chunk' ? [e.flush_id] : []));
    const before = ids.slice(0, events.slice(0, flushDone).filter((e) => e.type === 'chunk').length);
    expect(new Set(before)).toEqual(new Set([1]));
    expect(new Set(ids.slice(before.length))).toEqual(new Set([2]));
    expect(events.some((e) => e.type === 'timestamps')).toBe(false); // add_timestamps not asked
  });

  it('waits for a sentence to complete until max_buffer_delay_ms, then speaks it', async () => {
    const socket = await connect();
    const ctx = socket.context({ model_id: 'sonic-3', voice: VOICE, output_format: MULAW_8K, max_buffer_delay_ms: 300 });
    const started = performance.now();
    await ctx.push({ transcript: 'an unfinished thought' });
    const first = await ctx.receive({ timeout: 3000 }).next();
    expect(first.value?.type).toBe('chunk');
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
    await ctx.cancel();
  });

  it('produces 16 kHz PCM and float samples', async () => {
    const socket = await connect();
    const pcmCtx = socket.context({
      model_id: 'sonic-3',
      voice: VOICE,
      output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
    });
    await pcmCtx.push({ transcript: 'Sixteen kilohertz audio.' });
    await pcmCtx.no_more_inputs();
    const pcm = pcm16FromBytes(audioOf(await collect(pcmCtx.receive({ timeout: 5000 }))));
    expect(pcm.length / 16000).toBeGreaterThan(1);
    expect(rms(pcm)).toBeGreaterThan(1000);

    const floatCtx = socket.context({
      model_id: 'sonic-3',
      voice: VOICE,
      output_format: { container: 'raw', encoding: 'pcm_f32le', sample_rate: 24000 },
    });
    await floatCtx.push({ transcript: 'Float audio.' });
    await floatCtx.no_more_inputs();
    const bytes = audioOf(await collect(floatCtx.receive({ timeout: 5000 })));
    const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    expect(Math.max(...floats.map(Math.abs))).toBeLessThanOrEqual(1);
    expect(Math.max(...floats.map(Math.abs))).toBeGreaterThan(0.1);
  });

  it('cancel stops one context promptly while another keeps going', async () => {
    const slow = await startCartesiaEmulator({ ttfbMs: 0, realtimeFactor: 5 });
    try {
      const client = new Cartesia({ apiKey: 'sk_car_test', baseURL: slow.url });
      const socket = new SdkSocket(client, { ca: slow.ca });
      sockets.push(socket);
      await socket.connect();
      const counts = new Map<string, number>();
      socket.on('chunk', (e) => counts.set(e.context_id, (counts.get(e.context_id) ?? 0) + 1));
      const long = 'This sentence is long enough to take several seconds to speak out loud. ';
      const a = socket.context({ contextId: 'cancel-me', model_id: 'sonic-3', voice: VOICE, output_format: MULAW_8K });
      const b = socket.context({ contextId: 'keep-me', model_id: 'sonic-3', voice: VOICE, output_format: MULAW_8K });
      await a.push({ transcript: long });
      await b.push({ transcript: long });
      await new Promise((resolve) => setTimeout(resolve, 150));
      await a.cancel();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const atCancel = counts.get('cancel-me') ?? 0;
      const otherAtCancel = counts.get('keep-me') ?? 0;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(atCancel).toBeGreaterThan(0);
      expect(counts.get('cancel-me')).toBe(atCancel);
      expect(counts.get('keep-me') ?? 0).toBeGreaterThan(otherAtCancel);
      expect(slow.received).toContainEqual({ context_id: 'cancel-me', cancel: true });
      await b.cancel();
    } finally {
      await slow.close();
    }
  });

  it('expires a context 1 s after its last audio: input before that continues it, input after gets context_expired', async () => {
    const socket = await connect();
    const events: WebsocketResponse[] = [];
    socket.on('event', (e) => {
      if ('context_id' in e && e.context_id === 'expiring') events.push(e);
    });
    const expiredBefore = emulator.stats.expiredContexts;
    const ctx = socket.context({ contextId: 'expiring', model_id: 'sonic-3', voice: VOICE, output_format: MULAW_8K, add_timestamps: true });
    await ctx.push({ transcript: 'First sentence. ' });
    await until(() => events.some((e) => e.type === 'chunk'));
    await new Promise((resolve) => setTimeout(resolve, 600));
    const chunksBefore = events.filter((e) => e.type === 'chunk').length;
    await ctx.push({ transcript: 'Second sentence, within the second. ' });
    await until(() => events.filter((e) => e.type === 'chunk').length > chunksBefore);
    // The second sentence continued the first context's timeline.
    const starts = events.flatMap((e) => (e.type === 'timestamps' && e.word_timestamps ? e.word_timestamps.start : []));
    expect(Math.max(...starts)).toBeGreaterThan(1);

    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(emulator.stats.expiredContexts - expiredBefore).toBe(1);
    const count = events.length;
    await ctx.push({ transcript: 'Third sentence, too late. ' });
    await until(() => events.length > count);
    expect(events.slice(count)).toEqual([
      expect.objectContaining({ type: 'error', done: true, status_code: 400, error_code: 'context_expired', context_id: 'expiring' }),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(events.slice(count).some((e) => e.type === 'chunk')).toBe(false);
  });

  it("with expiredContextInput 'new-context', an input after expiry starts the id over at 0 s", async () => {
    const forgetful = await startCartesiaEmulator({
      ttfbMs: 0,
      realtimeFactor: Infinity,
      contextExpiryMs: 200,
      expiredContextInput: 'new-context',
    });
    try {
      const socket = new SdkSocket(new Cartesia({ apiKey: 'k', baseURL: forgetful.url }), { ca: forgetful.ca });
      sockets.push(socket);
      await socket.connect();
      const events: WebsocketResponse[] = [];
      socket.on('event', (e) => events.push(e));
      const ctx = socket.context({ contextId: 'again', model_id: 'sonic-3', voice: VOICE, output_format: MULAW_8K, add_timestamps: true });
      await ctx.push({ transcript: 'One sentence here. ' });
      await until(() => events.some((e) => e.type === 'timestamps'));
      await until(() => forgetful.stats.expiredContexts === 1);
      const count = events.length;
      await ctx.push({ transcript: 'Another one. ' });
      await until(() => events.slice(count).some((e) => e.type === 'timestamps'));
      const restarted = events.slice(count).find((e) => e.type === 'timestamps') as WebsocketResponse.Timestamps;
      expect(restarted.word_timestamps?.start[0]).toBeLessThan(0.3);
      expect(events.some((e) => e.type === 'error')).toBe(false);
      expect(forgetful.stats.contexts).toBe(2);
    } finally {
      await forgetful.close();
    }
  });

  it('rejects an invalid model, voice and output format with Cartesia error events', async () => {
    const socket = await connect();
    const cases = [
      { request: { model_id: 'gpt-4', voice: VOICE, output_format: MULAW_8K }, code: 'model_not_found', status: 400 },
      { request: { model_id: 'sonic-3', voice: 'not-a-voice', output_format: MULAW_8K }, code: 'voice_not_found', status: 404 },
      {
        request: { model_id: 'sonic-3', voice: VOICE, output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 11025 } },
        code: 'invalid_output_format',
        status: 400,
      },
    ] as const;
    for (const { request, code, status } of cases) {
      const ctx = socket.context(request as unknown as Parameters<TTSWS['context']>[0]);
      await ctx.push({ transcript: 'Hello. ' });
      const events = await collect(ctx.receive({ timeout: 3000 }));
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ type: 'error', done: true, status_code: status, error_code: code, context_id: ctx.contextId });
      expect((events[0] as WebsocketResponse.Error).message.length).toBeGreaterThan(10);
    }
  });

  it('refuses a wrong API key at the handshake and an untrusted certificate', async () => {
    const locked = await startCartesiaEmulator({ apiKey: 'sk_car_right', ttfbMs: 0 });
    try {
      const client = new Cartesia({ apiKey: 'sk_car_wrong', baseURL: locked.url });
      const wrongKey = new SdkSocket(client, { ca: locked.ca });
      wrongKey.on('error', () => undefined);
      await expect(wrongKey.connect()).rejects.toBeDefined();
      expect(locked.stats.connections).toBe(0);

      const untrusted = new SdkSocket(new Cartesia({ apiKey: 'sk_car_right', baseURL: locked.url }), {});
      untrusted.on('error', () => undefined);
      await expect(untrusted.connect()).rejects.toBeDefined();

      const good = new SdkSocket(new Cartesia({ apiKey: 'sk_car_right', baseURL: locked.url }), { ca: locked.ca });
      sockets.push(good);
      await good.connect();
      expect(locked.stats.connections).toBe(1);
    } finally {
      await locked.close();
    }
  });

  it('waits the configured time to first byte', async () => {
    const timed = await startCartesiaEmulator({ ttfbMs: 150, realtimeFactor: Infinity });
    try {
      const socket = new SdkSocket(new Cartesia({ apiKey: 'k', baseURL: timed.url }), { ca: timed.ca });
      sockets.push(socket);
      await socket.connect();
      const ctx = socket.context({ model_id: 'sonic-3', voice: VOICE, output_format: MULAW_8K });
      const started = performance.now();
      await ctx.push({ transcript: 'Timing check. ' });
      const first = await ctx.receive({ timeout: 3000 }).next();
      const ttfb = performance.now() - started;
      expect(first.value?.type).toBe('chunk');
      expect(ttfb).toBeGreaterThanOrEqual(145);
      expect(ttfb).toBeLessThan(400);
      await ctx.cancel();
    } finally {
      await timed.close();
    }
  });
});
