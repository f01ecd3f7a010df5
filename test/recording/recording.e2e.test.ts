/**
 * Call recordings end to end: a sandbox call placed with `record: true` through `POST /calls`, its WAV fetched
 * through `GET /calls/:id/recording` (with Range), and checked against the call's own record: two channels of
 * the call's length, the bot's channel sounding exactly where the record says the bot was heard, and silent
 * within 40 ms of a barge-in clear.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav } from '../../src/audio/wav.ts';
import type { RunningSwitchboard } from '../../src/server/start.ts';
import type { CallRecord, CallTurn } from '../../src/store/index.ts';
import { postJson, startTestServer, waitForCallEnd } from '../server/helpers.ts';

let server: RunningSwitchboard;

beforeAll(async () => {
  server = await startTestServer({ SWITCHBOARD_API_KEY: 'test-key' });
});

afterAll(async () => {
  await server?.close();
}, 60_000);

const auth = { authorization: 'Bearer test-key' };

/** RMS (dBFS) of one channel of an interleaved stereo signal over [fromSec, toSec). */
function levelDb(samples: Int16Array, channel: 0 | 1, fromSec: number, toSec: number): number {
  const from = Math.max(0, Math.floor(fromSec * 8000));
  const to = Math.min(samples.length / 2, Math.ceil(toSec * 8000));
  if (to <= from) return -Infinity;
  let sum = 0;
  for (let f = from; f < to; f++) {
    const v = (samples[2 * f + channel] as number) / 32768;
    sum += v * v;
  }
  return 10 * Math.log10(sum / (to - from) || 1e-12);
}

/** Fraction of 20 ms windows in [fromSec, toSec) whose bot channel is audible (above -50 dBFS). */
function voicedFraction(samples: Int16Array, fromSec: number, toSec: number): number {
  let windows = 0;
  let voiced = 0;
  for (let t = fromSec; t + 0.02 <= toSec; t += 0.02) {
    windows++;
    if (levelDb(samples, 1, t, t + 0.02) > -50) voiced++;
  }
  return windows === 0 ? 0 : voiced / windows;
}

