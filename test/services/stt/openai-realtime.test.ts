import { afterEach, describe, expect, it } from 'vitest';
import {
  startOpenAIRealtimeEmulator,
  type OpenAIRealtimeEmulator,
  type OpenAIRealtimeEmulatorOptions,
} from '../../../src/sandbox/providers/openai-realtime-emulator.ts';
import { SpeechRegistry } from '../../../src/sandbox/speech-registry.ts';
import { OpenAIRealtimeSttService, type OpenAISttOptions } from '../../../src/services/stt/openai-realtime.ts';
import type { SttError, SttSession } from '../../../src/services/stt/stt-service.ts';
import { recordSession } from './session-recorder.ts';
import { concat, silence, sleep, speakLine, streamFrames } from './speech-fixture.ts';

const LINE_A = 'I would like to book a table for two.';
const LINE_B = 'Tomorrow evening at seven works best.';

let emulator: OpenAIRealtimeEmulator | undefined;
let session: SttSession | undefined;

afterEach(async () => {
  session?.abort();
  session = undefined;
  await emulator?.close();
  emulator = undefined;
});

async function setup(options: OpenAISttOptions = {}, emulatorOptions: OpenAIRealtimeEmulatorOptions = {}) {
  const registry = new SpeechRegistry();
  emulator = await startOpenAIRealtimeEmulator({ registry, ttfbMs: 0, deltaIntervalMs: 0, ...emulatorOptions });
  const service = new OpenAIRealtimeSttService({
    apiKey: 'sk-test',
    baseUrl: emulator.baseUrl,
    ...(emulator.ca ? { tls: { ca: emulator.ca } } : {}),
    ...options,
  });
  session = service.createSession({ callId: 'call-1', input: service.inputFormatFor({ encoding: 'mulaw', sampleRate: 8000 }) });
  return { registry, emulator, session, rec: recordSession(session) };
}

async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > until) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** Two registered lines in one stream; returns the stream and where each line starts. */
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

