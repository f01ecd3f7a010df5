import { createHash } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { writeWav } from '../../../src/audio/wav.ts';
import { mulawDecode } from '../../../src/audio/g711.ts';
import {
  startDeepgramEmulator,
  type DeepgramEmulator,
  type DeepgramEmulatorOptions,
} from '../../../src/sandbox/providers/deepgram-emulator.ts';
import { SpeechRegistry, type SpeechLine, type SpeechLineInput } from '../../../src/sandbox/speech-registry.ts';
import { concat, silence, sleep, speakLine } from '../../services/stt/speech-fixture.ts';

const TEXT = 'Yes, I can come on Tuesday.';
let spoken: SpeechLineInput;
let unknown: SpeechLineInput;
let emulator: DeepgramEmulator | undefined;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  spoken = await speakLine(TEXT);
  unknown = await speakLine('These words were never registered.');
});

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await emulator?.close();
  emulator = undefined;
});

async function start(
  options: DeepgramEmulatorOptions = {},
): Promise<{ emulator: DeepgramEmulator; registry: SpeechRegistry; line: SpeechLine }> {
  const registry = new SpeechRegistry();
  const line = registry.register(spoken);
  emulator = await startDeepgramEmulator({ registry, ...options });
  return { emulator, registry, line };
}

interface Client {
  ws: WebSocket;
  messages: Array<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
  headers: Record<string, string | string[] | undefined>;
}

/** Connects a raw `ws` client (not the SDK) so the wire format itself is under test. */
function connect(query: string, options: { key?: string; protocols?: string[] } = {}): Promise<Client> {
  const headers = options.key ? { Authorization: `Token ${options.key}` } : undefined;
  const ws = new WebSocket(`${emulator!.url}/v1/listen?${query}`, options.protocols ?? [], { headers });
  sockets.push(ws);
  const messages: Array<Record<string, unknown>> = [];
  ws.on('message', (data, isBinary) => {
    expect(isBinary).toBe(false);
    messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return new Promise((resolve, reject) => {
    ws.on('upgrade', (res) => resolve({ ws, messages, closed, headers: res.headers }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body, headers: res.headers })),
      );
    });
    ws.on('error', () => {});
  });
}

function sendFrames(ws: WebSocket, audio: Uint8Array, frameBytes = 160): void {
  for (let i = 0; i < audio.length; i += frameBytes) ws.send(audio.subarray(i, i + frameBytes));
}

async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > until) throw new Error('condition not met in time');
    await sleep(5);
  }
}

const PHONE = 'model=nova-2-phonecall&encoding=mulaw&sample_rate=8000&channels=1';
const results = (c: Client) => c.messages.filter((m) => m.type === 'Results') as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
const finalText = (c: Client) =>
  results(c)
    .filter((r) => r.is_final && r.channel.alternatives[0].transcript !== '')
    .map((r) => r.channel.alternatives[0].transcript as string);

describe('Deepgram emulator: handshake', () => {
  it('rejects a missing or wrong key with 401 before the upgrade; accepts header and subprotocol auth', async () => {
    await start({ apiKey: 'sekrit' });
    const missing = await connect(PHONE).catch((e: { status: number; body: string }) => e);
    expect(missing).toMatchObject({ status: 401 });
    expect(JSON.parse((missing as { body: string }).body)).toMatchObject({ err_code: 'INVALID_AUTH' });
    await expect(connect(PHONE, { key: 'wrong' })).rejects.toMatchObject({ status: 401 });

    const viaHeader = await connect(PHONE, { key: 'sekrit' });
    expect(viaHeader.headers['dg-request-id']).toBe(emulator!.connections[0]!.requestId);
    const viaProtocol = await connect(PHONE, { protocols: ['token', 'sekrit'] });
    expect(viaProtocol.ws.protocol).toBe('token');
    expect(emulator!.connections.map((c) => c.auth)).toEqual(['header', 'subprotocol']);
  });

  it('rejects bad parameters with 400 and parses repeated keys', async () => {
    await start();
    for (const query of [
      'encoding=bogus&sample_rate=8000',
      'encoding=mulaw',
      'model=nova-3&keywords=foo:2',
      'interim_results=maybe',
      'model=gpt-4',
    ]) {
      const err = (await connect(query).catch((e: unknown) => e)) as { status: number; body: string; headers: Record<string, string> };
      expect(err.status, query).toBe(400);
      expect(JSON.parse(err.body)).toMatchObject({ err_code: 'INVALID_QUERY_PARAMETER', request_id: expect.any(String) });
      expect(err.headers['dg-error']).toBeTruthy();
    }
    await connect(`${PHONE}&keyterm=Maria&keyterm=dental%20clinic&endpointing=false`.replace('nova-2-phonecall', 'nova-3'));
    expect(emulator!.connections[0]!.params).toMatchObject({ keyterms: ['Maria', 'dental clinic'], endpointingMs: false, model: 'nova-3' });
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`${emulator!.url}/v2/other`);
        ws.on('unexpected-response', (_q, res) => resolve(res.statusCode));
        ws.on('error', reject);
      }),
    ).resolves.toBe(404);
  });
});

