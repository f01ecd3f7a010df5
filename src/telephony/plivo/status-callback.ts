import { StatusCallbackError, type CallStatus, type CallStatusUpdate } from '../call-status.ts';
import { dateParam, numberParam, param, type CallbackParams } from '../callback-params.ts';

const PLIVO_STATUSES: Record<string, CallStatus> = {
  queued: 'queued',
  ringing: 'ringing',
  'early-media': 'ringing',
  'in-progress': 'in-progress',
  completed: 'completed',
  busy: 'busy',
  failed: 'failed',
  timeout: 'no-answer',
  'no-answer': 'no-answer',
  cancel: 'canceled',
  canceled: 'canceled',
  cancelled: 'canceled',
};

/** Map a Plivo `CallStatus` (or live `call_status`) word (case-insensitive); `null` for words we do not know. */
export function plivoCallStatus(word: string): CallStatus | null {
  return PLIVO_STATUSES[word.toLowerCase()] ?? null;
}

/**
 * What a hang-up cause says about an unanswered call (Plivo `HangupCauseName` such as "Busy Line", "No Answer",
 * "Cancelled", "Rejected", or the older SIP-style `HangupCause` such as `USER_BUSY`, `NO_ANSWER`); `null` if it does
 * not say.
 */
export function statusFromPlivoHangupCause(cause: string): CallStatus | null {
  if (/busy|reject/i.test(cause)) return 'busy';
  if (/no[ _]?answer|timeout|ring timeout/i.test(cause)) return 'no-answer';
  if (/cancel/i.test(cause)) return 'canceled';
  if (/invalid|unallocated|unknown|fail|unreachable|not found/i.test(cause)) return 'failed';
  return null;
}

/** Plivo callback times are `YYYY-MM-DD HH:MM:SS`, UTC. */
export function parsePlivoDate(text: string): Date {
  return new Date(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text) ? `${text.replace(' ', 'T')}Z` : text);
}

/**
 * A Plivo ring/answer/hangup callback → normalised in Twilio's vocabulary. A `completed` call that was never
 * answered is refined from its hang-up cause (busy/no-answer/canceled/failed), as Twilio would report it.
 * Throws {@link StatusCallbackError} without `CallUUID` or with an unknown `CallStatus`.
 */
export function parsePlivoStatusCallback(params: CallbackParams): CallStatusUpdate {
  const callUuid = param(params, 'CallUUID');
  const carrierStatus = param(params, 'CallStatus');
  if (!callUuid) throw new StatusCallbackError('plivo', 'CallUUID is missing');
  if (!carrierStatus) throw new StatusCallbackError('plivo', `CallStatus is missing for ${callUuid}`);
  let status = plivoCallStatus(carrierStatus);
  if (!status) throw new StatusCallbackError('plivo', `unknown CallStatus "${carrierStatus}" for ${callUuid}`);
  const cause = param(params, 'HangupCauseName') ?? param(params, 'HangupCause');
  const startedAt = dateParam(params, 'StartTime', parsePlivoDate);
  const answeredAt = dateParam(params, 'AnswerTime', parsePlivoDate);
  const endedAt = dateParam(params, 'EndTime', parsePlivoDate);
  if (status === 'completed' && answeredAt === null && cause) status = statusFromPlivoHangupCause(cause) ?? status;
  const machine = param(params, 'Machine');
  return {
    carrier: 'plivo',
    carrierCallId: callUuid,
    requestId: param(params, 'RequestUUID') ?? param(params, 'ALegRequestUUID'),
    status,
    carrierStatus,
    timestamp: endedAt ?? answeredAt ?? startedAt,
    startedAt,
    answeredAt,
    endedAt,
    durationSec: numberParam(params, 'Duration'),
    sequenceNumber: null,
    errorCode: param(params, 'HangupCauseCode'),
    hangupCause: cause,
    answeredBy: machine === null ? null : machine === 'true' ? 'machine' : 'human',
    from: param(params, 'From'),
    to: param(params, 'To'),
    direction: param(params, 'Direction'),
  };
}
