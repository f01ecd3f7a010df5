/**
 * Which sources an RTP channel accepts: the peer's SDP address, and loopback when that address is one of this
 * machine's own (a local peer that advertised its external address still sends from 127.0.0.1 to loopback — the
 * sandbox's Plivo `<Dial><User>` leg to our SIP endpoint under `npm start`, HOST 0.0.0.0). Loopback sockets only.
 */
import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { pcmuCodec } from '../../../src/transports/rtp/rtp-codec.ts';
import { RtpMediaChannel } from '../../../src/transports/rtp/rtp-media-channel.ts';
import { RTP_HEADER_BYTES, writeRtpHeader } from '../../../src/transports/rtp/rtp-packet.ts';
import { bindRtpSocket } from '../../../src/transports/rtp/rtp-socket.ts';

const externalIpv4 = Object.values(networkInterfaces())
  .flat()
  .find((info) => info && info.family === 'IPv4' && !info.internal)?.address;

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup) fn();
  cleanup = [];
});

async function received(remoteAddress: string): Promise<RtpMediaChannel['stats']> {
  const socket = await bindRtpSocket('127.0.0.1', { min: 0, max: 0 });
  const channel = new RtpMediaChannel({
    carrierCallId: 'trust',
    socket,
    codec: pcmuCodec(),
    media: {
      codec: 'PCMU',
      payloadType: 0,
      clockRate: 8000,
      channels: 1,
      telephoneEventPayloadType: 101,
      remoteAddress,
      remotePort: 0,
      direction: 'sendrecv',
      remotePtimeMs: 20,
    },
  });
  const sender = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', resolve));
  cleanup.push(() => {
    channel.close('test over');
    sender.close();
  });
  const packet = Buffer.alloc(RTP_HEADER_BYTES + 160, 0xff);
  writeRtpHeader(packet, { marker: false, payloadType: 0, sequence: 1, timestamp: 160, ssrc: 42 });
  sender.send(packet, channel.localPort, '127.0.0.1');
  for (let i = 0; i < 200 && channel.stats.packetsReceived + channel.stats.foreignPackets === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return channel.stats;
}

describe('RtpMediaChannel trusted sources', () => {
  it.skipIf(!externalIpv4)('a peer at one of our own addresses may send from loopback', async () => {
    const stats = await received(externalIpv4 as string);
    expect(stats.packetsReceived).toBe(1);
    expect(stats.foreignPackets).toBe(0);
  });

  it('a peer elsewhere may not: loopback packets are foreign', async () => {
    const stats = await received('198.51.100.7');
    expect(stats.packetsReceived).toBe(0);
    expect(stats.foreignPackets).toBe(1);
  });
});
