import { describe, expect, it } from 'vitest';
import { dialEventOf, dialOutFailure, statusForDialEvent } from '../../../src/telephony/daily/dial-events.ts';
import { retryDelayMs } from '../../../src/telephony/daily/runtime.ts';
import { dailyStartBody } from '../../../src/telephony/daily/start-request.ts';

describe('Daily dial events', () => {
  it('maps events onto call statuses', () => {
    expect(statusForDialEvent('dialout.connected', false)).toBe('ringing');
    expect(statusForDialEvent('dialout.answered', false)).toBe('in-progress');
    expect(statusForDialEvent('dialout.stopped', true)).toBe('completed');
    expect(statusForDialEvent('dialout.stopped', false)).toBe('canceled');
    expect(statusForDialEvent('dialin.stopped', true)).toBe('completed');
    expect(statusForDialEvent('dialin.error', false)).toBe('failed');
    expect(statusForDialEvent('dialout.warning', true)).toBeUndefined();
  });

  it('tells busy and no-answer dial-out errors from other failures', () => {
    expect(dialOutFailure({ sip_code: 486 })).toBe('busy');
    expect(dialOutFailure({ error_msg: 'User Busy' })).toBe('busy');
    expect(dialOutFailure({ sip_code: 480 })).toBe('no-answer');
    expect(dialOutFailure({ error_msg: 'call timed out' })).toBe('no-answer');
    expect(dialOutFailure({ error_msg: 'Service Unavailable', sip_code: 503 })).toBe('failed');
  });

  it('reads the envelope, ignoring event types it does not handle', () => {
    const event = dialEventOf({ type: 'dialout.answered', payload: { room: 'r1', session_id: 's1' } });
    expect(event).toMatchObject({ type: 'dialout.answered', room: 'r1', sessionId: 's1' });
    expect(dialEventOf({ type: 'recording.started', payload: {} })).toBeUndefined();
  });

  it('backs off: the base delay doubled per retry, at most 15 s', () => {
    expect([0, 1, 2, 3, 4].map((n) => retryDelayMs(n, 2000))).toEqual([2000, 4000, 8000, 15_000, 15_000]);
  });
});

describe('POST /daily/start body', () => {
  it('takes dial-in settings in snake_case or camelCase', () => {
    const snake = dailyStartBody.parse({ body: { dialin_settings: { call_id: 'c', call_domain: 'd', from: '+1', to: '+2' } } });
    const camel = dailyStartBody.parse({ body: { dialin_settings: { callId: 'c', callDomain: 'd' } } });
    expect(snake.body.dialin_settings).toMatchObject({ callId: 'c', callDomain: 'd', from: '+1', to: '+2' });
    expect(camel.body.dialin_settings).toMatchObject({ callId: 'c', callDomain: 'd' });
  });

  it('takes one or several dial-out targets, a number or a SIP URI each', () => {
    const parsed = dailyStartBody.parse({
      body: { dialout_settings: [{ phoneNumber: '+15550100001', callerId: 'abc' }, { sipUri: 'sip:bob@example.com' }], user: { id: 1 } },
    });
    expect(parsed.body.dialout_settings).toEqual([
      { to: '+15550100001', callerId: 'abc' },
      { to: 'sip:bob@example.com', callerId: undefined },
    ]);
    expect(() => dailyStartBody.parse({ body: { dialout_settings: [{ phoneNumber: '+15550100001', sipUri: 'sip:a@b' }] } })).toThrow();
    expect(() => dailyStartBody.parse({ body: { user: {} } })).toThrow(/dialin_settings or dialout_settings/);
  });
});
