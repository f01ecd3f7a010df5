import { describe, expect, it } from 'vitest';
import { StatusCallbackError } from '../../../src/telephony/call-status.ts';
import { parsePlivoStatusCallback } from '../../../src/telephony/plivo/status-callback.ts';

const BASE = { CallUUID: 'u-1', RequestUUID: 'r-1', From: '14157650000', To: '14151230000', Direction: 'outbound' };

describe('parsePlivoStatusCallback', () => {
  it('normalises a completed hang-up callback', () => {
    const update = parsePlivoStatusCallback({
      ...BASE,
      Event: 'Hangup',
      CallStatus: 'completed',
      HangupCause: 'NORMAL_CLEARING',
      HangupCauseName: 'Normal Hangup',
      HangupCauseCode: '4000',
      Duration: '42',
      BillDuration: '60',
      StartTime: '2024-01-15 10:30:00',
      AnswerTime: '2024-01-15 10:30:05',
      EndTime: '2024-01-15 10:30:47',
    });
    expect(update).toEqual({
      carrier: 'plivo',
      carrierCallId: 'u-1',
      requestId: 'r-1',
      status: 'completed',
      carrierStatus: 'completed',
      timestamp: new Date('2024-01-15T10:30:47Z'),
      startedAt: new Date('2024-01-15T10:30:00Z'),
      answeredAt: new Date('2024-01-15T10:30:05Z'),
      endedAt: new Date('2024-01-15T10:30:47Z'),
      durationSec: 42,
      sequenceNumber: null,
      errorCode: '4000',
      hangupCause: 'Normal Hangup',
      answeredBy: null,
      from: '14157650000',
      to: '14151230000',
      direction: 'outbound',
    });
  });

  it("maps Plivo's status words onto Twilio's", () => {
    const cases: Array<[string, string]> = [
      ['ringing', 'ringing'],
      ['in-progress', 'in-progress'],
      ['busy', 'busy'],
      ['failed', 'failed'],
      ['timeout', 'no-answer'],
      ['no-answer', 'no-answer'],
      ['cancel', 'canceled'],
    ];
    for (const [plivo, twilio] of cases) {
      const update = parsePlivoStatusCallback({ ...BASE, CallStatus: plivo });
      expect(update.status, plivo).toBe(twilio);
      expect(update.carrierStatus).toBe(plivo);
    }
  });

  it('refines an unanswered "completed" call from its hang-up cause', () => {
    const at = { StartTime: '2024-01-15 10:30:00', AnswerTime: '', EndTime: '2024-01-15 10:30:30' };
    expect(parsePlivoStatusCallback({ ...BASE, ...at, CallStatus: 'completed', HangupCauseName: 'Busy Line' }).status).toBe('busy');
    expect(parsePlivoStatusCallback({ ...BASE, ...at, CallStatus: 'completed', HangupCause: 'NO_ANSWER' }).status).toBe('no-answer');
    expect(parsePlivoStatusCallback({ ...BASE, ...at, CallStatus: 'completed', HangupCauseName: 'Cancelled' }).status).toBe('canceled');
    expect(
      parsePlivoStatusCallback({ ...BASE, ...at, CallStatus: 'completed', HangupCauseName: 'Invalid Destination Address' }).status,
    ).toBe('failed');
    // Answered calls stay completed whatever the cause says.
    expect(
      parsePlivoStatusCallback({ ...BASE, ...at, AnswerTime: '2024-01-15 10:30:05', CallStatus: 'completed', HangupCauseName: 'Busy Line' })
        .status,
    ).toBe('completed');
    const noAnswer = parsePlivoStatusCallback({ ...BASE, ...at, CallStatus: 'completed', HangupCauseName: 'No Answer' });
    expect(noAnswer.answeredAt).toBeNull();
    expect(noAnswer.endedAt).toEqual(new Date('2024-01-15T10:30:30Z'));
  });

  it('reads machine detection', () => {
    expect(parsePlivoStatusCallback({ ...BASE, CallStatus: 'in-progress', Machine: 'true' }).answeredBy).toBe('machine');
    expect(parsePlivoStatusCallback({ ...BASE, CallStatus: 'in-progress', Machine: 'false' }).answeredBy).toBe('human');
  });

  it('rejects callbacks without a call or with an unknown status', () => {
    expect(() => parsePlivoStatusCallback({ CallStatus: 'completed' })).toThrow(StatusCallbackError);
    expect(() => parsePlivoStatusCallback({ CallUUID: 'u' })).toThrow(/CallStatus is missing/);
    expect(() => parsePlivoStatusCallback({ CallUUID: 'u', CallStatus: 'melted' })).toThrow(/unknown CallStatus/);
  });
});
