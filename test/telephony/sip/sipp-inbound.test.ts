/**
 * sipp (a real SIP implementation, Debian `sip-tester`) calls our endpoint: each scenario in
 * `peers/scenarios/` is one behaviour a trunk or PBX relies on. sipp fails (non-zero exit) when a response
 * it expects does not come, and these tests check what our side made of the call.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingSipCall, SipCallEnd, SipEndpoint } from '../../../src/telephony/sip/index.ts';
import type { RtpChannel } from '../../../src/transports/rtp/rtp-channel.ts';
import { startTestEndpoint, waitFor } from './peers/endpoint.ts';
import { runSipp } from './peers/sipp.ts';

let endpoint: SipEndpoint | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

const target = (ep: SipEndpoint) => `127.0.0.2:${ep.port}`;

/** Accepts every call and records what happened to it. */
function answerAll(ep: SipEndpoint, options: { delayMs?: number } = {}) {
  const calls: Array<{
    call: IncomingSipCall;
    channel?: RtpChannel;
    digits: string[];
    end?: SipCallEnd;
    audioFrames: number;
    sessionExpires?: IncomingSipCall['sessionExpires'];
  }> = [];
  ep.on('incoming', (call) => {
    const entry: (typeof calls)[number] = { call, digits: [], audioFrames: 0 };
    calls.push(entry);
    call.on('ended', (end) => (entry.end = end));
    const accept = () => call.accept();
    const accepted = options.delayMs ? new Promise<void>((r) => setTimeout(r, options.delayMs)).then(accept) : accept();
    void accepted.then((channel) => {
      entry.sessionExpires = call.sessionExpires;
      entry.channel = channel;
      channel.setHandler({
        audio: () => entry.audioFrames++,
        mark: () => {},
        dtmf: (digit) => entry.digits.push(digit),
        closed: () => {},
      });
    });
  });
  return calls;
}