describe('Deepgram emulator: transcription', () => {
  it('returns Results in Deepgram shape: interims as words arrive, then is_final + speech_final after endpointing', async () => {
    const { line } = await start();
    const c = await connect(`${PHONE}&interim_results=true&endpointing=300&utterance_end_ms=1000&vad_events=true&punctuate=true`);
    sendFrames(c.ws, concat([silence(0.5), line.mulaw, silence(1.5)]));
    await waitFor(() => c.messages.some((m) => m.type === 'UtteranceEnd'));

    const all = results(c);
    const firstFinal = all.findIndex((r) => r.is_final && r.channel.alternatives[0].transcript !== '');
    expect(firstFinal).toBeGreaterThan(0);
    expect(all.slice(0, firstFinal).every((r) => r.is_final === false)).toBe(true);
    const final = all[firstFinal]!;
    expect(final).toMatchObject({
      type: 'Results',
      channel_index: [0, 1],
      is_final: true,
      speech_final: true,
      from_finalize: false,
      metadata: { request_id: emulator!.connections[0]!.requestId, model_info: { name: '2-phonecall-nova', arch: 'nova-2' } },
    });
    expect(typeof final.metadata.model_uuid).toBe('string');
    const alt = final.channel.alternatives[0];
    expect(alt.transcript).toBe(TEXT);
    expect(alt.words.map((w: { punctuated_word: string }) => w.punctuated_word)).toEqual(TEXT.split(' '));
    expect(alt.words[0]).toEqual({
      word: 'yes',
      punctuated_word: 'Yes,',
      start: expect.any(Number),
      end: expect.any(Number),
      confidence: expect.any(Number),
    });
    // Word times are on the stream's timeline; the final covers [start, start + duration) and ends ≈ 300 ms after the last word.
    expect(alt.words[0].start).toBeCloseTo(0.5 + line.words[0]!.startSec, 2);
    const lastEnd = 0.5 + line.words.at(-1)!.endSec;
    // (word timings of the offline voice are estimates, ±50 ms; the endpoint follows the audio itself)
    expect(final.start + final.duration).toBeGreaterThanOrEqual(lastEnd + 0.3 - 0.06);
    expect(final.start + final.duration).toBeLessThan(lastEnd + 0.3 + 0.25);

    const speechStarted = c.messages.find((m) => m.type === 'SpeechStarted')!;
    expect(speechStarted).toEqual({ type: 'SpeechStarted', channel: [0], timestamp: expect.any(Number) });
    expect(speechStarted.timestamp as number).toBeCloseTo(0.5, 1);
    const utteranceEnd = c.messages.find((m) => m.type === 'UtteranceEnd')!;
    expect(utteranceEnd).toEqual({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: expect.any(Number) });
    expect(utteranceEnd.last_word_end as number).toBeCloseTo(lastEnd, 2);
  });

  it('without punctuate the transcript is lower case without punctuation; interim_results=false sends finals only', async () => {
    const { line } = await start();
    const c = await connect(`${PHONE}&endpointing=300`);
    sendFrames(c.ws, concat([line.mulaw, silence(0.6)]));
    await waitFor(() => finalText(c).length === 1);
    expect(finalText(c)).toEqual(['yes i can come on tuesday']);
    expect(results(c).every((r) => r.is_final)).toBe(true);
  });

  it('Finalize flushes with from_finalize; CloseStream sends the last Results, Metadata, then closes 1000', async () => {
    const { line } = await start();
    const c = await connect(`${PHONE}&endpointing=5000&punctuate=true`);
    const audio = concat([silence(0.2), line.mulaw]);
    sendFrames(c.ws, audio.subarray(0, 8000));
    c.ws.send(JSON.stringify({ type: 'Finalize' }));
    await waitFor(() => results(c).some((r) => r.from_finalize));
    const flushed = results(c).find((r) => r.from_finalize)!;
    expect(flushed.is_final).toBe(true);
    expect(TEXT.startsWith(flushed.channel.alternatives[0].transcript)).toBe(true);

    sendFrames(c.ws, audio.subarray(8000));
    c.ws.send(JSON.stringify({ type: 'CloseStream' }));
    const closed = await c.closed;
    expect(closed.code).toBe(1000);
    expect(finalText(c).join(' ')).toBe(TEXT);
    const last = c.messages.at(-1)!;
    expect(last).toMatchObject({
      type: 'Metadata',
      transaction_key: 'deprecated',
      request_id: emulator!.connections[0]!.requestId,
      sha256: createHash('sha256').update(audio).digest('hex'),
      channels: 1,
    });
    expect(last.duration as number).toBeCloseTo(audio.length / 8000, 1);
  });

  it('closes 1011 NET-0001 after the idle timeout; KeepAlive (and audio) keep the connection open', async () => {
    await start({ idleTimeoutMs: 200 });
    const kept = await connect(PHONE);
    const idle = await connect(PHONE);
    const timer = setInterval(() => kept.ws.send(JSON.stringify({ type: 'KeepAlive' })), 60);
    expect(await idle.closed).toEqual({ code: 1011, reason: 'NET-0001' });
    await sleep(300);
    clearInterval(timer);
    expect(kept.ws.readyState).toBe(WebSocket.OPEN);
    expect(kept.messages).toEqual([]); // KeepAlive has no reply
    expect(await kept.closed).toEqual({ code: 1011, reason: 'NET-0001' });
  });

  it('undecodable audio without an encoding closes DATA-0000; a μ-law WAV stream is understood', async () => {
    const { line } = await start();
    const garbage = await connect('model=nova-2');
    garbage.ws.send(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
    expect(await garbage.closed).toEqual({ code: 1008, reason: 'DATA-0000' });

    const wav = writeWav({ samples: mulawDecode(concat([line.mulaw, silence(0.6)])), sampleRate: 8000, channels: 1, format: 'mulaw' });
    const container = await connect('model=nova-2&endpointing=300&punctuate=true');
    sendFrames(container.ws, new Uint8Array(wav), 333);
    await waitFor(() => finalText(container).length === 1);
    expect(finalText(container)).toEqual([TEXT]);
  });

  it('unknown speech yields empty results by default, or the configured placeholder', async () => {
    await start();
    const plain = await connect(`${PHONE}&endpointing=300`);
    sendFrames(plain.ws, concat([unknown.mulaw, silence(0.6)]));
    await waitFor(() => results(plain).some((r) => r.speech_final));
    expect(finalText(plain)).toEqual([]);
    await emulator!.close();

    await start({ recognizer: { unknownSpeechText: '[inaudible]' } });
    const marked = await connect(`${PHONE}&endpointing=300&punctuate=true`);
    sendFrames(marked.ws, concat([silence(0.3), unknown.mulaw, silence(0.6)]));
    await waitFor(() => finalText(marked).length === 1);
    expect(finalText(marked)).toEqual(['[inaudible]']);
  });

  it('identical word audio shared by two lines is transcribed once, in the right place', async () => {
    // Lines built from the same per-word clips (like the sandbox's tone voice): "the doctor" is byte-identical
    // in both, and the newer line ends with it, so the matcher first locks onto the wrong line.
    const clips = new Map<string, Uint8Array>();
    const loud = (b: number) => (~b & 0x7f) > 8; // μ-law magnitude above the noise floor
    for (const w of ['the', 'doctor', 'said', 'same', 'is', 'time', 'fine', 'for']) {
      const clip = (await speakLine(w)).mulaw;
      clips.set(w, clip.subarray(clip.findIndex(loud), clip.findLastIndex(loud) + 1));
    }
    const compose = (text: string): SpeechLineInput => {
      const parts: Uint8Array[] = [];
      const words = [];
      let pos = 0;
      for (const word of text.split(' ')) {
        const clip = clips.get(word)!;
        words.push({ word, startSec: pos / 8000, endSec: (pos + clip.length) / 8000 });
        parts.push(clip, silence(0.08));
        pos += clip.length + 640;
      }
      return { text, mulaw: concat(parts), words };
    };
    const registry = new SpeechRegistry();
    const said = registry.register(compose('the doctor said the same'));
    const asked = registry.register(compose('is the time fine for the doctor'));
    emulator = await startDeepgramEmulator({ registry });
    const c = await connect(`${PHONE}&endpointing=300`);
    sendFrames(c.ws, concat([silence(0.3), said.mulaw, silence(0.5), asked.mulaw, silence(0.5)]));
    await waitFor(() => finalText(c).length === 2);
    expect(finalText(c)).toEqual(['the doctor said the same', 'is the time fine for the doctor']);
  });

  it('a frame repeated mid-line (a jitter buffer concealing a late packet) does not transcribe a word twice', async () => {
    // The repeat shifts the rest of the line by one frame; the match that picks the line up again must not report
    // the word whose middle the first match had already covered (it used to: "… on Tuesday. Tuesday.").
    const { line } = await start();
    const last = line.words.at(-1)!;
    const frame = Math.floor((((last.startSec + last.endSec) / 2) * 8000) / 160); // the frame holding the word's middle
    const cut = (frame + 1) * 160;
    const repeated = line.mulaw.slice(frame * 160, cut);
    const c = await connect(`${PHONE}&endpointing=300&punctuate=true`);
    sendFrames(c.ws, concat([silence(0.3), line.mulaw.subarray(0, cut), repeated, line.mulaw.subarray(cut), silence(0.6)]));
    await waitFor(() => finalText(c).length === 1);
    await sleep(100);
    expect(finalText(c)).toEqual([TEXT]);
  });

  it('a frame replaced mid-word (concealment of a lost packet) loses no word', async () => {
    const { line } = await start();
    const last = line.words.at(-1)!;
    const frame = Math.floor((((last.startSec + last.endSec) / 2) * 8000) / 160);
    const stream = line.mulaw.slice();
    stream.set(line.mulaw.subarray((frame - 1) * 160, frame * 160), frame * 160); // the previous frame again, in its place
    const c = await connect(`${PHONE}&endpointing=300&punctuate=true`);
    sendFrames(c.ws, concat([silence(0.3), stream, silence(0.6)]));
    await waitFor(() => finalText(c).length === 1);
    await sleep(100);
    expect(finalText(c)).toEqual([TEXT]);
  });

  it('linear16 at 8 kHz (decoded μ-law) is matched too', async () => {
    const { line } = await start();
    const c = await connect('model=nova-3&encoding=linear16&sample_rate=8000&endpointing=300&smart_format=true');
    const pcm = mulawDecode(concat([line.mulaw, silence(0.6)]));
    sendFrames(c.ws, new Uint8Array(pcm.buffer), 321); // odd chunk size: samples split across messages
    await waitFor(() => finalText(c).length === 1);
    expect(finalText(c)).toEqual([TEXT]);
    expect(results(c)[0]!.metadata.model_info).toMatchObject({ name: '3-general-nova', arch: 'nova-3' });
  });
});

describe('Deepgram emulator: fault injection and latency', () => {
  it('drops connections (1006), rejects the next handshake, forces NET-0001', async () => {
    await start();
    const a = await connect(PHONE);
    emulator!.dropConnections();
    expect((await a.closed).code).toBe(1006);

    emulator!.rejectNextConnections(1, 503);
    await expect(connect(PHONE)).rejects.toMatchObject({ status: 503 });
    const b = await connect(PHONE);
    emulator!.forceIdleTimeout();
    expect(await b.closed).toEqual({ code: 1011, reason: 'NET-0001' });

    const c = await connect(PHONE);
    emulator!.dropConnectionsAfter(30);
    expect((await c.closed).code).toBe(1006);
    await waitFor(() => emulator!.openConnections === 0);
  });

  it('delays every message by the configured processing latency', async () => {
    const { line } = await start({ latencyMs: 150 });
    const c = await connect(`${PHONE}&endpointing=300`);
    sendFrames(c.ws, concat([line.mulaw, silence(0.4)]));
    const sentAt = performance.now();
    await waitFor(() => finalText(c).length === 1);
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(145);
  });
});
