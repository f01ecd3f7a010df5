import { StatusCallbackError, isFinalCallStatus, type CallStatus, type CallStatusUpdate } from '../call-status.ts';
import { dateParam, numberParam, param, type CallbackParams } from '../callback-params.ts';

const TWILIO_STATUSES: Record<string, CallStatus> = {
  queued: 'queued',
  // Sent for the `initiated` event; the REST enum has no such state.
  initiated: 'queued',
  ringing: 'ringing',
  'in-progress': 'in-progress',
  completed: 'completed',
  busy: 'busy',
  'no-answer': 'no-answer',
  failed: 'failed',
  canceled: 'canceled',
};

/** Map a Twilio `CallStatus`/REST `status` word; `null` for words Twilio does not use. */
export function twilioCallStatus(word: string): CallStatus | null {
  return TWILIO_STATUSES[word] ?? null;
}

/** RFC 2822 (`Tue, 31 Aug 2010 20:36:28 +0000`), which `Date` parses. */
export function parseTwilioDate(text: string): Date {
  return new Date(text);
}

/**
 * A Twilio call status callback (or any voice webhook: the answer request has the same core fields) → normalised.
 * Throws {@link StatusCallbackError} without `CallSid` or with an unknown `CallStatus`.
 */
export function parseTwilioStatusCallback(params: CallbackParams): CallStatusUpdate {
  const callSid = param(params, 'CallSid');
  const carrierStatus = param(params, 'CallStatus');
  if (!callSid) throw new StatusCallbackError('twilio', 'CallSid is missing');
  if (!carrierStatus) throw new StatusCallbackError('twilio', `CallStatus is missing for ${callSid}`);
  const status = twilioCallStatus(carrierStatus);
  if (!status) throw new StatusCallbackError('twilio', `unknown CallStatus "${carrierStatus}" for ${callSid}`);
  const timestamp = dateParam(params, 'Timestamp', parseTwilioDate);
  const sipCode = param(params, 'SipResponseCode');
  return {
    carrier: 'twilio',
    carrierCallId: callSid,
    requestId: callSid,
    status,
    carrierStatus,
    timestamp,
    // Twilio callbacks carry one timestamp: the moment of this event.
    startedAt: carrierStatus === 'initiated' ? timestamp : null,
    answeredAt: status === 'in-progress' ? timestamp : null,
    endedAt: isFinalCallStatus(status) ? timestamp : null,
    durationSec: numberParam(params, 'CallDuration'),
    sequenceNumber: numberParam(params, 'SequenceNumber'),
    errorCode: param(params, 'ErrorCode'),
    hangupCause: param(params, 'ErrorMessage') ?? (sipCode && sipCode !== '200' ? `sip:${sipCode}` : null),
    answeredBy: param(params, 'AnsweredBy'),
    from: param(params, 'From'),
    to: param(params, 'To'),
    direction: param(params, 'Direction'),
  };
}
