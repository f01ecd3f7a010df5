import { afterEach, describe, expect, it } from 'vitest';
import { startDeepgramEmulator, type DeepgramEmulator } from '../../../src/sandbox/providers/deepgram-emulator.ts';
import { SpeechRegistry, type SpeechLine } from '../../../src/sandbox/speech-registry.ts';
import { DeepgramSttService, type DeepgramSttOptions } from '../../../src/services/stt/deepgram.ts';
import type { SttError, SttSession, SttTranscript } from '../../../src/services/stt/stt-service.ts';
import { recordSession } from './session-recorder.ts';
import { concat, silence, sleep, speakLine, streamFrames } from './speech-fixture.ts';

const LINE_A = 'I would like to book a table for two.';
const LINE_B = 'Tomorrow evening at seven works best.';

let emulator: DeepgramEmulator | undefined;
let session: SttSession | undefined;

afterEach(async () => {
  session?.abort();
  session = undefined;
  await emulator?.close();
  emulator = undefined;
});

async function setup(options: DeepgramSttOptions = {}, emulatorOptions: Parameters<typeof startDeepgramEmulator>[0] = {}) {
  const registry = new SpeechRegistry();
  emulator = await startDeepgramEmulator({ registry, ...emulatorOptions });
  const service = new DeepgramSttService({ apiKey: 'test-key', baseUrl: emulator.url, ...options });
  session = service.createSession({ callId: 'call-1', input: { encoding: 'mulaw', sampleRate: 8000 } });
  return { registry, emulator, session, rec: recordSession(session) };
}

async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > until) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** Two registered lines placed in one stream; returns the stream and where each line starts. */
async function twoLines(registry: SpeechRegistry) {
  const a = registry.register(await speakLine(LINE_A));
  const b = registry.register(await speakLine(LINE_B));
  const lead = silence(0.4);
  const gap = silence(1.0);
  const audio = concat([lead, a.mulaw, gap, b.mulaw, silence(1.2)]);
  const startA = lead.length / 8000;
  const startB = startA + a.durationSec + gap.length / 8000;
  return { a, b, audio, startA, startB };
}

function wordsOf(transcripts: SttTranscript[]) {
  return transcripts.filter((t) => t.final).flatMap((t) => t.words);
}

