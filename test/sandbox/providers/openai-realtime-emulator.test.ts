/**
 * The OpenAI Realtime transcription emulator on the wire, through a raw WebSocket client: event names and
 * shapes, server VAD, commits, errors, and that it returns the words of the scripted speech it hears.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  startOpenAIRealtimeEmulator,
  type OpenAIRealtimeEmulator,
  type OpenAIRealtimeEmulatorOptions,
} from '../../../src/sandbox/providers/openai-realtime-emulator.ts';
import { SpeechRegistry } from '../../../src/sandbox/speech-registry.ts';
import { concat, silence, sleep, speakLine } from '../../services/stt/speech-fixture.ts';

type Event = { type: string; at: number } & Record<string, unknown>;

let emulator: OpenAIRealtimeEmulator | undefined;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await emulator?.close();
  emulator = undefined;
});

async function start(options: OpenAIRealtimeEmulatorOptions = {}) {
  const registry = new SpeechRegistry();
  emulator = await startOpenAIRealtimeEmulator({ registry, ttfbMs: 0, deltaIntervalMs: 0, ...options });
  return { registry, emulator };
}

async function connect(query = '?intent=transcription', key = 'sk-test') {
  const url = `${emulator!.baseUrl}/realtime${query}`;
  const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${key}` } });
  sockets.push(ws);
  const events: Event[] = [];
  ws.on('message', (data) => events.push({ ...(JSON.parse(String(data)) as Record<string, unknown>), at: performance.now() } as Event));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const send = (event: Record<string, unknown>) => ws.send(JSON.stringify(event));
  const waitFor = async (check: () => boolean, timeoutMs = 3000) => {
    const until = performance.now() + timeoutMs;
    while (!check()) {
      if (performance.now() > until) throw new Error(`condition not met; events: ${events.map((e) => e.type).join(', ')}`);
      await sleep(5);
    }
  };
  const ofType = (type: string) => events.filter((e) => e.type === type);
  const append = (audio: Uint8Array, piece = 1600) => {
    for (let i = 0; i < audio.length; i += piece)
      send({ type: 'input_audio_buffer.append', audio: Buffer.from(audio.subarray(i, i + piece)).toString('base64') });
  };
  return { ws, events, send, waitFor, ofType, append };
}

const transcriptionSession = (extra: Record<string, unknown> = {}, input: Record<string, unknown> = {}) => ({
  type: 'session.update',
  event_id: 'evt_cfg',
  session: {
    type: 'transcription',
    audio: { input: { format: { type: 'audio/pcmu' }, transcription: { model: 'gpt-4o-transcribe', language: 'en' }, ...input } },
    ...extra,
  },
});

describe('OpenAI Realtime transcription emulator', () => {
  it('greets with session.created and answers session.update with the effective transcription session', async () => {
    await start();
    const c = await connect();
    await c.waitFor(() => c.events.length === 1);
    expect(c.events[0]).toMatchObject({
      type: 'session.created',
      session: { type: 'transcription', object: 'realtime.transcription_session' },
    });
    expect((c.events[0]!.session as { id: string }).id).toMatch(/^sess_/);
    c.send(transcriptionSession({ include: ['item.input_audio_transcription.logprobs'] }));
    await c.waitFor(() => c.ofType('session.updated').length === 1);
    expect(c.ofType('session.updated')[0]!.session).toMatchObject({
      type: 'transcription',
      audio: {
        input: {
          format: { type: 'audio/pcmu' },
          transcription: { model: 'gpt-4o-transcribe', language: 'en' },
          turn_detection: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500 },
        },
      },
      include: ['item.input_audio_transcription.logprobs'],
    });
  });

  it('server VAD: speech_started, speech_stopped, committed, a delta per word after the TTFB, then completed with usage', async () => {
    const { registry } = await start({ ttfbMs: 150, deltaIntervalMs: 5 });
    const line = registry.register(await speakLine('Yes, that works for me.'));
    const c = await connect();
    c.send(transcriptionSession({ include: ['item.input_audio_transcription.logprobs'] }));
    const lead = 0.6;
    c.append(concat([silence(lead), line.mulaw, silence(0.8)]));
    await c.waitFor(() => c.ofType('conversation.item.input_audio_transcription.completed').length === 1);

    const types = c.events.map((e) => e.type).filter((t) => !t.startsWith('session.'));
    const deltas = c.ofType('conversation.item.input_audio_transcription.delta');
    expect(types).toEqual([
      'input_audio_buffer.speech_started',
      'input_audio_buffer.speech_stopped',
      'input_audio_buffer.committed',
      ...deltas.map(() => 'conversation.item.input_audio_transcription.delta'),
      'conversation.item.input_audio_transcription.completed',
    ]);
    const [started, stopped, committed] = [
      c.ofType('input_audio_buffer.speech_started')[0]!,
      c.ofType('input_audio_buffer.speech_stopped')[0]!,
      c.ofType('input_audio_buffer.committed')[0]!,
    ];
    const itemId = started.item_id as string;
    expect(itemId).toMatch(/^item_/);
    expect([stopped.item_id, committed.item_id]).toEqual([itemId, itemId]);
    expect(committed.previous_item_id).toBeNull();
    const firstWordMs = (lead + line.words[0]!.startSec) * 1000;
    expect(started.audio_start_ms as number).toBeGreaterThan(firstWordMs - 300 - 60); // prefix padding of 300 ms
    expect(started.audio_start_ms as number).toBeLessThan(firstWordMs);
    const lastWordMs = (lead + line.words.at(-1)!.endSec) * 1000;
    expect(stopped.audio_end_ms as number).toBeGreaterThanOrEqual(lastWordMs + 500 - 60); // 500 ms of silence
    expect(stopped.audio_end_ms as number).toBeLessThan(lastWordMs + 500 + 100);

    expect(deltas.map((d) => d.delta)).toEqual(['Yes,', ' that', ' works', ' for', ' me.']);
    for (const d of deltas) {
      expect(d).toMatchObject({ item_id: itemId, content_index: 0 });
      expect((d.logprobs as Array<{ token: string; logprob: number }>)[0]).toMatchObject({ token: d.delta });
    }
    // Timers may fire a millisecond or so early against the receive clock; the TTFB is 150 ms.
    expect(deltas[0]!.at - committed.at).toBeGreaterThanOrEqual(140);
    const completed = c.ofType('conversation.item.input_audio_transcription.completed')[0]!;
    expect(completed).toMatchObject({
      item_id: itemId,
      content_index: 0,
      transcript: 'Yes, that works for me.',
      usage: { type: 'tokens', output_tokens: 5, input_token_details: { text_tokens: 0 } },
    });
    expect((completed.logprobs as unknown[]).length).toBe(5);
    expect(typeof completed.event_id).toBe('string');
  });

  it('turn_detection null: no VAD events; a commit transcribes the whole buffer; whisper-1 sends one delta and duration usage', async () => {
    const { registry } = await start();
    const line = registry.register(await speakLine('Please call me back tomorrow.'));
    const c = await connect();
    c.send(transcriptionSession({}, { transcription: { model: 'whisper-1' }, turn_detection: null }));
    c.append(concat([silence(0.3), line.mulaw, silence(1.0)]));
    await sleep(100);
    expect(c.events.map((e) => e.type)).toEqual(['session.created', 'session.updated']);
    c.send({ type: 'input_audio_buffer.commit', event_id: 'evt_commit_1' });
    await c.waitFor(() => c.ofType('conversation.item.input_audio_transcription.completed').length === 1);
    expect(c.ofType('conversation.item.input_audio_transcription.delta').map((d) => d.delta)).toEqual(['Please call me back tomorrow.']);
    expect(c.ofType('conversation.item.input_audio_transcription.completed')[0]).toMatchObject({
      transcript: 'Please call me back tomorrow.',
      usage: { type: 'duration' },
    });
    expect(c.ofType('conversation.item.input_audio_transcription.completed')[0]!).not.toHaveProperty('logprobs');
  });

  it("errors have OpenAI's shape and echo the client event id: empty commit, unknown model, unknown event", async () => {
    await start();
    const c = await connect();
    c.send(transcriptionSession({}, { turn_detection: null }));
    c.append(silence(0.05));
    c.send({ type: 'input_audio_buffer.commit', event_id: 'evt_c1' });
    c.send({ ...transcriptionSession({}, { transcription: { model: 'gpt-5-transcribe' } }), event_id: 'evt_bad_model' });
    c.send({ type: 'response.create', event_id: 'evt_resp' });
    await c.waitFor(() => c.ofType('error').length === 3);
    const [empty, model, unknown] = c.ofType('error');
    expect(empty).toEqual({
      type: 'error',
      event_id: expect.stringMatching(/^event_/),
      at: expect.any(Number),
      error: {
        type: 'invalid_request_error',
        code: 'input_audio_buffer_commit_empty',
        message:
          'Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has 50.00ms of audio.',
        param: null,
        event_id: 'evt_c1',
      },
    });
    expect(model!.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_value',
      param: 'session.audio.input.transcription.model',
      event_id: 'evt_bad_model',
    });
    expect(unknown!.error).toMatchObject({ code: 'invalid_value', param: 'type', event_id: 'evt_resp' });
    expect(c.ofType('session.updated')).toHaveLength(1); // the refused update changed nothing
  });

  it("refuses a wrong key with HTTP 401 and OpenAI's JSON error body; a model in the URL gets an error event", async () => {
    await start({ apiKey: 'sk-right' });
    const status = await new Promise<{ status: number; body: string }>((resolve) => {
      const ws = new WebSocket(`${emulator!.baseUrl}/realtime?intent=transcription`, { headers: { Authorization: 'Bearer sk-wrong' } });
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.on('error', () => {});
    });
    expect(status.status).toBe(401);
    expect(JSON.parse(status.body)).toEqual({
      error: { message: 'Incorrect API key provided: sk-***rong.', type: 'invalid_request_error', code: 'invalid_api_key', param: null },
    });
    expect(emulator!.connections).toHaveLength(0);

    const c = await connect('?intent=transcription&model=gpt-4o-transcribe', 'sk-right');
    await c.waitFor(() => c.ofType('error').length === 1);
    expect(c.ofType('error')[0]!.error).toMatchObject({ message: 'You must not provide a model parameter for transcription sessions.' });
  });

  it('24 kHz PCM is heard by VAD but not matched: its speech is transcribed as unknownSpeechText', async () => {
    await start({ unknownSpeechText: '[inaudible]' });
    const c = await connect();
    c.send(transcriptionSession({}, { format: { type: 'audio/pcm', rate: 24000 } }));
    const tone = new Int16Array(24_000 * 0.6);
    for (let i = 0; i < tone.length; i++) tone[i] = Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 24_000));
    const pcm = concat([new Uint8Array(24_000), new Uint8Array(tone.buffer), new Uint8Array(48_000 * 0.8)]);
    c.append(pcm, 4800);
    await c.waitFor(() => c.ofType('conversation.item.input_audio_transcription.completed').length === 1);
    expect(c.ofType('conversation.item.input_audio_transcription.completed')[0]!.transcript).toBe('[inaudible]');
    const started = c.ofType('input_audio_buffer.speech_started')[0]!;
    expect(started.audio_start_ms).toBe(500 - 300);
  });

  it('rejects audio/pcm at another rate', async () => {
    await start();
    const c = await connect();
    c.send(transcriptionSession({}, { format: { type: 'audio/pcm', rate: 16000 } }));
    await c.waitFor(() => c.ofType('error').length === 1);
    expect(c.ofType('error')[0]!.error).toMatchObject({
      code: 'invalid_value',
      param: 'session.audio.input.format.rate',
      event_id: 'evt_cfg',
    });
  });
});
