import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { mulawDecode } from '../../../src/audio/g711.ts';
import { pcm16FromBytes } from '../../../src/audio/pcm.ts';
import { startElevenLabsEmulator, type ElevenLabsEmulator } from '../../../src/sandbox/providers/elevenlabs-emulator.ts';
import { rms, voicedFraction } from '../../services/tts/audio-checks.ts';

const VOICE = '21m00Tcm4TlvDq8ikWAM';

interface Received {
  audio?: string | null;
  alignment?: { chars: string[]; charStartTimesMs: number[]; charDurationsMs?: number[]; charsDurationsMs?: number[] } | null;
  normalizedAlignment?: unknown;
  contextId?: string;
  isFinal?: boolean;
  message?: string;
  error?: string;
  code?: number;
}

interface Client {
  socket: WebSocket;
  messages: Received[];
  closed: Promise<{ code: number; reason: string }>;
  send(message: object): void;
}

let emulator: ElevenLabsEmulator;
const clients: WebSocket[] = [];

async function open(
  path: 'stream-input' | 'multi-stream-input',
  query: Record<string, string> = {},
  options: { target?: ElevenLabsEmulator; headers?: Record<string, string>; voice?: string } = {},
): Promise<Client> {
  const params = new URLSearchParams({ model_id: 'eleven_flash_v2_5', output_format: 'ulaw_8000', ...query });
  const url = `${(options.target ?? emulator).url}/v1/text-to-speech/${options.voice ?? VOICE}/${path}?${params}`;
  const socket = new WebSocket(url, { headers: options.headers ?? { 'xi-api-key': 'xi_test' } });
  clients.push(socket);
  const messages: Received[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(data.toString()) as Received));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { socket, messages, closed, send: (message) => socket.send(JSON.stringify(message)) };
}

