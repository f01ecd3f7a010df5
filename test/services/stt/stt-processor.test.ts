import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Frame, FrameOf } from '../../../src/pipeline/index.ts';
import { makeFrame, PipelineError, PipelineTask } from '../../../src/pipeline/index.ts';
import { startDeepgramEmulator, type DeepgramEmulator } from '../../../src/sandbox/providers/deepgram-emulator.ts';
import { SpeechRegistry, type SpeechLineInput } from '../../../src/sandbox/speech-registry.ts';
import { DeepgramSttService, type DeepgramSttOptions } from '../../../src/services/stt/deepgram.ts';
import { SttProcessor } from '../../../src/services/stt/stt-processor.ts';
import type { SttCloseResult, SttInputFormat, SttService, SttSession } from '../../../src/services/stt/stt-service.ts';
import { SttEvents } from '../../../src/services/stt/stt-service.ts';
import { concat, silence, sleep, speakLine } from './speech-fixture.ts';

const TEXT = 'Can you call me back after lunch?';
let spoken: SpeechLineInput;
let emulator: DeepgramEmulator | undefined;

beforeAll(async () => {
  spoken = await speakLine(TEXT);
});

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function setup(options: DeepgramSttOptions = {}, emulatorKey?: string) {
  const registry = new SpeechRegistry();
  const line = registry.register(spoken);
  emulator = await startDeepgramEmulator({ registry, ...(emulatorKey ? { apiKey: emulatorKey } : {}) });
  const service = new DeepgramSttService({ apiKey: 'key', baseUrl: emulator.url, ...options });
  const out: Frame[] = [];
  const errors: PipelineError[] = [];
  const task = new PipelineTask([new SttProcessor({ service, endTimeoutMs: 2000 })], {
    callId: 'call-42',
    onOutput: (f) => out.push(f),
    onError: (e) => errors.push(e),
  });
  return { line, task, out, errors };
}

const audioFrame = (bytes: Uint8Array) => makeFrame('audio.in', { audio: { sampleRate: 8000, channels: 1, mulaw: bytes.slice() } });

/** Injects `audio` as 20 ms audio.in frames at ~10× real time. Returns the frames sent. */
async function play(task: PipelineTask, audio: Uint8Array): Promise<FrameOf<'audio.in'>[]> {
  const frames: FrameOf<'audio.in'>[] = [];
  for (let i = 0; i < audio.length; i += 160) {
    const frame = audioFrame(audio.subarray(i, i + 160));
    frames.push(frame);
    task.queueFrame(frame);
    if (frames.length % 5 === 0) await sleep(10);
  }
  return frames;
}

const ofType = <K extends Frame['type']>(frames: Frame[], type: K): FrameOf<K>[] =>
  frames.filter((f) => f.type === type) as unknown as FrameOf<K>[];

