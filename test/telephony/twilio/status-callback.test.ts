import { describe, expect, it } from 'vitest';
import { StatusCallbackError } from '../../../src/telephony/call-status.ts';
import { parseTwilioStatusCallback } from '../../../src/telephony/twilio/status-callback.ts';

function params(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}

describe('parseTwilioStatusCallback', () => {
  it('normalises the reference completed callback', () => {
    const update = parseTwilioStatusCallback(
      params(
        'AccountSid=AC1&ApiVersion=2010-04-01&CallSid=CA1&CallStatus=completed&CallDuration=42&Duration=1&CallbackSource=call-progress-events&Direction=outbound-api&From=%2B15557650000&To=%2B15551230000&SequenceNumber=3&Timestamp=Tue%2C+31+Aug+2010+20%3A37%3A10+%2B0000&SipResponseCode=200',
      ),
    );
    expect(update).toEqual({
      carrier: 'twilio',
      carrierCallId: 'CA1',
      requestId: 'CA1',
      status: 'completed',
      carrierStatus: 'completed',
      timestamp: new Date('2010-08-31T20:37:10Z'),
      startedAt: null,
      answeredAt: null,
      endedAt: new Date('2010-08-31T20:37:10Z'),
      durationSec: 42,
      sequenceNumber: 3,
      errorCode: null,
      hangupCause: null,
      answeredBy: null,
      from: '+15557650000',
      to: '+15551230000',
      direction: 'outbound-api',
    });
  });

  it('maps initiated to queued and stamps answer time on in-progress', () => {
    const initiated = parseTwilioStatusCallback(
      params('CallSid=CA1&CallStatus=initiated&SequenceNumber=0&Timestamp=Tue%2C+31+Aug+2010+20%3A36%3A28+%2B0000'),
    );
    expect(initiated.status).toBe('queued');
    expect(initiated.carrierStatus).toBe('initiated');
    expect(initiated.startedAt).toEqual(new Date('2010-08-31T20:36:28Z'));
    const answered = parseTwilioStatusCallback(
      params('CallSid=CA1&CallStatus=in-progress&Timestamp=Tue%2C+31+Aug+2010+20%3A36%3A35+%2B0000&AnsweredBy=human'),
    );
    expect(answered.status).toBe('in-progress');
    expect(answered.answeredAt).toEqual(new Date('2010-08-31T20:36:35Z'));
    expect(answered.endedAt).toBeNull();
    expect(answered.answeredBy).toBe('human');
  });

  it('keeps the error code and the SIP cause of failed calls', () => {
    const busy = parseTwilioStatusCallback(params('CallSid=CA1&CallStatus=busy&SipResponseCode=486'));
    expect(busy).toMatchObject({ status: 'busy', hangupCause: 'sip:486', errorCode: null });
    const failed = parseTwilioStatusCallback(params('CallSid=CA1&CallStatus=failed&ErrorCode=32009&ErrorMessage=Your+TwiML+tried+to+Dial'));
    expect(failed).toMatchObject({ status: 'failed', errorCode: '32009', hangupCause: 'Your TwiML tried to Dial' });
  });

  it('maps every Twilio status word', () => {
    for (const word of ['queued', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled']) {
      expect(parseTwilioStatusCallback({ CallSid: 'CA1', CallStatus: word }).status).toBe(word);
    }
  });

  it('rejects callbacks without a call or with an unknown status', () => {
    expect(() => parseTwilioStatusCallback({ CallStatus: 'completed' })).toThrow(StatusCallbackError);
    expect(() => parseTwilioStatusCallback({ CallSid: 'CA1' })).toThrow(/CallStatus is missing/);
    expect(() => parseTwilioStatusCallback({ CallSid: 'CA1', CallStatus: 'exploded' })).toThrow(/unknown CallStatus/);
  });
});
