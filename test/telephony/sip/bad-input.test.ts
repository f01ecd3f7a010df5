/**
 * Hostile and broken input: malformed SIP over UDP and TCP, garbage RTP and RTP from a third address during
 * a real call (sipp). Each is dropped or refused with a log line; the endpoint keeps answering and the call
 * ends normally.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SipEndpoint } from '../../../src/telephony/sip/index.ts';
import type { RtpChannel } from '../../../src/transports/rtp/rtp-channel.ts';
import { startTestEndpoint, waitFor } from './peers/endpoint.ts';
import { runSipp } from './peers/sipp.ts';

let endpoint: SipEndpoint | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

function options(port: number, callId: string): string {
  return [
    `OPTIONS sip:bot@127.0.0.2:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK${callId}`,
    'From: <sip:probe@127.0.0.1>;tag=p1',
    `To: <sip:bot@127.0.0.2:${port}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Sends datagrams from one socket and collects what comes back. */
async function udpExchange(port: number, messages: Array<string | Buffer>, waitMs = 400): Promise<string[]> {
  const socket = dgram.createSocket('udp4');
  const replies: string[] = [];
  socket.on('message', (data) => replies.push(data.toString('latin1')));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  for (const message of messages) socket.send(typeof message === 'string' ? Buffer.from(message, 'latin1') : message, port, '127.0.0.2');
  await new Promise((r) => setTimeout(r, waitMs));
  socket.close();
  return replies;
}

describe('SIP endpoint with bad input', () => {
  it('drops malformed SIP over UDP and keeps answering', async () => {
    endpoint = await startTestEndpoint();
    const port = endpoint.port;
    const replies = await udpExchange(port, [
      'THIS IS NOT SIP\r\n\r\n',
      Buffer.from([0x80, 0x00, 0xff, 0x13, 0x37]),
      'INVITE sip:bot@127.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\nCSeq: 1 INVITE\r\n\r\n', // no From/To/Call-ID
      `INVITE sip:bot@127.0.0.2 SIP/2.0\r\nVia: garbage\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: broken-via\r\nCSeq: x\r\n\r\n`,
      'SIP/2.0 200 OK\r\n\r\n',
      options(port, 'still-alive'),
    ]);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatch(/^SIP\/2\.0 200 OK\r\n[\s\S]*Call-ID: still-alive/);
  });

  it('closes a TCP connection that floods it, and keeps serving others', async () => {
    endpoint = await startTestEndpoint();
    const port = endpoint.port;
    const flood = net.connect(port, '127.0.0.2');
    const closed = new Promise<void>((resolve) => flood.on('close', () => resolve()));
    flood.on('error', () => {});
    flood.write('X'.repeat(40_000)); // no end of headers in sight
    await waitFor<void>((done) => void closed.then(done), 5000, 'flooding connection to close');
    const good = net.connect(port, '127.0.0.2');
    const reply = await new Promise<string>((resolve) => {
      good.on('data', (d: Buffer) => resolve(d.toString('latin1')));
      good.write(options(port, 'tcp-alive').replace('SIP/2.0/UDP', 'SIP/2.0/TCP'));
    });
    good.destroy();
    expect(reply).toMatch(/^SIP\/2\.0 200 OK[\s\S]*Call-ID: tcp-alive/);
  });

  it('drops garbage RTP and RTP from a third address during a call, counting both; the call completes', async () => {
    endpoint = await startTestEndpoint();
    let channel: RtpChannel | undefined;
    let status: string | undefined;
    endpoint.on('incoming', (call) => {
      call.on('ended', (end) => (status = end.status));
      void call.accept().then((accepted) => {
        channel = accepted;
        accepted.setHandler({ audio: () => {}, mark: () => {}, dtmf: () => {}, closed: () => {} });
        const stranger = dgram.createSocket('udp4');
        const peer = dgram.createSocket('udp4');
        const rtp = Buffer.alloc(172);
        rtp[0] = 0x80;
        stranger.bind(0, '127.0.0.3', () => {
          for (let i = 0; i < 20; i++) stranger.send(rtp, accepted.localPort, '127.0.0.2');
          setTimeout(() => stranger.close(), 200);
        });
        peer.bind(0, '127.0.0.1', () => {
          const garbage = [
            Buffer.from('hello'),
            Buffer.alloc(3),
            Buffer.from([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Buffer.from([0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
          ];
          for (const g of garbage) peer.send(g, accepted.localPort, '127.0.0.2');
          setTimeout(() => peer.close(), 200);
        });
      });
    });
    const run = await runSipp({ scenario: 'basic-call.xml', target: `127.0.0.2:${endpoint.port}` });
    expect(run.exitCode, run.errors).toBe(0);
    expect(status).toBe('completed');
    const stats = await channel?.closedStats;
    expect(stats?.foreignPackets).toBe(20);
    expect(stats?.invalidPackets).toBe(4);
  });
});