function audioBytes(messages: Received[], contextId?: string): Buffer {
  return Buffer.concat(
    messages
      .filter((m) => m.audio && (contextId === undefined || m.contextId === contextId))
      .map((m) => Buffer.from(m.audio as string, 'base64')),
  );
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

beforeAll(async () => {
  emulator = await startElevenLabsEmulator({ ttfbMs: 0, realtimeFactor: Infinity });
});

afterAll(async () => {
  for (const socket of clients) socket.terminate();
  await emulator.close();
});

describe('ElevenLabs emulator: stream-input', () => {
  it('speaks the text with per-chunk alignment, ends with isFinal and closes', async () => {
    const client = await open('stream-input');
    client.send({ text: ' ', voice_settings: { stability: 0.5, similarity_boost: 0.8 } });
    client.send({ text: 'Hello there, thanks for calling. ' });
    client.send({ text: 'How can I help? ' });
    client.send({ text: '' });
    const { code } = await client.closed;
    expect(code).toBe(1000);
    expect(client.messages.at(-1)).toEqual({ audio: null, isFinal: true });

    const pcm = mulawDecode(audioBytes(client.messages));
    expect(rms(pcm)).toBeGreaterThan(1000);
    expect(voicedFraction(pcm, 8000)).toBeGreaterThan(0.4);
    // Alignment covers the text as sent, chunk by chunk, with times relative to each chunk.
    const chunks = client.messages.filter((m) => m.audio);
    const text = chunks.map((m) => m.alignment?.chars.join('') ?? '').join('');
    expect(text.replace(/\s+/g, ' ').trim()).toBe('Hello there, thanks for calling. How can I help?');
    for (const m of chunks) {
      if (!m.alignment) continue;
      const chunkMs = (Buffer.from(m.audio as string, 'base64').length / 8000) * 1000;
      expect(m.alignment.chars.length).toBe(m.alignment.charStartTimesMs.length);
      expect(m.alignment.charDurationsMs?.length).toBe(m.alignment.chars.length);
      for (const t of m.alignment.charStartTimesMs) expect(t).toBeLessThanOrEqual(chunkMs + 1);
      expect(m.normalizedAlignment).toEqual(m.alignment);
    }
  });

  it('waits for the chunk schedule without auto_mode, and generates on flush', async () => {
    const client = await open('stream-input');
    client.send({ text: ' ' });
    client.send({ text: 'A short line. ' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(client.messages.filter((m) => m.audio)).toEqual([]); // 14 characters < 120
    client.send({ text: 'More. ', flush: true });
    await until(() => client.messages.some((m) => m.audio));
    client.send({ text: '' });
    await client.closed;
  });
});

describe('ElevenLabs emulator: multi-stream-input', () => {
  it('keeps contexts apart; close_context after flush finishes the text, without flush stops at once', async () => {
    const slow = await startElevenLabsEmulator({ ttfbMs: 0, realtimeFactor: 4 });
    try {
      const client = await open('multi-stream-input', { auto_mode: 'true' }, { target: slow });
      const long = 'This is a sentence that takes a few seconds to say. ';
      client.send({ text: ' ', context_id: 'finish' });
      client.send({ text: 'Short and complete. ', context_id: 'finish' });
      client.send({ text: ' ', context_id: 'stop' });
      client.send({ text: long, context_id: 'stop' });
      client.send({ context_id: 'finish', flush: true });
      client.send({ context_id: 'finish', close_context: true });
      await until(() => client.messages.some((m) => m.contextId === 'stop' && m.audio));
      client.send({ context_id: 'stop', close_context: true });
      await until(() => client.messages.filter((m) => m.isFinal).length === 2);
      const stopAudioSec = audioBytes(client.messages, 'stop').length / 8000;
      const finishAudioSec = audioBytes(client.messages, 'finish').length / 8000;
      expect(stopAudioSec).toBeLessThan(1.5); // the sentence is ~3 s
      expect(finishAudioSec).toBeGreaterThan(1); // the whole flushed sentence
      const finals = client.messages.filter((m) => m.isFinal).map((m) => m.contextId);
      expect(finals.sort()).toEqual(['finish', 'stop']);
      // Every audio message names its context.
      expect(client.messages.every((m) => m.contextId === 'finish' || m.contextId === 'stop')).toBe(true);
      const count = client.messages.length;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(client.messages.length).toBe(count);
    } finally {
      await slow.close();
    }
  });

  it('closes with 1008 when a sixth context opens', async () => {
    const client = await open('multi-stream-input');
    for (let i = 1; i <= 6; i++) client.send({ text: ' ', context_id: `c${i}` });
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/Maximum simultaneous contexts/);
    expect(client.messages.at(-1)).toMatchObject({ error: 'max_active_conversations', code: 1008 });
  });

  it('treats {"text": ""} as keep-alive and closes idle sockets after inactivity_timeout', async () => {
    const client = await open('multi-stream-input', { inactivity_timeout: '1' });
    const started = Date.now();
    client.send({ text: '' });
    await new Promise((resolve) => setTimeout(resolve, 600));
    client.send({ text: '' }); // keep-alive: the clock restarts
    const closed = await client.closed;
    expect(Date.now() - started).toBeGreaterThan(1500);
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/^Have not received a new text input within the timeout of 1 seconds/);
    expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123);
  });

  it('produces PCM at the requested rate and can spell the durations key the old way', async () => {
    const old = await startElevenLabsEmulator({ ttfbMs: 0, durationsKey: 'charsDurationsMs' });
    try {
      const client = await open('multi-stream-input', { output_format: 'pcm_16000' }, { target: old });
      client.send({ text: ' ', context_id: 'x' });
      client.send({ text: 'Sixteen kilohertz. ', context_id: 'x', flush: true });
      client.send({ context_id: 'x', close_context: true });
      await until(() => client.messages.some((m) => m.isFinal));
      const pcm = pcm16FromBytes(audioBytes(client.messages));
      expect(pcm.length / 16000).toBeGreaterThan(0.8);
      expect(rms(pcm)).toBeGreaterThan(1000);
      const aligned = client.messages.find((m) => m.alignment);
      expect(aligned?.alignment?.charsDurationsMs).toBeDefined();
      expect(aligned?.alignment?.charDurationsMs).toBeUndefined();
    } finally {
      await old.close();
    }
  });
});

