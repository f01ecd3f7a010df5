import { SwitchboardError } from '../errors.ts';

/** An error that becomes an HTTP response with a reason the client can act on. */
export class HttpError extends SwitchboardError {
  constructor(
    readonly statusCode: number,
    /** Machine-readable reason, e.g. `invalid_request`, `carrier_error`. */
    code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    const callId = typeof details?.callId === 'string' ? details.callId : undefined;
    super(message, { code, httpStatus: statusCode, callId, retryable: statusCode === 503 || statusCode === 502 });
  }
}
