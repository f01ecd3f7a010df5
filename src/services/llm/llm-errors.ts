import { LlmServiceError } from './llm-service.ts';
import { HttpStatusError } from './sse-client.ts';

/**
 * Reading provider error responses, shared by the AI SDK implementation and the lean HTTP clients so both
 * map a failure to the same {@link LlmServiceError} fields.
 */

/** HTTP statuses worth retrying (the Vercel AI SDK's rule): timeout, conflict, rate limit, server errors. */
export function isRetryableStatus(status: number | undefined): boolean {
  return status !== undefined && (status === 408 || status === 409 || status === 429 || status >= 500);
}

export function parseJson(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object';
}

/**
 * Message and code of `{error:{message,code|status|type}}`, a bare `{message,…}` or an OpenAI stream error
 * frame. Google's `code` is the HTTP status (a number) and `status` the error name (`RESOURCE_EXHAUSTED`);
 * OpenAI's `code` is a string (`rate_limit_exceeded`), or null with the kind in `type`.
 */
export function errorDetail(data: unknown): { message: string; code?: string } | undefined {
  if (!isRecord(data)) return undefined;
  const inner = isRecord(data.error) ? data.error : isRecord(data.response) && isRecord(data.response.error) ? data.response.error : data;
  if (typeof inner.message !== 'string') return undefined;
  const code = [inner.code, inner.status, inner.type].find(
    (value): value is string => typeof value === 'string' && value !== '' && value !== 'error',
  );
  return { message: inner.message, ...(code ? { code } : {}) };
}

/** `retry-after-ms` (OpenAI) or `retry-after` in seconds, from response headers. */
export function retryAfterFromHeaders(headers: Record<string, string | string[] | undefined> | undefined): number | undefined {
  const header = (name: string): string => {
    const value = headers?.[name];
    return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
  };
  const ms = Number.parseFloat(header('retry-after-ms'));
  if (Number.isFinite(ms)) return ms;
  const seconds = Number.parseFloat(header('retry-after'));
  return Number.isFinite(seconds) ? seconds * 1000 : undefined;
}

const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo';

/**
 * The delay Google asks for in an error body: an `error.details[]` entry with `@type`
 * `type.googleapis.com/google.rpc.RetryInfo` and `retryDelay` as a protobuf Duration in JSON form (`"1.5s"`,
 * `"26s"`, `"3.957525076s"`; an object `{seconds, nanos}` is accepted too). Undefined when absent.
 */
export function googleRetryDelayMs(data: unknown): number | undefined {
  if (!isRecord(data) || !isRecord(data.error) || !Array.isArray(data.error.details)) return undefined;
  for (const detail of data.error.details) {
    if (!isRecord(detail) || detail['@type'] !== RETRY_INFO_TYPE) continue;
    const delay = detail.retryDelay;
    if (typeof delay === 'string') {
      const match = /^(\d+(?:\.\d+)?)s$/.exec(delay.trim());
      if (match) return Math.round(Number(match[1]) * 1000);
    } else if (isRecord(delay)) {
      const seconds = Number(delay.seconds ?? 0);
      const nanos = Number(delay.nanos ?? 0);
      if (Number.isFinite(seconds) && Number.isFinite(nanos)) return Math.round(seconds * 1000 + nanos / 1e6);
    }
  }
  return undefined;
}

/** A socket error code (`ECONNREFUSED`, `ECONNRESET`, …) or `timeout`, looked up along the cause chain. */
export function networkCode(error: unknown): string | undefined {
  for (let cause: unknown = error, depth = 0; isRecord(cause) && depth < 5; cause = cause.cause, depth++) {
    if (typeof cause.code === 'string' && /^E[A-Z]+/.test(cause.code)) return cause.code;
    if (cause.name === 'TimeoutError' || cause.name === 'HeadersTimeoutError') return 'timeout';
  }
  return undefined;
}

/** An HTTP status error, a network failure or anything else, as the AI SDK path would report it. */
export function httpError(provider: string, error: unknown, callId: string): LlmServiceError {
  if (error instanceof HttpStatusError) {
    const data = parseJson(error.body);
    const detail = errorDetail(data);
    const retryAfterMs = retryAfterFromHeaders(error.headers) ?? googleRetryDelayMs(data);
    return new LlmServiceError(provider, detail?.message ?? (error.body || error.message), error.status, detail?.code, {
      cause: error,
      callId,
      retryable: isRetryableStatus(error.status),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  const code = networkCode(error);
  if (code !== undefined && code !== 'timeout') {
    const message = error instanceof Error ? error.message : String(error);
    return new LlmServiceError(provider, `Cannot connect to API: ${message}`, undefined, code, { cause: error, callId, retryable: true });
  }
  if (error instanceof Error) return new LlmServiceError(provider, error.message, undefined, code ?? error.name, { cause: error, callId });
  return new LlmServiceError(provider, String(error), undefined, undefined, { cause: error, callId });
}
