import { SwitchboardError, isRetryableHttpStatus } from '../errors.ts';
import type { CarrierName } from './carrier.ts';

/** Which REST operation failed. */
export type CarrierOperation = 'placeCall' | 'hangUp' | 'getCall' | 'transfer';

export interface CarrierErrorDetails {
  carrier: CarrierName;
  operation: CarrierOperation;
  /** Our call id. */
  callId: string;
  /** HTTP status the carrier answered with; `null` when no answer arrived (network error, timeout). */
  httpStatus: number | null;
  /** The carrier's own error code: Twilio `code` (e.g. 21211), Plivo `error` text. `null` when absent. */
  carrierCode: number | string | null;
  /** The carrier's message, or the network error's. Never contains credentials. */
  carrierMessage: string;
  cause?: unknown;
}

/**
 * A carrier REST call failed. Carries our call id and the carrier's own error code (`carrierCode`, the same value
 * as the base's `providerCode`); network errors and 5xx/429 answers are retryable.
 */
export class CarrierError extends SwitchboardError {
  readonly carrier: CarrierName;
  readonly operation: CarrierOperation;
  declare readonly callId: string;
  readonly carrierCode: number | string | null;
  readonly carrierMessage: string;

  constructor(details: CarrierErrorDetails) {
    const status = details.httpStatus === null ? 'no response' : `HTTP ${details.httpStatus}`;
    const code = details.carrierCode === null ? '' : ` code ${details.carrierCode}`;
    super(`${details.carrier} ${details.operation} failed for call ${details.callId} (${status}${code}): ${details.carrierMessage}`, {
      code: 'carrier_error',
      callId: details.callId,
      httpStatus: details.httpStatus,
      providerCode: details.carrierCode,
      retryable: isRetryableHttpStatus(details.httpStatus),
      cause: details.cause,
    });
    this.carrier = details.carrier;
    this.operation = details.operation;
    this.carrierCode = details.carrierCode;
    this.carrierMessage = details.carrierMessage;
  }
}
