/**
 * baresip (a real SIP UA: its own RTP stack, jitter buffer and G.711) against the whole product over SIP: its
 * microphone is an eSpeak WAV (`aufile`), what it hears is recorded (`sndfile`). The agent runs on sandbox
 * providers; the sandbox STT recognises baresip's lines through the speech registry (the μ-law bytes survive
 * baresip's decode/encode unchanged), so the records hold real turns.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mulawDecode } from '../../../src/audio/g711.ts';
import { writeWav } from '../../../src/audio/wav.ts';
import { speechRegistry } from '../../../src/sandbox/speech-registry.ts';
import { synthesizeMulaw8k } from '../../../src/services/tts/offline/espeak-voice.ts';
import type { CallRecord } from '../../../src/store/index.ts';
import { postJson, startTestServer, waitForCallEnd } from '../../server/helpers.ts';
import { loudSegments, wavSamples, type Segment } from './peers/audio.ts';
import { Baresip } from './peers/baresip.ts';
import { freeUdpPort } from './peers/sipp.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sip-carrier-baresip-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Server = Awaited<ReturnType<typeof startTestServer>>;
let server: Server | undefined;
let baresip: Baresip | undefined;
afterEach(async () => {
  await baresip?.stop();
  await server?.close();
  baresip = undefined;
  server = undefined;
});

/** A microphone WAV: each line spoken at its offset (registered with the sandbox STT), silence elsewhere. */
async function microphone(name: string, lines: Array<{ atMs: number; text: string }>, totalMs: number) {
  const samples = new Int16Array((totalMs * 8000) / 1000);
  const spoken: Array<{ text: string; startMs: number; endMs: number }> = [];
  for (const line of lines) {
    const speech = await synthesizeMulaw8k(line.text);
    speechRegistry.register({ text: line.text, mulaw: speech.mulaw, words: speech.words });
    const pcm = mulawDecode(speech.mulaw);
    const offset = (line.atMs * 8000) / 1000;
    samples.set(pcm.subarray(0, Math.max(0, samples.length - offset)), offset);
    spoken.push({ text: line.text, startMs: line.atMs, endMs: line.atMs + (pcm.length / 8000) * 1000 });
  }
  const file = path.join(dir, name);
  await writeFile(file, writeWav({ sampleRate: 8000, channels: 1, samples }));
  return { file, spoken };
}

const duration = (segments: Segment[]) => segments.reduce((ms, s) => ms + (s.endMs - s.startMs), 0);

async function startServer() {
  const sipPort = await freeUdpPort('127.0.0.2');
  server = await startTestServer({ SIP_PORT: String(sipPort), SIP_BIND_ADDRESS: '127.0.0.2' });
  return { server, sipPort };
}

