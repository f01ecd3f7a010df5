/**
 * The one error base every Switchboard error extends, so callers, logs and the HTTP layer read the same fields
 * whichever part failed: which call, which HTTP status was involved, the carrier's or provider's own code, and
 * whether trying again can help.
 */
export interface SwitchboardErrorOptions {
  /** Machine-readable reason, e.g. `carrier_error`, `invalid_request`. @default the error's class name */
  code?: string;
  /** Our call id, when the error belongs to a call. @default undefined */
  callId?: string | undefined;
  /**
   * The HTTP status involved: what a carrier or provider answered with (`null` when no answer arrived), or, for
   * a request we refuse, the status we answer with. @default null
   */
  httpStatus?: number | null;
  /** The carrier's or provider's own error code (Twilio `21211`, Deepgram `INVALID_AUTH`). @default null */
  providerCode?: string | number | null;
  /** Whether the same operation may succeed if tried again (network errors, 5xx, rate limits). @default false */
  retryable?: boolean;
  cause?: unknown;
}

export class SwitchboardError extends Error {
  readonly code: string;
  readonly callId: string | undefined;
  readonly httpStatus: number | null;
  readonly providerCode: string | number | null;
  readonly retryable: boolean;

  constructor(message: string, options: SwitchboardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? new.target.name;
    this.callId = options.callId;
    this.httpStatus = options.httpStatus ?? null;
    this.providerCode = options.providerCode ?? null;
    this.retryable = options.retryable ?? false;
  }
}

/** HTTP statuses after which the same request may succeed: timeouts, rate limits and server errors. */
export function isRetryableHttpStatus(status: number | null): boolean {
  return status === null || status === 408 || status === 429 || status >= 500;
}

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