describe('SIP endpoint against sipp (inbound)', () => {
  it('answers a call, carries its X- headers, and records the far end hanging up (BYE) as completed', async () => {
    endpoint = await startTestEndpoint();
    const calls = answerAll(endpoint);
    const run = await runSipp({ scenario: 'basic-call.xml', target: target(endpoint) });
    expect(run.exitCode, run.errors || run.stdout.slice(-2000)).toBe(0);
    expect(calls).toHaveLength(1);
    const [entry] = calls;
    expect(entry?.call.headers).toEqual({ 'X-Customer-ID': 'c-42', 'X-Campaign': 'spring' });
    expect(entry?.call.requestUser).toBe('service');
    expect(entry?.call.source.address).toBe('127.0.0.1');
    expect(entry?.end).toMatchObject({ status: 'completed', by: 'remote' });
    expect(entry?.end?.reason).toContain('BYE');
    // Our channel sent RTP (silence keep-alive) the whole time: ~1.5 s of 20 ms packets.
    expect(entry?.channel?.stats.packetsSent).toBeGreaterThan(50);
  });

  it('answers CANCEL before answer with 200 and the INVITE with 487; the call is canceled', async () => {
    endpoint = await startTestEndpoint();
    const ended: SipCallEnd[] = [];
    endpoint.on('incoming', (call) => {
      call.ring();
      call.on('ended', (end) => ended.push(end));
    });
    const run = await runSipp({ scenario: 'cancel.xml', target: target(endpoint) });
    expect(run.exitCode, run.errors || run.stdout.slice(-2000)).toBe(0);
    expect(ended).toEqual([expect.objectContaining({ status: 'canceled', by: 'remote', sipCode: 487 })]);
  });

  it('treats INVITE retransmissions as one call', async () => {
    endpoint = await startTestEndpoint();
    const calls = answerAll(endpoint, { delayMs: 1200 }); // ring while sipp retransmits
    const run = await runSipp({ scenario: 'retransmission.xml', target: target(endpoint) });
    expect(run.exitCode, run.errors || run.stdout.slice(-2000)).toBe(0);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.end?.status).toBe('completed');
  });

  it('answers a hold re-INVITE (sendonly) with recvonly and stops sending, resumes on sendrecv, and answers a refresh unchanged', async () => {
    endpoint = await startTestEndpoint();
    const calls = answerAll(endpoint);
    const holds: boolean[] = [];
    const sentAt: Record<string, number> = {};
    endpoint.on('incoming', (call) =>
      call.on('hold', ({ held }) => {
        holds.push(held);
        sentAt[held ? 'hold' : 'resume'] = call.media?.stats.packetsSent ?? -1;
      }),
    );
    const run = await runSipp({ scenario: 'hold-resume.xml', target: target(endpoint) });
    expect(run.exitCode, run.errors || run.stdout.slice(-2000)).toBe(0);
    expect(holds).toEqual([true, false]);
    // 600 ms on hold: at most a frame or two may have left between the decision and the packet count.
    expect((sentAt.resume as number) - (sentAt.hold as number)).toBeLessThanOrEqual(2);
    expect(calls[0]?.end?.status).toBe('completed');
  });

  it('refreshes the session with a re-INVITE when it is the refresher (RFC 4028)', async () => {
    endpoint = await startTestEndpoint({ minSessionExpiresSec: 1 });
    const calls = answerAll(endpoint);
    const run = await runSipp({ scenario: 'session-timer.xml', target: target(endpoint) });
    expect(run.exitCode, run.errors || run.stdout.slice(-2000)).toBe(0);
    expect(calls[0]?.sessionExpires).toEqual({ intervalSec: 2, refresher: 'uas' });
    expect(calls[0]?.end?.status).toBe('completed');
    // Our refresh re-INVITE carried the unchanged SDP and the session timer.
    expect(run.messages).toMatch(/INVITE sip:sipp@127\.0\.0\.1:\d+ SIP\/2\.0[\s\S]*Session-Expires: 2;refresher=uas/);
  });

  it('ends the call with BYE when the peer, as refresher, lets the session expire (RFC 4028)', async () => {
    endpoint = await startTestEndpoint({ minSessionExpiresSec: 1 });
    const calls = answerAll(endpoint);
    const run = await runSipp({ scenario: 'session-expiry.xml', target: target(endpoint) });
    expect(run.exitCode, run.errors || run.stdout.slice(-2000)).toBe(0);
    expect(calls[0]?.end).toMatchObject({ status: 'completed', by: 'error', reason: 'session timer expired' });
  });

  it('answers a Session-Expires below Min-SE with 422', async () => {
    endpoint = await startTestEndpoint({ minSessionExpiresSec: 90 });
    const calls = answerAll(endpoint);
    const run = await runSipp({ scenario: 'session-too-small.xml', target: target(endpoint) });
    expect(run.exitCode, run.errors || run.stdout.slice(-2000)).toBe(0);
    expect(run.messages).toMatch(/Min-SE: 90/);
    expect(calls).toHaveLength(0);
  });

  it('refuses an offer without a common codec with 488 before the application sees it', async () => {
    endpoint = await startTestEndpoint();
    const calls = answerAll(endpoint);
    const refused: number[] = [];
    endpoint.on('refused', (r) => refused.push(r.status));
    const run = await runSipp({ scenario: 'no-common-codec.xml', target: target(endpoint) });
    expect(run.exitCode, run.errors || run.stdout.slice(-2000)).toBe(0);
    expect(calls).toHaveLength(0);
    expect(refused).toEqual([488]);
  });

  it('refuses an INVITE from a source outside the allowed networks with 403', async () => {
    endpoint = await startTestEndpoint({ allowedSources: ['10.255.0.0/16'] });
    const calls = answerAll(endpoint);
    const refused: Array<{ status: number; address: string }> = [];
    endpoint.on('refused', (r) => refused.push({ status: r.status, address: r.source.address }));
    const run = await runSipp({ scenario: 'forbidden.xml', target: target(endpoint) });
    expect(run.exitCode, run.errors || run.stdout.slice(-2000)).toBe(0);
    expect(calls).toHaveLength(0);
    expect(refused).toEqual([{ status: 403, address: '127.0.0.1' }]);
  });

  it('challenges a caller outside the allowed networks with digest auth when inbound credentials are set, and lets it in', async () => {
    endpoint = await startTestEndpoint({
      allowedSources: ['10.255.0.0/16'],
      inboundCredentials: { username: 'alice', password: 's3cret' },
    });
    const calls = answerAll(endpoint);
    const run = await runSipp({ scenario: 'inbound-digest.xml', target: target(endpoint), args: ['-au', 'alice', '-ap', 's3cret'] });
    expect(run.exitCode, run.errors || run.stdout.slice(-2000)).toBe(0);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.end?.status).toBe('completed');
    // Wrong password: refused (sipp fails the call).
    const wrong = await runSipp({ scenario: 'inbound-digest.xml', target: target(endpoint), args: ['-au', 'alice', '-ap', 'nope'] });
    expect(wrong.exitCode).not.toBe(0);
    expect(calls).toHaveLength(1);
  });

  it('hears the RFC 2833 DTMF from sipp’s shipped pcaps as the right digits', async () => {
    endpoint = await startTestEndpoint();
    const calls = answerAll(endpoint);
    for (const [pcap, digit] of [
      ['dtmf_2833_1.pcap', '1'],
      ['dtmf_2833_pound.pcap', '#'],
    ] as const) {
      const run = await runSipp({
        scenario: 'dtmf-2833.xml',
        target: target(endpoint),
        keys: { digit_pcap: `/usr/share/sip-tester/${pcap}` },
      });
      expect(run.exitCode, run.errors || run.stdout.slice(-2000)).toBe(0);
      expect(calls.at(-1)?.digits).toEqual([digit]);
    }
  });

  it('hears SIP INFO DTMF (application/dtmf-relay and application/dtmf)', async () => {
    endpoint = await startTestEndpoint();
    const calls = answerAll(endpoint);
    const run = await runSipp({ scenario: 'info-dtmf.xml', target: target(endpoint) });
    expect(run.exitCode, run.errors || run.stdout.slice(-2000)).toBe(0);
    expect(calls[0]?.digits).toEqual(['5', '#']);
  });
});

export { waitFor };
