import { describe, expect, it } from 'vitest';
import { OfflineTtsService, type OfflineSpeech } from '../../../src/services/tts/offline.ts';
import { concat, rms, samplesOf } from './audio-checks.ts';
import { checkWordTimeline, record, sleep } from './stream-helpers.ts';

const MULAW_8K = { encoding: 'mulaw', sampleRate: 8000 } as const;

describe('OfflineTtsService', () => {
  it('streams each pushed sentence in fixed chunks with words on one utterance timeline', async () => {
    const pieces: OfflineSpeech[] = [];
    const tts = new OfflineTtsService({ chunkMs: 40, onSpeech: (speech) => pieces.push(speech) });
    await tts.connect();
    const rec = record(tts, 'u1', MULAW_8K);
    rec.stream.pushText('Good morning. ');
    rec.stream.pushText('How are you today? ');
    rec.stream.finish();
    expect((await rec.ended).type).toBe('done');

    const chunks = rec.audio();
    // 40 ms chunks except each sentence's last one.
    expect(chunks.filter((c) => c.mulaw?.length === 320).length).toBeGreaterThan(chunks.length - 3);
    const pcm = rec.pcm();
    expect(rms(pcm)).toBeGreaterThan(1000);
    const words = rec.words();
    expect(words.map((w) => w.word)).toEqual(['Good', 'morning.', 'How', 'are', 'you', 'today?']);
    checkWordTimeline(words, pcm.length / 8000);

    // The hook saw each sentence with exactly the audio that was delivered.
    expect(pieces.map((p) => p.text)).toEqual(['Good morning. ', 'How are you today? ']);
    expect(Buffer.from(concat(pieces.map((p) => samplesOf(p.audio))).buffer).equals(Buffer.from(pcm.buffer))).toBe(true);
    expect(pieces[1]?.offsetSec).toBeCloseTo(samplesOf(pieces[0]?.audio ?? { sampleRate: 8000, channels: 1 }).length / 8000, 3);
    expect((pieces[1]?.words[0]?.startSec ?? 0) + (pieces[1]?.offsetSec ?? 0)).toBeCloseTo(words[2]?.startSec ?? -1, 2);
  });

  it('paces audio at the configured speed after the configured first-audio delay', async () => {
    const tts = new OfflineTtsService({ firstAudioDelayMs: 120, realtimeFactor: 5 });
    const rec = record(tts, 'paced', MULAW_8K);
    const started = performance.now();
    rec.stream.pushText('Pacing check with a sentence of moderate length. ');
    rec.stream.finish();
    await rec.ended;
    const elapsed = performance.now() - started;
    const audioSec = rec.pcm().length / 8000;
    expect((rec.firstAudioAt ?? 0) - started).toBeGreaterThanOrEqual(115);
    expect(elapsed).toBeGreaterThan(((audioSec * 1000) / 5) * 0.8);
    expect(elapsed).toBeLessThan(120 + ((audioSec * 1000) / 5) * 1.6 + 200);
  });

  it('cancel stops the stream; finishing with no text ends at once; a bad voice is an error', async () => {
    const tts = new OfflineTtsService({ realtimeFactor: 3 });
    const rec = record(tts, 'cut', MULAW_8K);
    rec.stream.pushText('A long sentence that will be cut off before it ends, believe me. ');
    while (rec.firstAudioAt === undefined) await sleep(5);
    rec.stream.cancel();
    const count = rec.events.length;
    await sleep(150);
    expect(rec.events.length).toBe(count);

    const empty = record(tts, 'empty', MULAW_8K);
    empty.stream.finish();
    expect((await empty.ended).type).toBe('done');

    const bad = record(new OfflineTtsService({ voice: 'zz-nope' }), 'bad', MULAW_8K);
    bad.stream.pushText('Hello. ');
    expect((await bad.ended).type).toBe('error');
    expect(bad.error()).toMatchObject({ provider: 'offline', code: 'synthesis_failed' });
    await tts.close();
  });
});