async function placeRecordedCall(to: string, record: boolean): Promise<CallRecord> {
  const placed = await postJson(`${server.url}/calls`, { to, carrier: 'twilio', record }, auth);
  expect(placed.status).toBe(201);
  const id = placed.json.id as string;
  await waitForCallEnd(server.url, id, 80_000, auth);
  // The carrier may report the end before the media has finished: the record is complete once the media ended.
  for (;;) {
    const record = (await (await fetch(`${server.url}/calls/${id}`, { headers: auth })).json()) as CallRecord;
    if (record.events.some((e) => e.type === 'media.ended')) return record;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.concurrent('call recordings', () => {
  it(
    'a call with record:true is a stereo WAV of its length; the bot channel sounds where the record says the bot was heard and stops within 40 ms of a barge-in clear',
    { timeout: 120_000 },
    async () => {
      const record = await placeRecordedCall('+15550100002', true); // the callee interrupts the bot's first long sentence
      expect(record.status).toBe('completed');
      expect(record.recordingPath).toMatch(/\.wav$/);
      const response = await fetch(`${server.url}/calls/${record.id}/recording`, { headers: auth });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('audio/wav');
      expect(response.headers.get('accept-ranges')).toBe('bytes');
      const wav = readWav(new Uint8Array(await response.arrayBuffer()));
      expect(wav.channels).toBe(2);
      expect(wav.sampleRate).toBe(8000);
      const seconds = wav.samples.length / 2 / 8000;
      const saved = record.events.find((e) => e.type === 'recording.saved')?.data as { durationSec: number };
      expect(saved.durationSec).toBeCloseTo(seconds, 1);
      // The call's duration from its answer to the end of its media, on our clock (the carrier's end time and
      // durationSec are whole seconds: Twilio's callback timestamps have no milliseconds).
      const mediaEndedAt = record.events.find((e) => e.type === 'media.ended')?.at as string;
      const callSeconds = (Date.parse(mediaEndedAt) - Date.parse(record.answeredAt as string)) / 1000;
      expect(Math.abs(seconds - callSeconds), `recording ${seconds} s, call ${callSeconds} s`).toBeLessThanOrEqual(0.2);

      const bot = record.turns.filter((t) => t.role === 'assistant');
      expect(bot.length).toBeGreaterThanOrEqual(2);
      // Where the record says the bot was heard, its channel carries speech; between its turns it is silent.
      for (const turn of bot) {
        expect(turn.recordingOffsetMs).toBeTypeOf('number');
        const start = (turn.recordingOffsetMs as number) / 1000;
        const end = (turn.recordingEndMs as number) / 1000;
        expect(end).toBeGreaterThan(start);
        expect(levelDb(wav.samples, 1, start, end)).toBeGreaterThan(-40);
        expect(voicedFraction(wav.samples, start, end)).toBeGreaterThan(0.3); // speech, with its pauses
        expect(levelDb(wav.samples, 1, start, start + 0.15)).toBeGreaterThan(-50); // sounding from the start
      }
      const spans = bot.map((t) => [(t.recordingOffsetMs as number) / 1000, (t.recordingEndMs as number) / 1000] as const);
      for (let t = 0; t + 0.1 <= seconds; t += 0.1) {
        const inside = spans.some(([s, e]) => t + 0.1 > s - 0.05 && t < e + 0.05);
        if (!inside) expect(levelDb(wav.samples, 1, t, t + 0.1), `bot channel at ${t.toFixed(1)} s`).toBeLessThan(-60);
      }
      // The interrupted reply: sound up to the clear, silence from 40 ms after it.
      const cut = bot.find((t) => t.interrupted) as CallTurn;
      expect(cut).toBeDefined();
      const clearAt = (cut.recordingEndMs as number) / 1000;
      expect(levelDb(wav.samples, 1, clearAt - 0.3, clearAt)).toBeGreaterThan(-40);
      const next = spans.find(([s]) => s > clearAt)?.[0] ?? seconds;
      expect(next - clearAt).toBeGreaterThan(0.1);
      expect(levelDb(wav.samples, 1, clearAt + 0.04, next - 0.02)).toBeLessThan(-60);
      // The caller's channel has the caller: their turns are audible on the left.
      const caller = record.turns.filter((t) => t.role === 'user' && t.recordingOffsetMs !== undefined);
      expect(caller.length).toBeGreaterThan(0);
      for (const turn of caller) {
        expect(
          levelDb(wav.samples, 0, (turn.recordingOffsetMs as number) / 1000 - 1.5, (turn.recordingEndMs as number) / 1000),
        ).toBeGreaterThan(-40);
      }
    },
  );

  it('serves byte ranges, refuses without the API key, and a call without record:true has no recording', { timeout: 120_000 }, async () => {
    const record = await placeRecordedCall('+15550100001', true);
    const url = `${server.url}/calls/${record.id}/recording`;
    const whole = Buffer.from(await (await fetch(url, { headers: auth })).arrayBuffer());
    const partial = await fetch(url, { headers: { ...auth, range: 'bytes=44-1043' } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe(`bytes 44-1043/${whole.length}`);
    expect(Buffer.from(await partial.arrayBuffer()).equals(whole.subarray(44, 1044))).toBe(true);
    const tail = await fetch(url, { headers: { ...auth, range: 'bytes=-100' } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(whole.subarray(whole.length - 100))).toBe(true);
    expect((await fetch(url, { headers: { ...auth, range: `bytes=${whole.length}-` } })).status).toBe(416);
    expect((await fetch(url)).status).toBe(401);

    const plain = await placeRecordedCall('+15550100001', false);
    expect(plain.recordingPath).toBeNull();
    expect((await fetch(`${server.url}/calls/${plain.id}/recording`, { headers: auth })).status).toBe(404);
  });
});
