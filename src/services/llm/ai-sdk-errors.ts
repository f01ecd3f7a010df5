import { APICallError, RetryError } from 'ai';
import { errorDetail, googleRetryDelayMs, networkCode, parseJson, retryAfterFromHeaders } from './llm-errors.ts';
import { LlmServiceError } from './llm-service.ts';

/**
 * Turns whatever the Vercel AI SDK throws or streams as an `error` part into an {@link LlmServiceError}
 * carrying the provider's HTTP status and error code:
 * - HTTP errors (`APICallError`): status, and the code from the body — OpenAI `error.code` (or `error.type`
 *   when the code is null), Google `error.status` (e.g. RESOURCE_EXHAUSTED); retryable as the SDK decided
 *   (408/409/429/5xx); the delay asked for in `retry-after(-ms)` headers or Google's `RetryInfo`.
 * - In-stream errors: OpenAI sends a bare `{message,type,code}` object, Gemini a wrapped `APICallError`.
 * - Network failures: the socket error code (ECONNREFUSED, ECONNRESET, …) as `code`, retryable.
 */
export function toLlmServiceError(provider: string, error: unknown, callId?: string): LlmServiceError {
  if (error instanceof LlmServiceError) return error;
  if (RetryError.isInstance(error)) return toLlmServiceError(provider, error.lastError, callId);
  if (APICallError.isInstance(error)) {
    const detail = errorDetail(error.data) ?? errorDetail(parseJson(error.responseBody));
    const status = error.statusCode;
    const code = detail?.code ?? (status === undefined ? networkCode(error) : undefined);
    const message = detail?.message ?? error.message;
    // The raw body: the SDK's parsed `data` may have dropped Google's `details`.
    const retryAfterMs = retryAfterFromHeaders(error.responseHeaders) ?? googleRetryDelayMs(parseJson(error.responseBody));
    return new LlmServiceError(provider, message, status, code, {
      cause: error,
      callId,
      retryable: error.isRetryable,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
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
