import { SwitchboardError } from '../errors.ts';
import type { CarrierName } from './carrier.ts';

export { CALL_STATUSES, isFinalCallStatus, type CallStatus } from '../call-status.ts';
import type { CallStatus } from '../call-status.ts';

/** One carrier call-progress callback, normalised (Twilio status callback, Plivo ring/answer/hangup callback). */
export interface CallStatusUpdate {
  carrier: CarrierName;
  /** Twilio CallSid / Plivo CallUUID. */
  carrierCallId: string;
  /** Plivo `RequestUUID` (links the callback to the placement's `request_uuid`); Twilio: the CallSid. */
  requestId: string | null;
  status: CallStatus;
  /** The carrier's own status word (Twilio `initiated` maps to `queued`; Plivo `timeout` to `no-answer`). */
  carrierStatus: string;
  /** When the carrier says this happened (Twilio `Timestamp`, Plivo `EndTime`/`AnswerTime`/`StartTime`); `null` if absent. */
  timestamp: Date | null;
  startedAt: Date | null;
  answeredAt: Date | null;
  endedAt: Date | null;
  /** Call duration in seconds (Twilio `CallDuration`, Plivo `Duration`), on final callbacks. */
  durationSec: number | null;
  /** Twilio `SequenceNumber`: callbacks can arrive out of order. */
  sequenceNumber: number | null;
  /** The carrier's error code: Twilio `ErrorCode`, Plivo `HangupCauseCode`. */
  errorCode: string | null;
  /** Why the call ended: Twilio `ErrorMessage` or `sip:<SipResponseCode>`, Plivo `HangupCauseName`/`HangupCause`. */
  hangupCause: string | null;
  /** Answering-machine detection result when the carrier sent one (Twilio `AnsweredBy`, Plivo `Machine`). */
  answeredBy: string | null;
  from: string | null;
  to: string | null;
  direction: string | null;
}

/** A callback lacked the fields needed to identify the call or its state. */
export class StatusCallbackError extends SwitchboardError {
  readonly carrier: CarrierName;
  constructor(carrier: CarrierName, message: string) {
    super(`${carrier} status callback: ${message}`, { code: 'invalid_status_callback', httpStatus: 400 });
    this.carrier = carrier;
  }
}
