import type { CallStatus } from './call-status.ts';

/** A carrier's registered name (its adapter's `name`: `twilio`, `plivo`, …). */
export type CarrierName = string;

/**
 * Name of the custom stream parameter that carries our call id (Twilio `<Parameter>`; Plivo `extraHeaders` only when
 * the id fits Plivo's `[A-Za-z0-9]` charset). The media token in the socket URL path is the authoritative binding.
 */
export const CALL_ID_PARAMETER = 'callId';

/** What the server asks a carrier to dial. */
export interface PlaceCallRequest {
  /** Our call id: carried into errors and logs, never sent to the carrier. */
  callId: string;
  /** Callee: E.164 (`+15551230000`) or, for Plivo, `sip:user@host`. Plivo numbers are sent without the `+`. */
  to: string;
  /** Caller id: one of the account's numbers, E.164. */
  from: string;
  /** URL the carrier fetches answer markup from when the callee answers (Twilio `Url`, Plivo `answer_url`). */
  answerUrl?: string;
  /** Inline answer markup (Twilio `Twiml`, ≤ 4000 chars). Twilio only; ignored by Twilio when `answerUrl` is set. */
  answerMarkup?: string;
  /**
   * Call-progress callbacks. Twilio: `StatusCallback` with events initiated/ringing/answered/completed.
   * Plivo: used as both `ring_url` and `hangup_url`.
   */
  statusCallbackUrl?: string;
  /** Where the carrier posts its asynchronous answering-machine verdict; absent: no detection. @default none */
  machineDetectionUrl?: string;
  /** Seconds to let the callee's phone ring (Twilio `Timeout`, Plivo `ring_timeout`). @default carrier default (Twilio 60, Plivo 120) */
  ringTimeoutSec?: number;
}

/** The carrier accepted a placement request. */
export interface PlacedCall {
  carrier: CarrierName;
  /**
   * The carrier's id of the call leg: Twilio CallSid. Plivo does not know it yet (`null`): its CallUUID arrives in
   * the ring/answer/hangup callbacks.
   */
  carrierCallId: string | null;
  /** The carrier's id of the placement request: Twilio CallSid (same as above), Plivo `request_uuid`. */
  requestId: string;
  status: CallStatus;
}

/** Identifies a call to hang up or fetch. */
export interface CarrierCallRef {
  /** Our call id, for errors and logs. */
  callId: string;
  /** Twilio CallSid / Plivo CallUUID, when known. */
  carrierCallId?: string | null;
  /** Twilio CallSid / Plivo `request_uuid`; used when `carrierCallId` is not known yet. */
  requestId?: string | null;
  /**
   * Whether the callee answered, when the caller knows. Twilio: `false` sends `Status=canceled` first (the only way
   * to stop a queued/ringing call) and falls back to `completed` if the call turned out to be live.
   * @default true
   */
  answered?: boolean;
}

/** A call as the carrier reports it now. */
export interface CarrierCallInfo {
  carrier: CarrierName;
  carrierCallId: string;
  status: CallStatus;
  /** The carrier's own status word, unmapped. */
  carrierStatus: string;
  from: string | null;
  to: string | null;
  direction: string | null;
  startedAt: Date | null;
  answeredAt: Date | null;
  endedAt: Date | null;
  durationSec: number | null;
}

/** The REST side of a carrier, the same for every carrier so the server treats them uniformly. */
export interface CarrierCallClient {
  readonly carrier: CarrierName;
  /** Ask the carrier to dial. Rejects with `CarrierError`. */
  placeCall(request: PlaceCallRequest): Promise<PlacedCall>;
  /** End the call. Resolves when the carrier confirmed it, or the call had already ended. Rejects with `CarrierError`. */
  hangUp(call: CarrierCallRef): Promise<void>;
  /** Current state of a call. Rejects with `CarrierError` (`httpStatus` 404 when the carrier does not know it). */
  getCall(call: CarrierCallRef): Promise<CarrierCallInfo>;
}
