import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mulawEncode } from '../../src/audio/g711.ts';
import { readWav } from '../../src/audio/wav.ts';
import { CallRecorder } from '../../src/recording/call-recorder.ts';
import { deleteExpiredRecordings } from '../../src/recording/retention.ts';
import { CallStore } from '../../src/store/index.ts';
import { ManualClock } from '../../src/util/clock.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-rec-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const tone = (frames: number, amplitude = 8000) => Int16Array.from({ length: frames }, (_, i) => Math.round(amplitude * Math.sin(i / 3)));
const mulaw = { encoding: 'mulaw' as const, sampleRate: 8000 };
/** Lets the recorder's queued file writes land. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

function channelEnergy(samples: Int16Array, channel: 0 | 1, fromFrame: number, toFrame: number): number {
  let sum = 0;
  for (let f = fromFrame; f < toFrame; f++) sum += Math.abs(samples[2 * f + channel] as number);
  return sum / Math.max(1, toFrame - fromFrame);
}

describe('CallRecorder', () => {
  it('lays caller and bot audio on one clock, plays bot audio after what is queued, and cuts it at a clear', async () => {
    const clock = new ManualClock();
    const path = join(tempDir(), 'call.wav');
    const recorder = new CallRecorder({ path, clock, flushIntervalMs: 500 });
    // 1 s of caller audio, 20 ms at a time; the bot sends 600 ms at t = 100 ms (lead ahead of playback).
    for (let i = 0; i < 50; i++) {
      if (i === 5) recorder.bot(mulawEncode(tone(4800)), mulaw);
      if (i === 20) recorder.clearBot(); // t = 400 ms: the carrier drops the rest
      recorder.caller({ sampleRate: 8000, channels: 1, pcm: tone(160, 3000) });
      clock.advance(20);
    }
    const summary = await recorder.close();
    expect(summary.durationSec).toBeCloseTo(1, 2);
    expect(summary.cutSec).toBeCloseTo(0.3, 2); // sent at 100 ms, 600 ms long, cleared at 400 ms
    const wav = readWav(readFileSync(path));
    expect(wav.channels).toBe(2);
    expect(wav.samples.length / 2).toBe(8000);
    expect(channelEnergy(wav.samples, 0, 0, 8000)).toBeGreaterThan(1000);
    expect(channelEnergy(wav.samples, 1, 0, 800)).toBe(0); // before the bot spoke
    expect(channelEnergy(wav.samples, 1, 800, 3200)).toBeGreaterThan(2000); // 100–400 ms: played
    expect(channelEnergy(wav.samples, 1, 3200, 8000)).toBe(0); // cut at the clear
  });

  it('keeps a valid WAV on disk while recording (a crash loses at most the last flush interval)', async () => {
    const clock = new ManualClock();
    const path = join(tempDir(), 'live.wav');
    const recorder = new CallRecorder({ path, clock, flushIntervalMs: 500, callerLagMs: 200 });
    for (let i = 0; i < 100; i++) {
      recorder.caller({ sampleRate: 8000, channels: 1, pcm: tone(160) });
      clock.advance(20);
    }
    await settle();
    const partial = readWav(readFileSync(path)); // not closed: the header already matches the data
    expect(partial.samples.length / 2 / 8000).toBeGreaterThanOrEqual(1); // of 2 s recorded
    await recorder.close();
    expect(readWav(readFileSync(path)).samples.length / 2).toBe(16000);
  });

  it('caller audio that stops and resumes is placed at the clock, the gap silent', async () => {
    const clock = new ManualClock();
    const path = join(tempDir(), 'gap.wav');
    const recorder = new CallRecorder({ path, clock });
    recorder.caller({ sampleRate: 8000, channels: 1, pcm: tone(1600) });
    clock.advance(1000);
    recorder.caller({ sampleRate: 16000, channels: 1, pcm: tone(3200) }); // resampled to 8 kHz
    clock.advance(200);
    await recorder.close();
    const wav = readWav(readFileSync(path));
    expect(channelEnergy(wav.samples, 0, 1700, 4700)).toBe(0); // written late, within the allowed lag of the clock
    expect(channelEnergy(wav.samples, 0, 4900, 6300)).toBeGreaterThan(1000);
  });
});

describe('recording retention', () => {
  it('deletes recordings of calls that ended before the limit and says so in the record', async () => {
    const dir = tempDir();
    const store = CallStore.open({ dataDir: dir });
    try {
      const old = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+15550100001', status: 'in-progress', at: 1_000 });
      const recent = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+15550100001', status: 'in-progress', at: 1_000 });
      for (const call of [old, recent]) {
        const recorder = new CallRecorder({ path: join(dir, `${call.id}.wav`), clock: new ManualClock() });
        await recorder.close();
        store.setRecordingPath(call.id, join(dir, `${call.id}.wav`));
      }
      const day = 24 * 3600 * 1000;
      store.updateStatus(old.id, 'completed', { at: 2_000 });
      store.updateStatus(recent.id, 'completed', { at: 10 * day });
      expect(await deleteExpiredRecordings(store, 7, 10 * day)).toEqual([old.id]);
      const record = store.getCall(old.id);
      expect(record?.recordingPath).toBeNull();
      expect(record?.events.find((e) => e.type === 'recording.deleted')?.data).toMatchObject({ reason: 'retention', retentionDays: 7 });
      expect(() => readFileSync(join(dir, `${old.id}.wav`))).toThrow();
      expect(store.getCall(recent.id)?.recordingPath).toBe(join(dir, `${recent.id}.wav`));
    } finally {
      store.close();
    }
  });
});
