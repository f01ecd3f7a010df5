import { APICallError, RetryError } from 'ai';
import { LlmServiceError } from './llm-service.ts';

/**
 * Turns whatever the Vercel AI SDK throws or streams as an `error` part into an {@link LlmServiceError}
 * carrying the provider's HTTP status and error code:
 * - HTTP errors (`APICallError`): status, and the code from the body — OpenAI `error.code` (or `error.type`
 *   when the code is null), Google `error.status` (e.g. RESOURCE_EXHAUSTED).
 * - In-stream errors: OpenAI sends a bare `{message,type,code}` object, Gemini a wrapped `APICallError`.
 * - Network failures: the socket error code (ECONNREFUSED, ECONNRESET, …) as `code`.
 */
export function toLlmServiceError(provider: string, error: unknown, callId?: string): LlmServiceError {
  if (error instanceof LlmServiceError) return error;
  if (RetryError.isInstance(error)) return toLlmServiceError(provider, error.lastError, callId);
  if (APICallError.isInstance(error)) {
    const detail = errorDetail(error.data) ?? errorDetail(parseJson(error.responseBody));
    const status = error.statusCode;
    const code = detail?.code ?? (status === undefined ? networkCode(error) : undefined);
    const message = detail?.message ?? error.message;
    return new LlmServiceError(provider, message, status, code, { cause: error, callId });
  }
  const detail = errorDetail(error);
  if (detail) return new LlmServiceError(provider, detail.message, undefined, detail.code, { cause: error, callId });
  if (error instanceof Error) {
    return new LlmServiceError(provider, error.message, undefined, networkCode(error) ?? error.name, {
      cause: error,
      callId,
    });
  }
  return new LlmServiceError(provider, String(error), undefined, undefined, { cause: error, callId });
}

/** Whether a failed request is worth repeating: rate limits, overload, server errors, network failures. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof LlmServiceError) {
    if (error.code === 'timeout') return true;
    return error.cause !== undefined && isRetryable(error.cause);
  }
  if (RetryError.isInstance(error)) return isRetryable(error.lastError);
  if (APICallError.isInstance(error)) return error.isRetryable;
  return false;
}

/** How long the provider asked us to wait (`retry-after-ms` / `retry-after`), if it did. */
export function retryAfterMs(error: unknown): number | undefined {
  const cause = error instanceof LlmServiceError ? error.cause : error;
  if (!APICallError.isInstance(cause)) return undefined;
  const headers = cause.responseHeaders ?? {};
  const ms = Number.parseFloat(headers['retry-after-ms'] ?? '');
  if (Number.isFinite(ms)) return ms;
  const seconds = Number.parseFloat(headers['retry-after'] ?? '');
  return Number.isFinite(seconds) ? seconds * 1000 : undefined;
}

function parseJson(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object';
}

/** `{error:{message,code|status|type}}`, a bare `{message,…}` or an OpenAI stream error frame. */
function errorDetail(data: unknown): { message: string; code?: string } | undefined {
  if (!isRecord(data)) return undefined;
  const inner = isRecord(data.error) ? data.error : isRecord(data.response) && isRecord(data.response.error) ? data.response.error : data;
  if (typeof inner.message !== 'string') return undefined;
  // Google's `code` is the HTTP status (a number) and `status` the error name; OpenAI's `code` is a string.
  const code = [inner.code, inner.status, inner.type].find(
    (value): value is string => typeof value === 'string' && value !== '' && value !== 'error',
  );
  return { message: inner.message, ...(code ? { code } : {}) };
}

function networkCode(error: unknown): string | undefined {
  for (let cause: unknown = error, depth = 0; isRecord(cause) && depth < 5; cause = cause.cause, depth++) {
    if (typeof cause.code === 'string' && /^E[A-Z]+/.test(cause.code)) return cause.code;
    if (cause.name === 'TimeoutError' || cause.name === 'HeadersTimeoutError') return 'timeout';
  }
  return undefined;
}
