/** An error that becomes an HTTP response with a reason the client can act on. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    /** Machine-readable reason, e.g. `invalid_request`, `carrier_error`. */
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
