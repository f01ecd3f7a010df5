import { describe, expect, it } from 'vitest';
import type { Frame, FrameOf, FrameType } from '../../../src/pipeline/frames.ts';
import { makeFrame } from '../../../src/pipeline/frames.ts';
import { PipelineTask, type PipelineError } from '../../../src/pipeline/task.ts';
import { OfflineTtsService, type OfflineTtsOptions } from '../../../src/services/tts/offline.ts';
import { TtsError, type TtsService } from '../../../src/services/tts/tts-service.ts';
import { TtsProcessor, type TtsProcessorOptions } from '../../../src/services/tts/tts-processor.ts';
import { concat, rms, samplesOf, voicedFraction } from './audio-checks.ts';
import { ScriptedTtsService } from './scripted-tts-service.ts';

function harness(service: TtsService, options: Partial<TtsProcessorOptions> = {}, audioOutSampleRate = 8000) {
  const out: Frame[] = [];
  const errors: PipelineError[] = [];
  const processor = new TtsProcessor({ service, ...options });
  const task = new PipelineTask([processor], {
    callId: 'call-1',
    audioOutSampleRate,
    onOutput: (frame) => out.push(frame),
    onError: (error) => errors.push(error),
  });
  const done = task.run();
  const of = <K extends FrameType>(type: K) => out.filter((f) => f.type === type) as unknown as Array<FrameOf<K>>;
  return { task, done, out, errors, processor, of };
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Streams `text` as an LLM response in small tokens. */
function respond(task: PipelineTask, responseId: string, text: string): void {
  task.queueFrame(makeFrame('llm.response.start', { responseId }));
  for (let i = 0; i < text.length; i += 4) task.queueFrame(makeFrame('llm.text', { text: text.slice(i, i + 4) }));
  task.queueFrame(makeFrame('llm.response.end', { responseId }));
}

const offline = (options: OfflineTtsOptions = {}) => new OfflineTtsService({ chunkMs: 40, ...options });

describe('TtsProcessor with the offline voice', () => {
  it('speaks an LLM response: started, audio, timed words, stopped — in order, as 8 kHz μ-law', async () => {
    const { task, done, out, of, errors } = harness(offline());
    respond(task, 'r1', 'Hello there. Your total is $42.50 today.');
    await waitFor(() => of('tts.stopped').length === 1);
    task.end();
    await done;
    expect(errors).toEqual([]);

    const mine = out.filter((f) => 'utteranceId' in f || 'responseId' in f || f.type === 'llm.text');
    const kinds = mine.map((f) => f.type);
    expect(kinds[0]).toBe('llm.response.start');
    const started = kinds.indexOf('tts.started');
    const stopped = kinds.indexOf('tts.stopped');
    expect(started).toBeGreaterThan(0);
    expect(stopped).toBe(kinds.length - 1);
    const audioIdx = kinds.flatMap((k, i) => (k === 'tts.audio' ? [i] : []));
    expect(audioIdx.length).toBeGreaterThan(10);
    expect(Math.min(...audioIdx)).toBeGreaterThan(started);
    expect(Math.max(...audioIdx)).toBeLessThan(stopped);
    expect(kinds.indexOf('llm.response.end')).toBeGreaterThan(0);

    const audio = of('tts.audio');
    for (const frame of audio) {
      expect(frame.utteranceId).toBe('r1');
      expect(frame.audio.sampleRate).toBe(8000);
      expect(frame.audio.mulaw).toBeInstanceOf(Uint8Array);
    }
    const pcm = concat(audio.map((f) => samplesOf(f.audio)));
    expect(rms(pcm)).toBeGreaterThan(1000);
    expect(voicedFraction(pcm, 8000)).toBeGreaterThan(0.4);

    // Words are the normalised text, in order, monotonic, within the utterance's audio.
    const words = of('tts.text');
    expect(words.map((w) => w.text)).toEqual('Hello there. Your total is forty-two dollars and fifty cents today.'.split(' '));
    const durationSec = pcm.length / 8000;
    let last = 0;
    for (const w of words) {
      expect(w.startSec).toBeGreaterThanOrEqual(last - 1e-9);
      expect(w.endSec).toBeGreaterThan(w.startSec ?? Infinity);
      expect(w.endSec).toBeLessThanOrEqual(durationSec + 1e-6);
      last = w.endSec ?? 0;
    }
    // The second sentence's words come after the first sentence's audio.
    expect(words[2]?.startSec).toBeGreaterThan(words[1]?.endSec ?? Infinity);

    const metrics = of('metrics').flatMap((m) => m.data);
    const ttfb = metrics.find((m) => m.kind === 'ttfb');
    expect(ttfb).toMatchObject({ kind: 'ttfb', processor: 'TtsProcessor' });
    expect(metrics).toContainEqual({
      kind: 'tts-usage',
      processor: 'TtsProcessor',
      characters: 'Hello there.'.length + 'Your total is forty-two dollars and fifty cents today.'.length,
    });
  });

  it('follows the start frame: 16-bit PCM at 16 kHz', async () => {
    const { task, done, of } = harness(offline(), {}, 16000);
    task.queueFrame(makeFrame('tts.speak', { text: 'Sixteen kilohertz.', utteranceId: 'u16' }));
    await waitFor(() => of('tts.stopped').length === 1);
    task.end();
    await done;
    const audio = of('tts.audio');
    expect(audio.every((f) => f.audio.sampleRate === 16000 && f.audio.pcm !== undefined && !f.audio.mulaw)).toBe(true);
    expect(rms(concat(audio.map((f) => samplesOf(f.audio))))).toBeGreaterThan(1000);
  });

  it('plays utterances one after another and keeps other frames in place relative to the audio', async () => {
    const { task, done, out } = harness(offline({ realtimeFactor: 20 }));
    task.queueFrame(makeFrame('tts.speak', { text: 'First line is here.', utteranceId: 'a' }));
    task.queueFrame(makeFrame('dtmf.out', { digits: '1' }));
    task.queueFrame(makeFrame('tts.speak', { text: 'Second line.', utteranceId: 'b' }));
    task.queueFrame(makeFrame('transport.message', { message: 'after b' }));
    task.end();
    await done;
    const sequence = out
      .filter((f) => ['tts.started', 'tts.stopped', 'dtmf.out', 'transport.message', 'tts.audio', 'end'].includes(f.type))
      .map((f) => (f.type === 'tts.audio' ? `audio:${f.utteranceId}` : 'utteranceId' in f ? `${f.type}:${f.utteranceId}` : f.type));
    const compact = sequence.filter((s, i) => s !== sequence[i - 1]);
    expect(compact).toEqual([
      'tts.started:a',
      'audio:a',
      'tts.stopped:a',
      'dtmf.out',
      'tts.started:b',
      'audio:b',
      'tts.stopped:b',
      'transport.message',
      'end',
    ]);
  });

  it('passes frames straight through when nothing is speaking', async () => {
    const { task, done, out } = harness(offline());
    task.queueFrame(makeFrame('dtmf.out', { digits: '9' }));
    task.queueFrame(makeFrame('transcription', { text: 'hi', final: true }));
    await waitFor(() => out.length >= 3);
    expect(out.map((f) => f.type)).toEqual(['start', 'dtmf.out', 'transcription']);
    task.end();
    await done;
  });

  it('interruption stops the utterance at once; the next utterance plays normally', async () => {
    const service = offline({ realtimeFactor: 4 });
    const { task, done, out, of } = harness(service);
    respond(task, 'long', 'This is a long answer that keeps going. It has several sentences. Nobody will hear the end of it.');
    await waitFor(() => of('tts.audio').length >= 3);
    task.queueFrame(makeFrame('interruption', { reason: 'barge-in' }));
    const cut = out.findIndex((f) => f.type === 'interruption');
    expect(cut).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const after = out.slice(cut + 1);
    expect(after.filter((f) => 'utteranceId' in f && f.utteranceId === 'long')).toEqual([]);
    const heardSec = of('tts.audio').reduce((sum, f) => sum + samplesOf(f.audio).length / 8000, 0);
    expect(heardSec).toBeLessThan(2); // the whole answer is ~7 s

    task.queueFrame(makeFrame('tts.speak', { text: 'Sure, go ahead.', utteranceId: 'next' }));
    await waitFor(() => of('tts.stopped').some((f) => f.utteranceId === 'next'));
    const next = of('tts.audio').filter((f) => f.utteranceId === 'next');
    expect(rms(concat(next.map((f) => samplesOf(f.audio))))).toBeGreaterThan(1000);
    expect(of('tts.stopped').map((f) => f.utteranceId)).toEqual(['next']);
    task.end();
    await done;
  });

  it('end waits for the last audio before ending', async () => {
    const { task, done, out } = harness(offline({ realtimeFactor: 10, firstAudioDelayMs: 50 }));
    respond(task, 'bye', 'Thanks for calling, goodbye!');
    task.end('hangup');
    expect(await done).toEqual({ kind: 'ended', reason: 'hangup' });
    const types = out.map((f) => f.type).filter((t) => t !== 'metrics');
    expect(types.filter((t) => t === 'tts.audio').length).toBeGreaterThan(5);
    expect(types.indexOf('tts.stopped')).toBe(types.length - 2);
    expect(types[types.length - 1]).toBe('end');
  });
});

describe('TtsProcessor with a scripted provider', () => {
  it('sends whole sentences to one stream per response and finishes it at the end', async () => {
    const service = new ScriptedTtsService();
    const { task, done } = harness(service, { normalize: null });
    respond(task, 'r1', 'Hi. Dr. Who is here at 3.30 today! Bye');
    await waitFor(() => service.streams[0]?.finished === true);
    expect(service.streams).toHaveLength(1);
    expect(service.streams[0]?.utteranceId).toBe('r1');
    expect(service.streams[0]?.texts).toEqual(['Hi. ', 'Dr. Who is here at 3.30 today! ', 'Bye ']);
    service.streams[0]?.done();
    task.end();
    await done;
    expect(service.connects).toBe(1);
    expect(service.closes).toBe(1);
  });

  it('a provider error becomes a non-fatal error frame with its code; the next utterance works', async () => {
    const service = new ScriptedTtsService();
    const { task, done, of, errors } = harness(service);
    task.queueFrame(makeFrame('tts.speak', { text: 'This will fail.', utteranceId: 'bad' }));
    task.queueFrame(makeFrame('tts.speak', { text: 'This will work.', utteranceId: 'good' }));
    await waitFor(() => service.streams.length === 2);
    const [bad, good] = service.streams;
    good?.audio();
    bad?.audio();
    bad?.error(new TtsError('Invalid voice', { provider: 'scripted', code: 'voice_not_found', status: 404, utteranceId: 'bad' }));
    good?.words([{ word: 'This', startSec: 0, endSec: 0.2 }]);
    good?.done();
    task.end();
    await done;
    expect(errors).toHaveLength(1);
    expect(errors[0]?.fatal).toBe(false);
    expect((errors[0]?.cause as TtsError).code).toBe('voice_not_found');
    expect(of('tts.stopped').map((f) => f.utteranceId)).toEqual(['bad', 'good']);
    expect(of('tts.audio').map((f) => f.utteranceId)).toEqual(['bad', 'good']);
    expect(of('tts.text').map((f) => f.utteranceId)).toEqual(['good']);
  });

  it('a provider that goes silent times out and does not block later utterances', async () => {
    const service = new ScriptedTtsService();
    const { task, done, of, errors } = harness(service, { stallTimeoutMs: 80 });
    task.queueFrame(makeFrame('tts.speak', { text: 'Nothing comes back.', utteranceId: 'silent' }));
    task.queueFrame(makeFrame('tts.speak', { text: 'Second.', utteranceId: 'second' }));
    await waitFor(() => service.streams.length === 2);
    service.streams[1]?.audio();
    service.streams[1]?.done();
    await waitFor(() => of('tts.stopped').length === 2, 2000);
    expect((errors[0]?.cause as TtsError).code).toBe('timeout');
    expect(service.streams[0]?.cancelled).toBe(true);
    expect(of('tts.stopped').map((f) => f.utteranceId)).toEqual(['silent', 'second']);
    task.end();
    await done;
  });

  it('end gives up after endTimeoutMs and cancels the stream', async () => {
    const service = new ScriptedTtsService();
    const { task, done, out } = harness(service, { endTimeoutMs: 60, stallTimeoutMs: 10_000 });
    task.queueFrame(makeFrame('tts.speak', { text: 'Never finishes.', utteranceId: 'stuck' }));
    task.queueFrame(makeFrame('dtmf.out', { digits: '5' }));
    const t0 = Date.now();
    task.end();
    expect((await done).kind).toBe('ended');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(service.streams[0]?.cancelled).toBe(true);
    expect(out.map((f) => f.type).slice(-2)).toEqual(['dtmf.out', 'end']);
  });

  it('interruption cancels every queued utterance and releases uninterruptible held frames', async () => {
    const service = new ScriptedTtsService();
    const { task, done, of, out } = harness(service);
    task.queueFrame(makeFrame('tts.speak', { text: 'One.', utteranceId: 'one' }));
    task.queueFrame(makeFrame('dtmf.out', { digits: '1' }));
    respond(task, 'two', 'Two is streaming');
    await waitFor(() => service.streams.length === 2);
    service.streams[0]?.audio();
    task.queueFrame(makeFrame('interruption', { reason: 'barge-in' }));
    await waitFor(() => out.some((f) => f.type === 'interruption'));
    expect(service.streams.map((s) => s.cancelled)).toEqual([true, true]);
    // Late provider events for cancelled utterances are ignored.
    service.streams[1]?.audio();
    service.streams[0]?.done();
    expect(of('tts.audio').map((f) => f.utteranceId)).toEqual(['one']);
    expect(of('dtmf.out')).toEqual([]); // interruptible: dropped with the audio it waited for
    expect(of('tts.stopped')).toEqual([]);
    task.end();
    await done;
  });

  it('ignores empty replies and late text for a cancelled response', async () => {
    const service = new ScriptedTtsService();
    const { task, done, of } = harness(service);
    task.queueFrame(makeFrame('llm.response.start', { responseId: 'empty' }));
    task.queueFrame(makeFrame('llm.text', { text: '   ' }));
    task.queueFrame(makeFrame('llm.response.end', { responseId: 'empty' }));
    task.queueFrame(makeFrame('tts.speak', { text: '🙂' }));
    task.end();
    await done;
    expect(service.streams).toEqual([]);
    expect(of('tts.started')).toEqual([]);
    expect(of('llm.response.end')).toHaveLength(1);
    expect(of('tts.speak').map((f) => f.utteranceId)).toEqual(['call-1-tts1']);
  });
});
