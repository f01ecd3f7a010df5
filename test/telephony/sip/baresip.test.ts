/**
 * baresip (a real SIP UA with its own RTP stack and jitter buffer) against our endpoint, both directions,
 * with real audio: its eSpeak microphone reaches our channel, our audio lands in its recording, and a
 * `clear()` (barge-in) stops our audio on the wire within 40 ms.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import type { SipEndpoint } from '../../../src/telephony/sip/index.ts';
import type { RtpChannel } from '../../../src/transports/rtp/rtp-channel.ts';
import { concatMulaw, loudSegments, toneMulaw, wavSamples, writeSpeechWav } from './peers/audio.ts';
import { Baresip } from './peers/baresip.ts';
import { startTestEndpoint, waitFor } from './peers/endpoint.ts';

let dir = '';
let mic = '';
let speechMs = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sip-baresip-'));
  mic = path.join(dir, 'mic.wav');
  ({ speechMs } = await writeSpeechWav(mic, 'Hello, this is baresip calling. Can you hear me?', { leadMs: 400, tailMs: 5000 }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let endpoint: SipEndpoint | undefined;
let baresip: Baresip | undefined;
afterEach(async () => {
  await baresip?.stop();
  await endpoint?.close();
  baresip = undefined;
  endpoint = undefined;
});

/** Records what the channel delivers (μ-law frames) and when marks are acknowledged. */
function listen(channel: RtpChannel) {
  const heard: Uint8Array[] = [];
  const marks: Array<{ name: string; at: number }> = [];
  const state = { clears: 0 };
  channel.setHandler({
    audio: (audio) => heard.push(audio.mulaw ?? new Uint8Array(0)),
    mark: (name) => marks.push({ name, at: performance.now() }),
    cleared: () => state.clears++,
    dtmf: () => {},
    closed: () => {},
  });
  return { heard, marks, state };
}

describe('SIP endpoint against baresip', () => {
  it('baresip calls in: its speech reaches our channel and its recording holds the tone we sent', async () => {
    endpoint = await startTestEndpoint();
    baresip = await Baresip.start(mic);
    const answered = waitFor<{ channel: RtpChannel; heard: Uint8Array[]; marks: Array<{ name: string; at: number }>; sentAt: number }>(
      (resolve) => {
        endpoint?.on('incoming', (call) => {
          void call.accept().then((channel) => {
            const { heard, marks } = listen(channel);
            // Like TransportOutput: audio ahead of time, then a mark after it.
            setTimeout(() => {
              const sentAt = performance.now();
              channel.sendAudio(toneMulaw(1000));
              channel.sendMark('tone-end');
              resolve({ channel, heard, marks, sentAt });
            }, 300);
            setTimeout(() => void call.hangUp('test done'), 3500);
          });
        });
      },
    );
    baresip.command('dial', `sip:bot@127.0.0.2:${endpoint.port}`);
    const { channel, heard, marks, sentAt } = await answered;
    await baresip.waitForEvent('CALL_CLOSED');
    // What we received: baresip's speech, about as long as it is.
    const ours = loudSegments(concatMulaw(heard), 8000);
    const spoken = ours.reduce((ms, s) => ms + (s.endMs - s.startMs), 0);
    expect(spoken).toBeGreaterThan(speechMs * 0.6);
    expect(spoken).toBeLessThan(speechMs * 1.3);
    // The mark came when the last tone frame left, 1 s after the first (playback truth), not at once.
    expect(marks.map((m) => m.name)).toEqual(['tone-end']);
    expect((marks[0]?.at as number) - sentAt).toBeGreaterThan(940);
    expect(channel.stats.foreignPackets).toBe(0);
    // What baresip heard: one second of tone.
    const { samples, sampleRate } = wavSamples(await baresip.heardWav());
    const segments = loudSegments(samples, sampleRate, -20);
    expect(segments).toHaveLength(1);
    const toneMs = (segments[0] as { startMs: number; endMs: number }).endMs - (segments[0] as { startMs: number }).startMs;
    expect(toneMs).toBeGreaterThan(960);
    expect(toneMs).toBeLessThan(1060);
  });

  it('we call baresip; clear() (barge-in) stops our audio on the wire within 40 ms, while its speech reaches us', async () => {
    endpoint = await startTestEndpoint();
    baresip = await Baresip.start(mic);
    const call = await endpoint.placeCall({ to: `sip:peer@127.0.0.1:${baresip.sipPort}` });
    const channel = await call.answered;
    const { heard, state } = listen(channel);
    channel.sendAudio(toneMulaw(4000));
    await new Promise((r) => setTimeout(r, 1500));
    // The barge-in decision: from here on nothing more of the tone may leave. The channel confirms the clear with
    // its counters at that moment (it may run on the media thread).
    channel.clear();
    while (state.clears === 0) await new Promise((r) => setTimeout(r, 5));
    const sentAtDecision = channel.stats.audioFramesSent;
    await new Promise((r) => setTimeout(r, 1500));
    await call.hangUp('test done');
    expect((await channel.closedStats).audioFramesSent).toBe(sentAtDecision);
    await baresip.waitForEvent('CALL_CLOSED');
    const { samples, sampleRate } = wavSamples(await baresip.heardWav());
    const segments = loudSegments(samples, sampleRate, -20);
    expect(segments).toHaveLength(1);
    const toneMs = (segments[0] as { endMs: number }).endMs - (segments[0] as { startMs: number }).startMs;
    // The far end's recording holds the audio sent before the decision and nothing after it: ±40 ms.
    expect(Math.abs(toneMs - sentAtDecision * 20), `recorded ${toneMs} ms, sent ${sentAtDecision * 20} ms`).toBeLessThanOrEqual(40);
    expect(sentAtDecision).toBeGreaterThan(50); // the tone really was playing
    // Meanwhile baresip's speech (talking over us) arrived.
    const ours = loudSegments(concatMulaw(heard), 8000);
    expect(ours.length).toBeGreaterThan(0);
  });
});