describe('DeepgramSttService against the emulator (real SDK)', () => {
  it('transcribes a two-utterance stream: interims first, then finals with call-timeline timestamps', async () => {
    const { registry, session, rec } = await setup();
    const { a, b, audio, startA, startB } = await twoLines(registry);
    await session.connect();
    expect(emulator!.connections[0]!.url).toContain('encoding=mulaw&sample_rate=8000');
    expect(emulator!.connections[0]!.params.model).toBe('nova-2-phonecall');
    await streamFrames(audio, (f, at) => session.sendAudio(f, at));
    await waitFor(() => rec.finals().length >= 2);

    expect(rec.finals()).toEqual([LINE_A, LINE_B]);
    const firstFinalA = rec.transcripts.findIndex((t) => t.final && t.text === LINE_A);
    expect(rec.transcripts.slice(0, firstFinalA).some((t) => !t.final && t.text !== '' && LINE_A.startsWith(t.text))).toBe(true);
    const speechFinals = rec.transcripts.filter((t) => t.final && t.text !== '');
    expect(speechFinals.every((t) => t.speechFinal)).toBe(true);

    // Word times land where the words were placed in the stream.
    const words = wordsOf(rec.transcripts);
    const expected = [...a.words.map((w) => startA + w.startSec), ...b.words.map((w) => startB + w.startSec)];
    expect(words.map((w) => w.punctuated)).toEqual([...a.words, ...b.words].map((w) => w.word));
    words.forEach((w, i) => expect(w.startSec).toBeCloseTo(expected[i]!, 2));
    // Provider VAD events: one speech start per line, utterance ends after each line's last word.
    expect(rec.speechStarted).toHaveLength(2);
    expect(rec.speechStarted[0]!).toBeGreaterThan(startA - 0.05);
    expect(rec.speechStarted[0]!).toBeLessThan(startA + a.words[0]!.endSec);
    expect(rec.utteranceEnds[0]).toBeCloseTo(startA + a.words.at(-1)!.endSec, 2);
    expect(rec.errors).toEqual([]);
  });

  it('Finalize flushes the utterance at once (from_finalize) without waiting for endpointing', async () => {
    const { registry, session, rec } = await setup({ endpointingMs: 5000, utteranceEndMs: false });
    const line = registry.register(await speakLine(LINE_A));
    await session.connect();
    await streamFrames(concat([silence(0.2), line.mulaw, silence(0.3)]), (f, at) => session.sendAudio(f, at));
    await sleep(50);
    expect(rec.finals()).toEqual([]);
    session.finalize();
    await waitFor(() => rec.finals().length === 1);
    const final = rec.transcripts.find((t) => t.final && t.text !== '')!;
    expect(final).toMatchObject({ text: LINE_A, fromFinalize: true });
    expect(emulator!.connections[0]!.finalizes).toBe(1);
  });

  it('KeepAlive keeps a muted session open past the idle timeout; without it the provider closes NET-0001', async () => {
    const { registry, session, rec } = await setup({ keepAliveIntervalMs: 150 }, { idleTimeoutMs: 400 });
    const line = registry.register(await speakLine(LINE_B));
    await session.connect();
    await streamFrames(silence(0.2), (f) => session.sendAudio(f));
    await sleep(1000); // muted: no audio at all
    await streamFrames(concat([line.mulaw, silence(0.6)]), (f) => session.sendAudio(f));
    await waitFor(() => rec.finals().length === 1);
    expect(rec.finals()).toEqual([LINE_B]);
    expect(emulator!.connections).toHaveLength(1);
    expect(emulator!.connections[0]!.keepAlives).toBeGreaterThanOrEqual(3);
    expect(rec.errors).toEqual([]);
    session.abort();
    await emulator!.close();

    // Control: keep-alives too rare for the idle timeout.
    const second = await setup({ keepAliveIntervalMs: 60_000, reconnect: { initialDelayMs: 20 } }, { idleTimeoutMs: 200 });
    await second.session.connect();
    await waitFor(() => second.rec.errors.length > 0, 2000);
    expect(second.rec.errors[0]).toMatchObject({ closeCode: 1011, closeReason: 'NET-0001', fatal: false, callId: 'call-1' });
    expect(second.rec.errors[0]!.message).toContain('1011 NET-0001');
  });

  it('a socket dropped mid-utterance loses no words: reconnect, replay, no duplicate finals', async () => {
    const { registry, session, rec } = await setup({ reconnect: { initialDelayMs: 30 } });
    const { b, audio, startB } = await twoLines(registry);
    await session.connect();
    // Drop the connection halfway through the second line.
    emulator!.dropAtAudioSec(startB + b.durationSec / 2);
    await streamFrames(audio, (f, at) => session.sendAudio(f, at));
    await waitFor(() => rec.finals().length >= 2);
    await sleep(100);

    expect(rec.finals()).toEqual([LINE_A, LINE_B]);
    expect(rec.errors).toHaveLength(1);
    expect(rec.errors[0]).toMatchObject({ closeCode: 1006, fatal: false });
    expect(rec.reconnected).toHaveLength(1);
    expect(rec.reconnected[0]!).toBeGreaterThan(b.durationSec / 2); // the unfinalised part of line B was replayed
    expect(emulator!.connections).toHaveLength(2);
    expect(emulator!.connections[1]!.sent.SpeechStarted).toBe(1); // the replay repeats line B's speech start…
    expect(rec.speechStarted).toHaveLength(2); // …which is not reported twice
    // The new connection's timestamps are mapped back onto the call timeline.
    const wordsB = wordsOf(rec.transcripts).slice(-b.words.length);
    wordsB.forEach((w, i) => expect(w.startSec).toBeCloseTo(startB + b.words[i]!.startSec, 2));
  });

  it('a Finalize lost with a dropped socket is repeated after the replay', async () => {
    const { registry, session, rec } = await setup({ endpointingMs: 5000, reconnect: { initialDelayMs: 20 } });
    const line = registry.register(await speakLine(LINE_B));
    await session.connect();
    await streamFrames(concat([silence(0.3), line.mulaw, silence(0.2)]), (f, at) => session.sendAudio(f, at));
    await sleep(30);
    emulator!.dropConnections();
    session.finalize(); // goes nowhere: the socket is already gone
    await waitFor(() => rec.finals().length === 1);
    expect(rec.transcripts.find((t) => t.final && t.text !== '')).toMatchObject({ text: LINE_B, fromFinalize: true });
    expect(emulator!.connections).toHaveLength(2);
    expect(emulator!.connections[1]!.finalizes).toBe(1);
    expect(rec.reconnected[0]!).toBeCloseTo(0.5 + line.durationSec, 1);
  });

  it('close() sends CloseStream and waits for the last final and Metadata', async () => {
    const { registry, session, rec } = await setup({ endpointingMs: 5000 });
    const line: SpeechLine = registry.register(await speakLine(LINE_A));
    await session.connect();
    await streamFrames(line.mulaw, (f) => session.sendAudio(f));
    const result = await session.close(2000);
    expect(rec.finals()).toEqual([LINE_A]);
    expect(result.flushed).toBe(true);
    expect(result.audioSec).toBeCloseTo(line.durationSec, 2);
    expect(result.requestId).toBe(emulator!.connections[0]!.requestId);
    const conn = emulator!.connections[0]!;
    expect(conn.closeStreams).toBe(1);
    expect(conn.sent.Metadata).toBe(1);
    await waitFor(() => conn.closed !== null);
    expect(conn.closed!.code).toBe(1000);
  });

  it('a drop during close() is recovered: the unfinalised audio is replayed and flushed', async () => {
    const { registry, session, rec } = await setup({ endpointingMs: 5000, reconnect: { initialDelayMs: 20 } });
    const line = registry.register(await speakLine(LINE_A));
    await session.connect();
    await streamFrames(line.mulaw, (f) => session.sendAudio(f));
    emulator!.dropConnections();
    const result = await session.close(2000);
    expect(rec.finals()).toEqual([LINE_A]);
    expect(result.flushed).toBe(true);
    expect(emulator!.connections.map((c) => c.closeStreams)).toEqual([0, 1]);
  });

  it('audio sent before the connection is up is buffered, not lost', async () => {
    const { registry, session, rec } = await setup();
    const line = registry.register(await speakLine(LINE_B));
    const connected = session.connect();
    for (let i = 0; i < line.mulaw.length; i += 160) session.sendAudio(line.mulaw.subarray(i, i + 160));
    await connected;
    await streamFrames(silence(0.6), (f) => session.sendAudio(f));
    await waitFor(() => rec.finals().length === 1);
    expect(rec.finals()).toEqual([LINE_B]);
  });

  it('a bad API key fails fast with the HTTP status and the call id', async () => {
    const { session, rec } = await setup({}, { apiKey: 'the-right-key' });
    const error = (await session.connect().catch((e: unknown) => e)) as SttError;
    expect(error).toMatchObject({ name: 'SttError', httpStatus: 401, fatal: true, callId: 'call-1', provider: 'deepgram' });
    expect(error.message).toContain('HTTP 401');
    expect(rec.errors).toEqual([error]);
    expect(emulator!.connections).toHaveLength(0);
  });

  it('sends options as Deepgram query parameters (repeated keyterm), and Nova-3 keywords fail before connecting', async () => {
    const { session } = await setup({ model: 'nova-3', keyterms: ['Maria', 'root canal'], endpointingMs: false, language: 'en-GB' });
    await session.connect();
    expect(emulator!.connections[0]!.params).toMatchObject({
      model: 'nova-3',
      keyterms: ['Maria', 'root canal'],
      endpointingMs: false,
      language: 'en-GB',
      interimResults: true,
      utteranceEndMs: 1000,
      vadEvents: true,
      smartFormat: true,
      punctuate: true,
    });
    session.abort();

    const service = new DeepgramSttService({ apiKey: 'k', baseUrl: emulator!.url, model: 'nova-3', keywords: ['Maria:2'] });
    const rejected = service.createSession({ callId: 'call-2', input: { encoding: 'mulaw', sampleRate: 8000 } });
    const error = (await rejected.connect().catch((e: unknown) => e)) as SttError;
    expect(error).toMatchObject({ fatal: true, httpStatus: 400, callId: 'call-2' });
    expect(error.message).toContain('keyterm');
    expect(emulator!.connections).toHaveLength(1);
  });

  it('retries a rejected handshake (503) and gives up after the configured attempts', async () => {
    const { session, rec } = await setup({ reconnect: { maxAttempts: 2, initialDelayMs: 10 } });
    emulator!.rejectNextConnections(5, 503);
    const error = (await session.connect().catch((e: unknown) => e)) as SttError;
    expect(error).toMatchObject({ fatal: true, httpStatus: 503 });
    expect(error.message).toContain('gave up after 2 reconnect attempts');
    expect(rec.errors.filter((e) => !e.fatal)).toHaveLength(2);
  });
});

describe('send batching', () => {
  it('sends 20 ms frames as 40 ms messages by default, and Finalize flushes the rest first', async () => {
    const { session: s, emulator: emu } = await setup();
    await s.connect();
    const frame = new Uint8Array(160).fill(0xff);
    for (let i = 0; i < 9; i++) s.sendAudio(frame, i * 0.02);
    await waitFor(() => emu.connections[0]!.audioBytes === 8 * 160);
    expect(emu.connections[0]!.audioMessages).toBe(4); // 9 frames: four 320-byte messages, one frame pending
    s.finalize();
    await waitFor(() => emu.connections[0]!.finalizes === 1);
    expect(emu.connections[0]!.audioBytes).toBe(9 * 160); // the pending frame went out before Finalize
    expect(emu.connections[0]!.audioMessages).toBe(5);
  });

  it('sendIntervalMs 20 sends every frame as it comes', async () => {
    const { session: s, emulator: emu } = await setup({ sendIntervalMs: 20 });
    await s.connect();
    for (let i = 0; i < 5; i++) s.sendAudio(new Uint8Array(160).fill(0xff), i * 0.02);
    await waitFor(() => emu.connections[0]!.audioMessages === 5);
  });
});
