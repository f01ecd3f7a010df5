/**
 * The RTP channel under the unchanged pipeline transport (MediaTransport / TransportOutput): pacing on the
 * wire, one SSRC, marker at each talkspurt, playback truth from what was sent, and barge-in stopping the
 * audio within one 20 ms frame. The far end is a plain UDP socket that records the packets.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { Frame, FrameOf } from '../../../src/pipeline/index.ts';
import { makeFrame, PipelineTask } from '../../../src/pipeline/index.ts';
import { MediaTransport } from '../../../src/transports/media-transport.ts';
import { pcmuCodec } from '../../../src/transports/rtp/rtp-codec.ts';
import { RtpMediaChannel } from '../../../src/transports/rtp/rtp-media-channel.ts';
import { parseRtpPacket, type RtpPacket } from '../../../src/transports/rtp/rtp-packet.ts';
import { bindRtpSocket } from '../../../src/transports/rtp/rtp-socket.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Received extends Omit<RtpPacket, 'payload'> {
  at: number;
  loud: boolean;
}

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup) fn();
  cleanup = [];
});

async function setup(options: { rtpTimeoutMs?: number; onFailure?: (reason: string) => void } = {}) {
  const peer = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
  const received: Received[] = [];
  peer.on('message', (data) => {
    const packet = parseRtpPacket(data);
    if (packet) received.push({ ...packet, at: performance.now(), loud: packet.payload.some((b) => b !== 0xff) });
  });
  const socket = await bindRtpSocket('127.0.0.1', { min: 0, max: 0 });
  const channel = new RtpMediaChannel({
    carrierCallId: 'test-call',
    socket,
    codec: pcmuCodec(),
    media: {
      codec: 'PCMU',
      payloadType: 0,
      clockRate: 8000,
      channels: 1,
      telephoneEventPayloadType: 101,
      remoteAddress: '127.0.0.1',
      remotePort: peer.address().port,
      direction: 'sendrecv',
      remotePtimeMs: 20,
    },
    ...options,
  });
  const transport = new MediaTransport(channel);
  const down: Frame[] = [];
  const task = new PipelineTask([transport.input(), transport.output()], { callId: 'rtp-test', onOutput: (f) => down.push(f) });
  cleanup.push(() => {
    channel.close('test over');
    peer.close();
  });
  return { peer, channel, transport, task, down, received };
}

function utterance(id: string, seconds: number, words: number): Frame[] {
  const audio = new Uint8Array(seconds * 8000).map((_, i) => (i % 7) + 10);
  const frames: Frame[] = [makeFrame('tts.started', { utteranceId: id })];
  for (let w = 0; w < words; w++) {
    const start = (w * seconds) / words;
    frames.push(makeFrame('tts.text', { utteranceId: id, text: `w${w}`, startSec: start, endSec: start + seconds / words }));
  }
  for (let i = 0; i < audio.length; i += 800) {
    frames.push(makeFrame('tts.audio', { utteranceId: id, audio: { sampleRate: 8000, channels: 1, mulaw: audio.subarray(i, i + 800) } }));
  }
  frames.push(makeFrame('tts.stopped', { utteranceId: id }));
  return frames;
}

const played = (frames: Frame[]) => frames.filter((f): f is FrameOf<'audio.played'> => f.type === 'audio.played');

describe('RtpMediaChannel', () => {
  it('paces packets every 20 ms with one SSRC, marks the talkspurt, and confirms playback when the audio left', async () => {
    const { channel, task, down, received } = await setup();
    const done = task.run();
    channel.start();
    await sleep(200); // keep-alive silence first
    const t0 = performance.now();
    for (const frame of utterance('u1', 1, 5)) task.queueFrame(frame);
    while (!played(down).some((p) => p.complete)) await sleep(5);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThan(950);
    expect(elapsed).toBeLessThan(1300);
    await sleep(100);
    expect(new Set(received.map((p) => p.ssrc)).size).toBe(1);
    expect(received.every((p, i) => i === 0 || p.sequence === ((received[i - 1] as Received).sequence + 1) % 65536)).toBe(true);
    expect(received.every((p, i) => i === 0 || p.timestamp - (received[i - 1] as Received).timestamp === 160)).toBe(true);
    const loud = received.filter((p) => p.loud);
    expect(loud).toHaveLength(50); // exactly 1 s of audio
    expect(loud[0]?.marker).toBe(true);
    expect(received.filter((p) => p.marker)).toHaveLength(1);
    expect(received.filter((p) => !p.loud).length).toBeGreaterThan(5); // silence before and after
    expect(played(down).map((p) => Number(p.playedSec.toFixed(3)))).toEqual([0.2, 0.4, 0.6, 0.8, 1, 1]);
    task.end();
    await done;
  });

  it('on interruption stops the audio on the wire within one frame and reports what was sent as heard', async () => {
    const { channel, task, down, received } = await setup();
    const done = task.run();
    channel.start();
    for (const frame of utterance('u1', 2, 10)) task.queueFrame(frame);
    await sleep(730);
    const sentAtDecision = channel.stats.audioFramesSent;
    task.queueFrame(makeFrame('interruption', { reason: 'barge-in' }));
    await sleep(200);
    // The interruption is handled on a later turn: at most the one frame due meanwhile may leave.
    expect(channel.stats.audioFramesSent - sentAtDecision).toBeLessThanOrEqual(1);
    expect(received.filter((p) => p.loud)).toHaveLength(channel.stats.audioFramesSent); // the wire saw exactly that
    const final = played(down).at(-1) as FrameOf<'audio.played'>;
    expect(final.complete).toBe(false);
    // Words end every 0.2 s; heard = the words whose last byte had been sent.
    expect(final.playedSec).toBeCloseTo(Math.floor((channel.stats.audioFramesSent * 0.02) / 0.2 + 1e-9) * 0.2, 5);
    task.end();
    await done;
  });

  it('delivers the peer’s audio and RFC 4733 digits to the pipeline, and sends DTMF as events', async () => {
    const { peer, channel, task, down, received } = await setup();
    const done = task.run();
    channel.start();
    const send = (pt: number, seq: number, ts: number, payload: Uint8Array, marker = false) => {
      const data = new Uint8Array(12 + payload.length);
      data.set([
        0x80,
        (marker ? 0x80 : 0) | pt,
        seq >> 8,
        seq & 0xff,
        ts >>> 24,
        (ts >> 16) & 0xff,
        (ts >> 8) & 0xff,
        ts & 0xff,
        0,
        0,
        0,
        1,
      ]);
      data.set(payload, 12);
      peer.send(data, channel.localPort, '127.0.0.1');
    };
    for (let i = 0; i < 10; i++) send(0, i, i * 160, new Uint8Array(160).fill(0x20));
    send(101, 10, 2000, new Uint8Array([7, 0x8a, 3, 0]));
    send(101, 11, 2000, new Uint8Array([7, 0x8a, 3, 0]));
    channel.sendDtmf('9');
    await sleep(400);
    expect(down.filter((f) => f.type === 'dtmf.in').map((f) => (f as FrameOf<'dtmf.in'>).digit)).toEqual(['7']);
    expect(down.some((f) => f.type === 'audio.in' && (f as FrameOf<'audio.in'>).audio.mulaw?.[0] === 0x20)).toBe(true);
    const events = received.filter((p) => p.payloadType === 101);
    expect(events.length).toBe(8);
    expect(new Set(events.map((p) => p.timestamp)).size).toBe(1);
    expect(events[0]?.marker).toBe(true);
    task.end();
    await done;
  });

  it('ends with an error when the peer sends no RTP for the timeout, and tells its owner', async () => {
    const failures: string[] = [];
    const { channel, task, down } = await setup({ rtpTimeoutMs: 300, onFailure: (reason) => failures.push(reason) });
    const done = task.run();
    channel.start();
    await sleep(600);
    expect(channel.isClosed).toBe(true);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/RTP timeout/);
    await done;
    expect(down.length).toBeGreaterThan(0);
  });
});