describe('ElevenLabs emulator: reply key spelling', () => {
  it("spells every reply key in snake_case with keyStyle 'snake_case'", async () => {
    const snake = await startElevenLabsEmulator({ ttfbMs: 0, realtimeFactor: Infinity, keyStyle: 'snake_case' });
    try {
      const client = await open('multi-stream-input', {}, { target: snake });
      client.send({ text: ' ', context_id: 's' });
      client.send({ text: 'Snake case. ', context_id: 's', flush: true });
      client.send({ context_id: 's', close_context: true });
      const raw = client.messages as unknown as Array<Record<string, unknown>>;
      await until(() => raw.some((m) => m.is_final === true));
      const audio = raw.filter((m) => typeof m.audio === 'string');
      expect(audio.length).toBeGreaterThan(0);
      for (const m of audio) {
        expect(Object.keys(m).sort()).toEqual(['alignment', 'audio', 'context_id', 'normalized_alignment']);
        expect(m.context_id).toBe('s');
      }
      const aligned = audio.find((m) => m.alignment) as { alignment: Record<string, unknown> };
      expect(Object.keys(aligned.alignment).sort()).toEqual(['char_durations_ms', 'char_start_times_ms', 'chars']);
      expect(raw.at(-1)).toEqual({ is_final: true, context_id: 's' });
      expect(raw.some((m) => 'isFinal' in m || 'contextId' in m || 'normalizedAlignment' in m)).toBe(false);
    } finally {
      await snake.close();
    }
  });
});

describe('ElevenLabs emulator: errors and auth', () => {
  it('closes on an unknown model, voice or output format with an error message', async () => {
    const cases: Array<[Record<string, string>, string | undefined, string, number]> = [
      [{ model_id: 'eleven_nonexistent' }, undefined, 'model_not_found', 1008],
      [{}, 'bad', 'voice_not_found', 1008],
      [{ output_format: 'wav_8000' }, undefined, 'invalid_output_format', 1008],
      [{ output_format: 'mp3_44100_128' }, undefined, 'unsupported_output_format', 1003],
    ];
    for (const [query, voice, error, code] of cases) {
      const client = await open('multi-stream-input', query, voice ? { voice } : {});
      const closed = await client.closed;
      expect(closed.code).toBe(code);
      expect(client.messages[0]).toMatchObject({ error, code });
    }
  });

  it('checks the API key from the header or the first message', async () => {
    const locked = await startElevenLabsEmulator({ apiKey: 'xi_right', ttfbMs: 0 });
    try {
      await expect(open('multi-stream-input', {}, { target: locked, headers: { 'xi-api-key': 'xi_wrong' } })).rejects.toThrow(/401/);

      const noHeader = await open('multi-stream-input', {}, { target: locked, headers: {} });
      noHeader.send({ text: ' ', context_id: 'a', xi_api_key: 'xi_wrong' });
      expect((await noHeader.closed).code).toBe(1008);
      expect(noHeader.messages[0]).toMatchObject({ error: 'invalid_api_key' });

      const inMessage = await open('multi-stream-input', {}, { target: locked, headers: {} });
      inMessage.send({ text: ' ', context_id: 'a', xi_api_key: 'xi_right' });
      inMessage.send({ text: 'Authorised. ', context_id: 'a', flush: true });
      inMessage.send({ context_id: 'a', close_context: true });
      await until(() => inMessage.messages.some((m) => m.isFinal));
      expect(audioBytes(inMessage.messages).length).toBeGreaterThan(4000);
    } finally {
      await locked.close();
    }
  });
});