async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > until) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('SttProcessor in a pipeline (Deepgram emulator)', () => {
  it('forwards start at once, audio unchanged, and emits interim then final transcriptions and provider VAD frames', async () => {
    const { line, task, out, errors } = await setup();
    const done = task.run();
    // start is not held back for the connection
    expect(out.map((f) => f.type)).toEqual(['start']);
    expect(emulator!.connections).toHaveLength(0);

    const sent = await play(task, concat([silence(0.4), line.mulaw, silence(1.3)]));
    await waitFor(() => ofType(out, 'stt.utterance.end').length === 1);
    // Our turn decision comes after the provider's endpoint final: TTFB is reported at once, from `atMs`.
    task.queueFrame(makeFrame('user.speech.stopped', { atSec: 0, atMs: performance.now() - 1000 }));
    const ttfb = ofType(out, 'metrics')
      .flatMap((m) => m.data)
      .find((d) => d.kind === 'ttfb') as { valueMs: number };
    expect(ttfb.valueMs).toBeGreaterThan(0);
    expect(ttfb.valueMs).toBeLessThan(1000);
    task.end('hangup');
    expect(await done).toEqual({ kind: 'ended', reason: 'hangup' });

    const audioOut = ofType(out, 'audio.in');
    expect(audioOut).toHaveLength(sent.length);
    expect(audioOut.every((f, i) => f === sent[i])).toBe(true);

    const transcriptions = ofType(out, 'transcription');
    const finals = transcriptions.filter((t) => t.final);
    expect(finals.map((t) => t.text)).toEqual([TEXT]);
    expect(finals[0]).toMatchObject({ speechFinal: true, confidence: expect.any(Number) });
    const firstFinal = transcriptions.indexOf(finals[0]!);
    expect(firstFinal).toBeGreaterThan(0);
    expect(transcriptions.slice(0, firstFinal).every((t) => !t.final && TEXT.startsWith(t.text))).toBe(true);
    expect(transcriptions.every((t) => t.text !== '')).toBe(true);

    const started = ofType(out, 'stt.speech.started');
    expect(started).toHaveLength(1);
    expect(started[0]!.atSec).toBeCloseTo(0.4, 1);
    expect(ofType(out, 'stt.utterance.end')[0]!.lastWordEndSec).toBeCloseTo(0.4 + line.words.at(-1)!.endSec, 2);
    const usage = ofType(out, 'metrics')
      .flatMap((m) => m.data)
      .find((d) => d.kind === 'stt-usage');
    expect(usage).toMatchObject({ processor: 'SttProcessor' });
    expect((usage as { audioSec: number }).audioSec).toBeCloseTo(sent.length * 0.02, 2);
    expect(errors).toEqual([]);
  });

  it('user.speech.stopped finalises at once and reports TTFB; end waits for the final before travelling on', async () => {
    const { line, task, out } = await setup({ endpointingMs: 5000 });
    const done = task.run();
    await play(task, concat([silence(0.2), line.mulaw, silence(0.2)]));
    await sleep(30);
    expect(ofType(out, 'transcription').filter((t) => t.final)).toEqual([]);
    task.queueFrame(makeFrame('user.speech.stopped', { atSec: 0.2 + line.durationSec, atMs: performance.now() }));
    await waitFor(() => ofType(out, 'transcription').some((t) => t.final));
    const final = ofType(out, 'transcription').find((t) => t.final)!;
    expect(final).toMatchObject({ text: TEXT, speechFinal: true });
    const ttfb = ofType(out, 'metrics')
      .flatMap((m) => m.data)
      .find((d) => d.kind === 'ttfb');
    expect(ttfb).toMatchObject({ kind: 'ttfb', processor: 'SttProcessor' });
    expect((ttfb as { valueMs: number }).valueMs).toBeLessThan(500);

    // A second utterance with no trailing silence: only the graceful end (CloseStream) can produce its final.
    await play(task, line.mulaw);
    task.end('bye');
    await done;
    const types = out.map((f) => f.type);
    const finals = ofType(out, 'transcription').filter((t) => t.final);
    expect(finals.map((t) => t.text)).toEqual([TEXT, TEXT]);
    expect(types.lastIndexOf('transcription')).toBeLessThan(types.indexOf('end'));
    expect(emulator!.connections[0]!.closeStreams).toBe(1);
  });

  it('stt.mute stops sending audio (KeepAlive instead) and keeps provider times on the call timeline', async () => {
    const { line, task, out } = await setup({ keepAliveIntervalMs: 100 });
    const done = task.run();
    task.queueFrame(makeFrame('stt.mute', { muted: true }));
    await play(task, silence(1)); // 1 s of call audio the provider never gets
    await sleep(150);
    task.queueFrame(makeFrame('stt.mute', { muted: false }));
    await play(task, concat([silence(0.3), line.mulaw, silence(1.3)]));
    await waitFor(() => ofType(out, 'stt.utterance.end').length === 1);
    task.end();
    await done;
    const conn = emulator!.connections[0]!;
    expect(conn.audioBytes).toBe(silence(0.3).length + line.mulaw.length + silence(1.3).length);
    expect(conn.keepAlives).toBeGreaterThanOrEqual(1);
    expect(ofType(out, 'stt.speech.started')[0]!.atSec).toBeCloseTo(1.3, 1);
    expect(ofType(out, 'stt.utterance.end')[0]!.lastWordEndSec).toBeCloseTo(1.3 + line.words.at(-1)!.endSec, 2);
    expect(ofType(out, 'stt.mute')).toHaveLength(2);
  });

  it('a rejected key is a fatal error with the call id and status: the task is cancelled', async () => {
    const { task, errors } = await setup({}, 'another-key');
    const outcome = await task.run();
    expect(outcome.kind).toBe('cancelled');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(PipelineError);
    expect(errors[0]!.fatal).toBe(true);
    expect(errors[0]!.message).toContain('call-42');
    expect(errors[0]!.message).toContain('HTTP 401');
  });

  it('cancel closes the provider socket at once', async () => {
    const { task } = await setup();
    const done = task.run();
    await play(task, silence(0.2));
    await waitFor(() => emulator!.openConnections === 1);
    task.cancel('hangup');
    expect((await done).kind).toBe('cancelled');
    await waitFor(() => emulator!.openConnections === 0, 500);
    expect(emulator!.connections[0]!.closeStreams).toBe(0);
  });
});