describe('SIP carrier against baresip', () => {
  it('baresip calls in with eSpeak speech: the bot greets, transcribes it and replies; baresip recorded the reply', async () => {
    const { server, sipPort } = await startServer();
    const { file, spoken } = await microphone('inbound.wav', [{ atMs: 9000, text: "Yes, I'll be there." }], 19_000);
    const answer = spoken[0] as { startMs: number; endMs: number };
    baresip = await Baresip.start(file);
    baresip.command('dial', `sip:bot@127.0.0.2:${sipPort}`);
    await baresip.waitForEvent('CALL_ESTABLISHED');
    await baresip.waitForEvent('CALL_CLOSED', 60_000); // baresip hangs up when its file ends
    const list = (await (await fetch(`${server.url}/calls`)).json()) as { calls: Array<{ id: string }> };
    expect(list.calls).toHaveLength(1);
    const record: CallRecord = await waitForCallEnd(server.url, list.calls[0]?.id as string);
    expect(record).toMatchObject({ carrier: 'sip', direction: 'inbound', status: 'completed' });
    expect(record.turns[0]).toMatchObject({ role: 'assistant' });
    expect(record.turns[0]?.text).toMatch(/^Hi/);
    const userTurn = record.turns.findIndex((t) => t.role === 'user' && /I'll be/i.test(t.text));
    expect(userTurn, JSON.stringify(record.turns)).toBeGreaterThan(0);
    expect(record.turns.slice(userTurn + 1).some((t) => t.role === 'assistant' && (t.heard ?? '').length > 0)).toBe(true);

    // baresip's recording: the greeting before it spoke, and the reply (real audio, not a blip) after.
    const { samples, sampleRate } = wavSamples(await baresip.heardWav());
    const segments = loudSegments(samples, sampleRate);
    const before = segments.filter((s) => s.startMs < answer.startMs);
    const after = segments.filter((s) => s.startMs > answer.endMs);
    expect(duration(before), JSON.stringify(segments)).toBeGreaterThan(2000);
    expect(duration(after), JSON.stringify(segments)).toBeGreaterThan(800);
  }, 120_000);

  it('we call baresip; it talks over the bot, which stops (barge-in) and the far-end recording shows the cut', async () => {
    const { server } = await startServer();
    const { file, spoken } = await microphone(
      'outbound.wav',
      [
        { atMs: 400, text: 'Hello?' },
        { atMs: 5000, text: 'Sorry, I am driving right now. Can you call me back tomorrow morning?' },
      ],
      16_000,
    );
    const interruption = spoken[1] as { startMs: number; endMs: number };
    baresip = await Baresip.start(file);
    const placed = await postJson(`${server.url}/calls`, { carrier: 'sip', to: `sip:peer@127.0.0.1:${baresip.sipPort}` });
    expect(placed.status, JSON.stringify(placed.json)).toBe(201);
    await baresip.waitForEvent('CALL_ESTABLISHED');
    await baresip.waitForEvent('CALL_CLOSED', 60_000);
    const record = await waitForCallEnd(server.url, placed.json.id as string);
    expect(record).toMatchObject({ carrier: 'sip', direction: 'outbound', status: 'completed' });
    const cut = record.turns.find((t) => t.role === 'assistant' && t.interrupted);
    expect(cut, JSON.stringify(record.turns)).toBeDefined();
    expect((cut?.heard ?? '').length).toBeLessThan((cut?.text ?? '').length);
    const clear = record.events.find((e) => e.type === 'barge-in.clear-sent');
    expect(clear, JSON.stringify(record.events.map((e) => [e.at, e.type, e.data]))).toBeDefined();

    // The server's own figure: caller speech onset → clear sent (the decision waits for words over the bot).
    expect((clear?.data as { afterOnsetMs: number }).afterOnsetMs).toBeLessThan(1500);

    // baresip's recording: its first loud stretch is the bot's first audio (it hears nothing else). Aligned on that
    // start with the record (baresip starts recording a few hundred ms after the answer), the recorded bot audio
    // stops where the record says the clear was sent.
    const { samples, sampleRate } = wavSamples(await baresip.heardWav());
    const segments = loudSegments(samples, sampleRate);
    expect(segments.length, JSON.stringify(segments)).toBeGreaterThan(0);
    const answeredAt = Date.parse(record.answeredAt as string);
    const firstBot = record.turns.find((t) => t.role === 'assistant' && t.startedAt) as { startedAt: string };
    const offsetMs = (segments[0] as Segment).startMs - (Date.parse(firstBot.startedAt) - answeredAt);
    const predictedCutMs = Date.parse(clear?.at as string) - answeredAt + offsetMs;
    const recordedCut = segments.reduce((best, s) =>
      Math.abs(s.endMs - predictedCutMs) < Math.abs(best.endMs - predictedCutMs) ? s : best,
    );
    console.info(
      `barge-in: interruption at ${interruption.startMs} ms of baresip's microphone; clear sent ${JSON.stringify(clear?.data)}; ` +
        `recording = record + ${offsetMs} ms; predicted cut at ${predictedCutMs} ms, recorded bot audio ends at ${recordedCut.endMs} ms (${JSON.stringify(segments)})`,
    );
    // The alignment is only as good as "first loud audio = the turn's start" (TTS lead-in silence, 20 ms frames):
    // a few hundred ms. The exact cut (within 40 ms of clear()) is checked at the channel in baresip.test.ts.
    expect(Math.abs(recordedCut.endMs - predictedCutMs)).toBeLessThan(300);
  }, 120_000);
});
