/**
 * The RTP channel's inbound audio before a handler is set (the agent's session attaches after the answer): held,
 * at most `earlyAudioMs` (oldest dropped), handed over in order when the handler is set, and forgotten on
 * `discardEarlyAudio()`. Driven by a manual media clock: one 20 ms slot per advance, no wall-clock waits.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { MediaChannelHandler } from '../../../src/transports/media-channel.ts';
import { MediaClock } from '../../../src/transports/media-clock.ts';
import { pcmuCodec } from '../../../src/transports/rtp/rtp-codec.ts';
import { RtpMediaChannel } from '../../../src/transports/rtp/rtp-media-channel.ts';
import { bindRtpSocket } from '../../../src/transports/rtp/rtp-socket.ts';
import { ManualClock } from '../../../src/util/clock.ts';

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup) fn();
  cleanup = [];
});

async function setup(earlyAudioMs?: number) {
  const peer = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
  const socket = await bindRtpSocket('127.0.0.1', { min: 0, max: 0 });
  // The channel's slot origin is `performance.now()` at start: the manual clock starts there too.
  const manual = new ManualClock(performance.now());
  const channel = new RtpMediaChannel({
    carrierCallId: 'early-audio',
    socket,
    codec: pcmuCodec(),
    clock: new MediaClock({ clock: manual }),
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
    ...(earlyAudioMs !== undefined ? { earlyAudioMs } : {}),
  });
  cleanup.push(() => {
    channel.close('test over');
    peer.close();
  });
  channel.start();
  const slots = (n: number) => {
    for (let i = 0; i < n; i++) manual.advance(20);
  };
  const heard: number[] = [];
  const handler: MediaChannelHandler = {
    audio: (audio) => heard.push(audio.mulaw?.length ?? 0),
    dtmf: () => {},
    mark: () => {},
    closed: () => {},
  };
  return { channel, slots, heard, handler };
}

describe('RtpMediaChannel early audio', () => {
  it('holds every frame until the handler is set, then hands them over at once; live frames follow one per slot', async () => {
    const { channel, slots, heard, handler } = await setup();
    slots(40);
    expect(heard).toHaveLength(0);
    channel.setHandler(handler);
    expect(heard).toHaveLength(40);
    expect(heard.every((bytes) => bytes === 160)).toBe(true);
    slots(3);
    expect(heard).toHaveLength(43);
  });

  it('keeps at most earlyAudioMs (the newest), and the default is 10 s', async () => {
    const short = await setup(200);
    short.slots(25);
    short.channel.setHandler(short.handler);
    expect(short.heard).toHaveLength(10);

    const byDefault = await setup();
    byDefault.slots(600);
    byDefault.channel.setHandler(byDefault.handler);
    expect(byDefault.heard).toHaveLength(500);
  });

  it('discardEarlyAudio forgets what was held so far (a room before the dial-out rings)', async () => {
    const { channel, slots, heard, handler } = await setup();
    slots(30);
    channel.discardEarlyAudio();
    slots(7);
    channel.setHandler(handler);
    expect(heard).toHaveLength(7);
  });
});