/** Records what a session receives; lets the processor's conversion path be checked without a provider. */
class RecordingService implements SttService {
  readonly provider = 'recording';
  readonly chunks: Array<{ bytes: Uint8Array; raw: Uint8Array; atSec: number | undefined }> = [];
  input: SttInputFormat | undefined;

  constructor(private readonly accepts: (source: SttInputFormat) => SttInputFormat) {}

  inputFormatFor(source: SttInputFormat): SttInputFormat {
    return this.accepts(source);
  }

  createSession(options: { callId: string; input: SttInputFormat }): SttSession {
    this.input = options.input;
    const events = new SttEvents();
    return {
      callId: options.callId,
      input: options.input,
      connect: async () => {},
      sendAudio: (bytes, atSec) => this.chunks.push({ bytes: bytes.slice(), raw: bytes, atSec }),
      finalize: () => {},
      keepAlive: () => {},
      close: async (): Promise<SttCloseResult> => ({ audioSec: 0, flushed: true }),
      abort: () => {},
      on: (event, listener) => events.on(event, listener),
    };
  }
}

describe('SttProcessor audio conversion', () => {
  it('passes μ-law through untouched when the provider takes it (same bytes object, no copy)', async () => {
    const service = new RecordingService((s) => s);
    const task = new PipelineTask([new SttProcessor({ service })], { callId: 'c' });
    const done = task.run();
    const frame = audioFrame(new Uint8Array(160).fill(0x55));
    task.queueFrame(frame);
    task.end();
    await done;
    expect(service.input).toEqual({ encoding: 'mulaw', sampleRate: 8000 });
    expect(service.chunks).toHaveLength(1);
    expect(service.chunks[0]!.raw).toBe(frame.audio.mulaw);
    expect(service.chunks[0]!.atSec).toBe(0);
  });

  it('converts only when the provider cannot take the call audio: 16 kHz PCM → 8 kHz μ-law', async () => {
    const service = new RecordingService(() => ({ encoding: 'mulaw', sampleRate: 8000 }));
    const task = new PipelineTask([new SttProcessor({ service })], { callId: 'c', audioInSampleRate: 16000 });
    const done = task.run();
    const tone = new Int16Array(320).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)));
    for (let i = 0; i < 10; i++) {
      task.queueFrame(makeFrame('audio.in', { audio: { sampleRate: 16000, channels: 1, pcm: tone } }));
    }
    task.end();
    await done;
    const total = service.chunks.reduce((n, c) => n + c.bytes.length, 0);
    expect(Math.abs(total - 10 * 160)).toBeLessThanOrEqual(40); // resampler delay
    expect(service.chunks.map((c) => c.atSec)).toEqual(Array.from({ length: 10 }, (_, i) => expect.closeTo(i * 0.02, 6)));
    // μ-law of a 8000-amplitude tone: no byte is the silence code for long
    expect(service.chunks.at(-1)!.bytes.some((b) => b !== 0xff)).toBe(true);
  });

  it('sends 16 kHz PCM as linear16 bytes when the provider takes it', async () => {
    const service = new RecordingService((s) => s);
    const task = new PipelineTask([new SttProcessor({ service })], { callId: 'c', audioInSampleRate: 16000 });
    const done = task.run();
    const pcm = new Int16Array([1, -2, 300, -32768]);
    task.queueFrame(makeFrame('audio.in', { audio: { sampleRate: 16000, channels: 1, pcm } }));
    task.end();
    await done;
    expect(service.input).toEqual({ encoding: 'linear16', sampleRate: 16000 });
    expect(Array.from(service.chunks[0]!.bytes)).toEqual([1, 0, 0xfe, 0xff, 0x2c, 0x01, 0x00, 0x80]);
  });
});