describe('OpenAIRealtimeSttService against the emulator', () => {
  it('opens a transcription session and transcribes two utterances: deltas as interims, then finals from server VAD', async () => {
    const { registry, session, rec } = await setup();
    const { a, b, audio, startA, startB } = await twoLines(registry);
    await session.connect();
    const conn = emulator!.connections[0]!;
    expect(conn.url).toBe('/v1/realtime?intent=transcription'); // no model in the URL
    expect(conn.sessionUpdates[0]).toEqual({
      type: 'transcription',
      audio: {
        input: {
          format: { type: 'audio/pcmu' }, // 8 kHz μ-law as is
          transcription: { model: 'gpt-4o-transcribe', language: 'en' },
          turn_detection: { type: 'server_vad', silence_duration_ms: 500 },
        },
      },
      include: ['item.input_audio_transcription.logprobs'],
    });
    await streamFrames(audio, (f, at) => session.sendAudio(f, at));
    await waitFor(() => rec.finals().length >= 2);

    expect(rec.finals()).toEqual([LINE_A, LINE_B]);
    const finalA = rec.transcripts.findIndex((t) => t.final && t.text === LINE_A);
    const interimsA = rec.transcripts
      .slice(0, finalA)
      .filter((t) => !t.final)
      .map((t) => t.text);
    expect(interimsA.length).toBeGreaterThan(3);
    expect(interimsA.every((text) => LINE_A.startsWith(text))).toBe(true);
    expect(interimsA.at(-1)).toBe(LINE_A);
    const finals = rec.transcripts.filter((t) => t.final && t.text !== '');
    expect(finals.every((t) => t.speechFinal && !t.fromFinalize && t.confidence > 0.9 && t.language === 'en')).toBe(true);
    // Results span their items on the call timeline: from speech start (less prefix padding) past the last word.
    expect(finals[0]!.startSec).toBeCloseTo(Math.max(0, startA - 0.3), 1);
    expect(finals[0]!.endSec).toBeGreaterThan(startA + a.words.at(-1)!.endSec);
    expect(finals[1]!.startSec).toBeGreaterThan(startA + a.durationSec);
    expect(finals[1]!.endSec).toBeGreaterThan(startB + b.words.at(-1)!.endSec);
    expect(rec.speechStarted).toHaveLength(2);
    expect(rec.speechStarted[1]!).toBeGreaterThan(startB - 0.35);
    expect(rec.speechStarted[1]!).toBeLessThan(startB + b.words[0]!.endSec);
    expect(rec.errors).toEqual([]);
  });

  it('finalize at turn end commits the buffer: the final answers the finalize (no turn detection)', async () => {
    const { registry, session, rec } = await setup({ turnDetection: null });
    const line = registry.register(await speakLine(LINE_A));
    await session.connect();
    await streamFrames(concat([silence(0.2), line.mulaw, silence(0.3)]), (f, at) => session.sendAudio(f, at));
    await sleep(100);
    expect(rec.transcripts).toEqual([]); // nothing is transcribed before the commit
    session.finalize();
    await waitFor(() => rec.finals().length === 1);
    const final = rec.transcripts.find((t) => t.final)!;
    expect(final).toMatchObject({ text: LINE_A, fromFinalize: true, speechFinal: false, startSec: 0 });
    expect(final.endSec).toBeCloseTo(0.5 + line.durationSec, 2);
    expect(rec.transcripts.filter((t) => !t.final).length).toBeGreaterThan(0);
    expect(emulator!.connections[0]!.commits).toBe(1);
  });

  it('with server VAD, finalize commits an utterance VAD still has open, and sends nothing once VAD has committed it', async () => {
    const { registry, session, rec } = await setup({ turnDetection: { type: 'server_vad', silence_duration_ms: 3000 } });
    const line = registry.register(await speakLine(LINE_B));
    await session.connect();
    await streamFrames(concat([silence(0.2), line.mulaw, silence(0.4)]), (f, at) => session.sendAudio(f, at));
    await waitFor(() => rec.speechStarted.length === 1);
    session.finalize();
    await waitFor(() => rec.finals().length === 1);
    expect(rec.transcripts.find((t) => t.final)).toMatchObject({ text: LINE_B, fromFinalize: true });
    await streamFrames(silence(3.5), (f, at) => session.sendAudio(f, at)); // VAD would have ended it here
    session.finalize();
    await sleep(100);
    expect(emulator!.connections[0]!.commits).toBe(1);
    expect(rec.errors).toEqual([]);
  });

  it('a socket dropped mid-utterance reconnects, replays the untranscribed audio and loses no words', async () => {
    const { registry, session, rec } = await setup({ reconnect: { initialDelayMs: 30 } });
    const { b, audio, startB } = await twoLines(registry);
    await session.connect();
    emulator!.dropAtAudioSec(startB + b.durationSec / 2);
    await streamFrames(audio, (f, at) => session.sendAudio(f, at));
    await waitFor(() => rec.finals().length >= 2);
    await sleep(100);

    expect(rec.finals()).toEqual([LINE_A, LINE_B]);
    expect(rec.errors).toHaveLength(1);
    expect(rec.errors[0]).toMatchObject({ closeCode: 1006, fatal: false, callId: 'call-1', provider: 'openai' });
    expect(rec.reconnected).toHaveLength(1);
    expect(rec.reconnected[0]!).toBeGreaterThan(b.durationSec / 2); // the unfinished line B went out again
    expect(emulator!.connections).toHaveLength(2);
    expect(emulator!.connections[1]!.sent['input_audio_buffer.speech_started']).toBe(1); // the replay repeats B's start…
    expect(rec.speechStarted).toHaveLength(2); // …which is not reported twice
    const finalB = rec.transcripts.find((t) => t.final && t.text === LINE_B)!;
    expect(finalB.startSec).toBeGreaterThan(startB - 0.35); // mapped back onto the call timeline
    expect(finalB.startSec).toBeLessThan(startB);
  });

  it('a finalize lost with a dropped socket is repeated after the replay', async () => {
    const { registry, session, rec } = await setup({ turnDetection: null, reconnect: { initialDelayMs: 20 } });
    const line = registry.register(await speakLine(LINE_B));
    await session.connect();
    await streamFrames(concat([silence(0.3), line.mulaw, silence(0.2)]), (f, at) => session.sendAudio(f, at));
    await sleep(30);
    emulator!.dropConnections();
    session.finalize(); // goes nowhere: the socket is gone
    await waitFor(() => rec.finals().length === 1);
    expect(rec.transcripts.find((t) => t.final)).toMatchObject({ text: LINE_B, fromFinalize: true });
    expect(emulator!.connections.map((c) => c.commits)).toEqual([0, 1]);
    expect(rec.reconnected[0]!).toBeCloseTo(0.5 + line.durationSec, 1);
  });

  it("an error event surfaces as an SttError with the call id and OpenAI's code; the session goes on", async () => {
    const { registry, session, rec } = await setup({ turnDetection: null });
    const line = registry.register(await speakLine(LINE_A));
    await session.connect();
    emulator!.sendError({ type: 'server_error', code: 'rate_limit_exceeded', message: 'Slow down.' });
    await waitFor(() => rec.errors.length === 1);
    expect(rec.errors[0]).toMatchObject({
      name: 'SttError',
      callId: 'call-1',
      provider: 'openai',
      providerCode: 'rate_limit_exceeded',
      fatal: false,
    });
    expect(rec.errors[0]!.message).toContain('Slow down.');
    await streamFrames(line.mulaw, (f, at) => session.sendAudio(f, at));
    session.finalize();
    await waitFor(() => rec.finals().length === 1);
    expect(rec.finals()).toEqual([LINE_A]);
    expect(emulator!.connections).toHaveLength(1);
  });

  it('an error the server hangs up after is followed by a reconnect', async () => {
    const { session, rec } = await setup({ reconnect: { initialDelayMs: 10 } });
    await session.connect();
    emulator!.sendError({ type: 'server_error', code: 'server_error', message: 'The server had an error.' }, { closeCode: 1011 });
    await waitFor(() => rec.reconnected.length === 1);
    expect(rec.errors.map((e) => [e.providerCode, e.closeCode])).toEqual([
      ['server_error', undefined],
      [null, 1011],
    ]);
    expect(rec.errors.every((e) => !e.fatal && e.callId === 'call-1')).toBe(true);
  });

  it('a refused session.update (unknown model) fails the session with the param in the message', async () => {
    const { session, rec } = await setup({ model: 'gpt-5-transcribe-nope' });
    const error = (await session.connect().catch((e: unknown) => e)) as SttError;
    expect(error).toMatchObject({ fatal: true, providerCode: 'invalid_value', callId: 'call-1' });
    expect(error.message).toContain('session.audio.input.transcription.model');
    expect(rec.errors).toEqual([error]);
  });

  it('a failed transcription is reported (code transcription_failed), and later items still transcribe', async () => {
    const { registry, session, rec } = await setup();
    const { audio } = await twoLines(registry);
    emulator!.failNextTranscriptions(1, { type: 'server_error', code: 'transcription_failed', message: 'Audio could not be processed.' });
    await session.connect();
    await streamFrames(audio, (f, at) => session.sendAudio(f, at));
    await waitFor(() => rec.finals().length >= 1);
    expect(rec.finals()).toEqual([LINE_B]);
    expect(rec.errors).toHaveLength(1);
    expect(rec.errors[0]).toMatchObject({ providerCode: 'transcription_failed', fatal: false, callId: 'call-1' });
  });

  it('bad credentials are rejected at the handshake: fatal, HTTP 401, invalid_api_key, no retry', async () => {
    const { session, rec } = await setup({}, { apiKey: 'sk-right' });
    const error = (await session.connect().catch((e: unknown) => e)) as SttError;
    expect(error).toMatchObject({ name: 'SttError', httpStatus: 401, providerCode: 'invalid_api_key', fatal: true, callId: 'call-1' });
    expect(error.message).toContain('HTTP 401');
    expect(rec.errors).toEqual([error]);
    expect(emulator!.connections).toHaveLength(0);
  });

  it('bad credentials reported as an error event after the upgrade are fatal too', async () => {
    const { session } = await setup({}, { apiKey: 'sk-right', authFailure: 'event' });
    const error = (await session.connect().catch((e: unknown) => e)) as SttError;
    expect(error).toMatchObject({ providerCode: 'invalid_api_key', fatal: true, callId: 'call-1' });
    expect(emulator!.connections).toHaveLength(1);
  });

  it('retries a refused handshake (503) and gives up after the configured attempts', async () => {
    const { session, rec } = await setup({ reconnect: { maxAttempts: 2, initialDelayMs: 10 } });
    emulator!.rejectNextConnections(5, 503);
    const error = (await session.connect().catch((e: unknown) => e)) as SttError;
    expect(error).toMatchObject({ fatal: true, httpStatus: 503 });
    expect(error.message).toContain('gave up after 2 reconnect attempts');
    expect(rec.errors.filter((e) => !e.fatal)).toHaveLength(2);
  });

  it('close() commits what is left and waits for the last transcription', async () => {
    const { registry, session, rec } = await setup({ turnDetection: null }, { ttfbMs: 150 });
    const line = registry.register(await speakLine(LINE_A));
    await session.connect();
    await streamFrames(line.mulaw, (f) => session.sendAudio(f));
    const result = await session.close(2000);
    expect(rec.finals()).toEqual([LINE_A]);
    expect(result.flushed).toBe(true);
    expect(result.audioSec).toBeCloseTo(line.durationSec, 2);
    expect(result.requestId).toBe(emulator!.connections[0]!.sessionId);
    await waitFor(() => emulator!.connections[0]!.closed !== null);
    expect(emulator!.connections[0]!.closed!.code).toBe(1000);
  });

  it('audio sent before the connection is up is buffered, not lost', async () => {
    const { registry, session, rec } = await setup();
    const line = registry.register(await speakLine(LINE_B));
    const connected = session.connect();
    for (let i = 0; i < line.mulaw.length; i += 160) session.sendAudio(line.mulaw.subarray(i, i + 160));
    await connected;
    await streamFrames(silence(0.7), (f) => session.sendAudio(f));
    await waitFor(() => rec.finals().length === 1);
    expect(rec.finals()).toEqual([LINE_B]);
  });

  it('runs over wss: against the TLS emulator, trusting only its certificate; gpt-4o-mini-transcribe is selectable', async () => {
    const { registry, session, rec } = await setup({ model: 'gpt-4o-mini-transcribe' }, { tls: true, ttfbMs: 120 });
    expect(emulator!.baseUrl).toMatch(/^wss:/);
    const line = registry.register(await speakLine(LINE_A));
    let speechStoppedAt = 0;
    let firstResultAt = 0;
    session.on('utteranceEnd', () => (speechStoppedAt ||= performance.now()));
    session.on('transcript', () => (firstResultAt ||= performance.now()));
    await session.connect();
    await streamFrames(concat([line.mulaw, silence(0.7)]), (f, at) => session.sendAudio(f, at));
    await waitFor(() => rec.finals().length === 1);
    expect(rec.finals()).toEqual([LINE_A]);
    // VAD commits at speech_stopped; the first delta comes the emulator's time to first byte later.
    expect(firstResultAt - speechStoppedAt).toBeGreaterThanOrEqual(110);
    expect(
      (emulator!.connections[0]!.sessionUpdates[0] as { audio: { input: { transcription: { model: string } } } }).audio.input.transcription
        .model,
    ).toBe('gpt-4o-mini-transcribe');
  });

  it('asks for 24 kHz PCM when the call audio is not 8 kHz μ-law', () => {
    const service = new OpenAIRealtimeSttService({ apiKey: 'k' });
    expect(service.inputFormatFor({ encoding: 'mulaw', sampleRate: 8000 })).toEqual({ encoding: 'mulaw', sampleRate: 8000 });
    expect(service.inputFormatFor({ encoding: 'linear16', sampleRate: 16000 })).toEqual({ encoding: 'linear16', sampleRate: 24000 });
  });
});
