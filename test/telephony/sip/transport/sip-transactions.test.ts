/** RFC 3261 §17 timers of our transactions, on fake timers. */
import { describe, expect, it } from 'vitest';
import { makeResponse, type SipMessage, type SipRequest, type SipResponse } from '../../../../src/telephony/sip/sip-message.ts';
import {
  DEFAULT_TIMING,
  InviteClientTransaction,
  InviteServerTransaction,
  NonInviteClientTransaction,
  type SipTimers,
} from '../../../../src/telephony/sip/transport/sip-transactions.ts';

/** Deterministic timers: `advance(ms)` fires what is due. */
function fakeTimers() {
  let now = 0;
  let seq = 0;
  const pending = new Map<number, { at: number; run: () => void }>();
  const timers: SipTimers = {
    setTimeout: (run, ms) => {
      const id = ++seq;
      pending.set(id, { at: now + ms, run });
      return id;
    },
    clearTimeout: (id) => void pending.delete(id as number),
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      const next = [...pending.entries()].sort((a, b) => a[1].at - b[1].at)[0];
      if (!next || next[1].at > end) break;
      pending.delete(next[0]);
      now = next[1].at;
      next[1].run();
    }
    now = end;
  };
  return { timers, advance, now: () => now };
}

function request(method: string): SipRequest {
  return {
    method,
    uri: 'sip:bob@192.0.2.1',
    version: '2.0',
    headers: {
      via: [{ version: '2.0', protocol: 'UDP', host: '192.0.2.9', port: 5060, params: { branch: 'z9hG4bKtest' } }],
      to: { uri: 'sip:bob@192.0.2.1', params: {} },
      from: { uri: 'sip:alice@192.0.2.9', params: { tag: 'a' } },
      'call-id': 'c1',
      cseq: { seq: 1, method },
    },
  };
}

function udp(clock: ReturnType<typeof fakeTimers>) {
  const sent: Array<{ at: number; message: SipMessage }> = [];
  const connection = {
    protocol: 'UDP' as const,
    send: (message: SipMessage) => sent.push({ at: clock.now(), message }),
    release: () => {},
  };
  return { sent, context: { connection, timers: clock.timers, timing: DEFAULT_TIMING, terminated: () => {} } };
}

describe('SIP transactions', () => {
  it('INVITE client: retransmits at T1 doubling until a provisional, times out with 408 after 64·T1', () => {
    const clock = fakeTimers();
    const { sent, context } = udp(clock);
    const responses: SipResponse[] = [];
    new InviteClientTransaction(request('INVITE'), context, (r) => responses.push(r)).start();
    clock.advance(32_000);
    expect(sent.map((s) => s.at)).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(responses.map((r) => r.status)).toEqual([408]);
  });

  it('INVITE client: ACKs a failure response itself, once per retransmission, and stops retransmitting on 1xx', () => {
    const clock = fakeTimers();
    const { sent, context } = udp(clock);
    const invite = request('INVITE');
    const statuses: number[] = [];
    const tx = new InviteClientTransaction(invite, context, (r) => statuses.push(r.status));
    tx.start();
    tx.receive(makeResponse(invite, 180, { toTag: 'b' }));
    clock.advance(5000);
    expect(sent).toHaveLength(1);
    const busy = makeResponse(invite, 486, { toTag: 'b' });
    tx.receive(busy);
    tx.receive(busy); // retransmitted by the peer
    expect(statuses).toEqual([180, 486]);
    expect(sent.slice(1).map((s) => [s.message.method, s.message.headers.cseq?.method])).toEqual([
      ['ACK', 'ACK'],
      ['ACK', 'ACK'],
    ]);
  });

  it('non-INVITE client: retransmits with T2 cap, 408 after 64·T1', () => {
    const clock = fakeTimers();
    const { sent, context } = udp(clock);
    const statuses: number[] = [];
    new NonInviteClientTransaction(request('BYE'), context, (r) => statuses.push(r.status)).start();
    clock.advance(32_001);
    const gaps = sent.slice(1).map((s, i) => s.at - (sent[i] as { at: number }).at);
    expect(gaps.slice(0, 4)).toEqual([500, 1000, 2000, 4000]);
    expect(Math.max(...gaps)).toBe(4000);
    expect(statuses).toEqual([408]);
  });

  it('INVITE server: retransmits a 2xx until the dialog sees the ACK, and reports a missing ACK', () => {
    const clock = fakeTimers();
    const { sent, context } = udp(clock);
    const invite = request('INVITE');
    const tx = new InviteServerTransaction(invite, context);
    let missed = 0;
    tx.onAckTimeout = () => missed++;
    tx.respond(makeResponse(invite, 200, { toTag: 'x' }));
    clock.advance(2000);
    expect(sent.map((s) => s.at)).toEqual([0, 500, 1500]);
    tx.retransmission(); // INVITE retransmission after the 2xx: absorbed (the TU's retransmissions cover it)
    expect(sent).toHaveLength(3);
    clock.advance(40_000);
    expect(missed).toBe(1);

    const clock2 = fakeTimers();
    const second = udp(clock2);
    const tx2 = new InviteServerTransaction(invite, second.context);
    tx2.onAckTimeout = () => missed++;
    tx2.respond(makeResponse(invite, 200, { toTag: 'x' }));
    clock2.advance(600);
    tx2.ackFor2xx();
    clock2.advance(40_000);
    expect(second.sent).toHaveLength(2);
    expect(missed).toBe(1);
  });
});
