import { describe, expect, it } from 'vitest';
import { answerCall } from '../../../src/server/calls/call-answering.ts';
import { LiveCalls } from '../../../src/server/calls/live-calls.ts';
import { authorizeMediaSocket } from '../../../src/server/calls/media-socket.ts';
import { MediaTokens } from '../../../src/server/calls/media-tokens.ts';
import { applyStatusUpdate } from '../../../src/server/calls/status-updates.ts';
import type { CallStatusUpdate } from '../../../src/telephony/call-status.ts';
import { LocalMediaChannel } from '../../../src/transports/local/local-media-channel.ts';
import { callDeps } from './fixtures.ts';

const publicUrls = { http: 'https://agent.example.com', ws: 'wss://agent.example.com' };

function completed(carrierCallId: string): CallStatusUpdate {
  return {
    carrier: 'twilio',
    carrierCallId,
    requestId: carrierCallId,
    status: 'completed',
    carrierStatus: 'completed',
    timestamp: null,
    startedAt: null,
    answeredAt: null,
    endedAt: null,
    durationSec: 12,
    sequenceNumber: null,
    errorCode: null,
    hangupCause: null,
    answeredBy: null,
    from: null,
    to: null,
    direction: null,
  };
}

describe('answering and media tokens', () => {
  it('creates one inbound record per carrier call id, in progress, with a socket URL whose token names it', () => {
    const { deps } = callDeps();
    const tokens = new MediaTokens();
    const live = new LiveCalls(deps);
    const first = answerCall(deps, tokens, publicUrls, { carrier: 'twilio', carrierCallId: 'CA1', from: '+1555', to: '+1666' });
    const again = answerCall(deps, tokens, publicUrls, { carrier: 'twilio', carrierCallId: 'CA1', from: '+1555', to: '+1666' });
    expect(again.callId).toBe(first.callId);
    expect(deps.store.listCalls().calls).toHaveLength(1);
    expect(deps.store.getCallSummary(first.callId)).toMatchObject({ status: 'in-progress', direction: 'inbound', carrierCallId: 'CA1' });
    const token = first.streamUrl.replace('wss://agent.example.com/ws/', '');
    expect(authorizeMediaSocket(deps, tokens, live, token)).toEqual({ ok: true, callId: first.callId });
    expect(authorizeMediaSocket(deps, new MediaTokens(), live, token)).toMatchObject({ ok: false, reason: 'media token bad-signature' });
    expect(authorizeMediaSocket(deps, tokens, live, undefined)).toMatchObject({ ok: false });
  });

  it('refuses answering for a call of another carrier', () => {
    const { deps } = callDeps();
    const { callId } = answerCall(deps, new MediaTokens(), publicUrls, { carrier: 'twilio', carrierCallId: 'CA2', from: 'a', to: 'b' });
    expect(() =>
      answerCall(deps, new MediaTokens(), publicUrls, { carrier: 'plivo', callId, carrierCallId: 'x', from: 'a', to: 'b' }),
    ).toThrow(/not a plivo call/);
  });
});

describe('live calls on a local media channel', () => {
  it('the carrier reporting the call completed stops the session; the record says completed and the leg is not hung up again', async () => {
    const { deps, carrier } = callDeps();
    const live = new LiveCalls(deps);
    const { callId } = answerCall(deps, new MediaTokens(), publicUrls, { carrier: 'twilio', carrierCallId: 'CA3', from: 'a', to: 'b' });
    const channel = new LocalMediaChannel();
    const running = live.run(callId, channel);
    expect(live.has(callId)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    applyStatusUpdate(deps, live, completed('CA3'), undefined);
    await running;
    expect(live.size).toBe(0);
    const record = deps.store.getCall(callId);
    expect(record).toMatchObject({ status: 'completed', durationSec: 12 });
    expect(record?.events.map((e) => e.type)).toEqual(expect.arrayContaining(['carrier.status', 'media.ended']));
    expect(carrier.hangUps).toHaveLength(0);
    expect(authorizeMediaSocket(deps, new MediaTokens(), live, 'x')).toMatchObject({ ok: false });
  });

  it('a fatal provider error fails the call with the reason and hangs up the carrier leg', async () => {
    const { deps, carrier } = callDeps({ failStt: true });
    const live = new LiveCalls(deps);
    const { callId } = answerCall(deps, new MediaTokens(), publicUrls, { carrier: 'twilio', carrierCallId: 'CA4', from: 'a', to: 'b' });
    await live.run(callId, new LocalMediaChannel());
    const record = deps.store.getCall(callId);
    expect(record).toMatchObject({ status: 'failed', error: { code: 'pipeline_failed' } });
    expect(record?.error?.message).toContain('provider socket refused');
    expect(record?.events.some((e) => e.type === 'error')).toBe(true);
    expect(carrier.hangUps).toEqual([{ callId, carrierCallId: 'CA4', answered: true }]);
  });
});
