import type { ProviderMetadata } from 'ai';
import type { ModelMessage } from './context.ts';
import type { AgentTool } from './tool.ts';
import { SwitchboardError } from '../../errors.ts';

export interface LlmRequest {
  callId: string;
  system: string;
  messages: ModelMessage[];
  tools: AgentTool[];
  /** Aborting ends the stream promptly and cancels the HTTP request. */
  signal: AbortSignal;
}

export interface LlmUsage {
  inputTokens: number;
  outputTokens: number;
}

/** What a streaming generation yields, provider-neutral. */
export type LlmStreamEvent =
  | { type: 'text'; text: string }
  | {
      type: 'tool-call';
      toolCallId: string;
      toolName: string;
      input: unknown;
      /**
       * Provider data that must be echoed back with this call in history (e.g. Gemini thought signatures):
       * put it on the assistant message's tool-call part as `providerOptions` (same type, assignable as is).
       */
      providerOptions?: ProviderMetadata;
    }
  | { type: 'finish'; finishReason: string; usage: LlmUsage };

/**
 * A provider's failure, with its own status and error code when it gave one. `code` is the provider's error
 * code (OpenAI `rate_limit_exceeded`, Google `RESOURCE_EXHAUSTED`), a socket error (`ECONNREFUSED`), or
 * `timeout` when no first token / no further output came in time; `llm_error` when there is none. The base's
 * `providerCode` holds the same value (null when absent) and `httpStatus` the status (`status` here).
 */
export class LlmServiceError extends SwitchboardError {
  /** The HTTP status the provider answered with, if any (the base's `httpStatus`). */
  readonly status?: number;
  /**
   * How long the provider asked us to wait before retrying: `retry-after-ms` / `retry-after` headers, or
   * Google's `google.rpc.RetryInfo.retryDelay` in the error body. Undefined when it did not say.
   */
  readonly retryAfterMs?: number;

  /**
   * @param options.retryable whether repeating the request may succeed: HTTP 408/409/429/5xx, network
   *   failures, timeouts (the rules the Vercel AI SDK applies too). @default false
   */
  constructor(
    readonly provider: string,
    message: string,
    status?: number,
    code?: string,
    options?: { cause?: unknown; callId?: string; retryable?: boolean; retryAfterMs?: number },
  ) {
    const detail = status ? ` (HTTP ${status}${code ? `, ${code}` : ''})` : code ? ` (${code})` : '';
    super(`${provider}: ${message}${detail}`, {
      code: code ?? 'llm_error',
      callId: options?.callId,
      httpStatus: status ?? null,
      providerCode: code ?? null,
      retryable: options?.retryable ?? false,
      cause: options?.cause,
    });
    if (status !== undefined) this.status = status;
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** One LLM provider + model. Stateless between requests; safe to share across calls. */
export interface LlmService {
  /** Provider name, e.g. "openai", "google". */
  readonly provider: string;
  readonly model: string;
  /**
   * Streams one generation step: text deltas and whole tool calls (tools are NOT executed here), then
   * `finish`. Throws {@link LlmServiceError} on provider errors. Ends quietly, without throwing, when
   * `signal` aborts.
   */
  stream(request: LlmRequest): AsyncIterable<LlmStreamEvent>;
}
