/**
 * What every LLM service implementation shares: generation settings, and the loop around one streamed
 * request — time limits (first output, gaps between outputs), retries of requests that failed before any
 * output, and abort. Implementations supply one attempt (one HTTP request) as an async iterable.
 */
import type { JSONValue } from 'ai';
import { abortableSleep } from '../../util/abortable-sleep.ts';
import { LlmServiceError, type LlmRequest, type LlmStreamEvent } from './llm-service.ts';

/** Provider-specific request options for the AI SDK implementation, keyed by provider (`{ openai: {...} }`). */
export type LlmProviderOptions = Record<string, Record<string, JSONValue>>;

/**
 * Generation and resilience settings shared by every service. The defaults suit a live phone call: fail
 * fast and retry at most once, quickly, rather than leave the caller in silence.
 */
export interface LlmGenerationOptions {
  /** Sampling temperature. @default undefined (the provider's default) */
  temperature?: number;
  /** Most tokens one response may generate (a safety net; spoken replies are far shorter). @default 1024 */
  maxOutputTokens?: number;
  /**
   * Retries of a request that failed before producing any output: HTTP 408/409/429/5xx, network errors and
   * first-token timeouts. A response that already streamed something is never retried. @default 1
   */
  maxRetries?: number;
  /** Pause before a retry when the provider gives no retry delay. @default 250 */
  retryDelayMs?: number;
  /**
   * Longest provider-requested retry delay still worth waiting for on a live call: `retry-after(-ms)`
   * headers, or the `google.rpc.RetryInfo` `retryDelay` in a Gemini 429 body. When the provider asks for
   * longer, the request fails at once (the caller hears the fallback line instead of a long silence).
   * About two seconds of extra silence is what a caller tolerates before a turn feels broken. @default 2000
   */
  maxRetryDelayMs?: number;
  /**
   * From sending the request to the first output (text, reasoning or tool call); on expiry the request is
   * cancelled and fails (or is retried) with code `timeout`. @default 5000
   */
  firstTokenTimeoutMs?: number;
  /** Longest gap between stream events once output has started. @default 5000 */
  idleTimeoutMs?: number;
  /** Extra HTTP headers on every request. @default {} */
  headers?: Record<string, string>;
  /**
   * AI SDK `providerOptions` (`streamText`), merged over the service's own. Only the AI SDK implementation
   * understands them: setting any selects it. @default {}
   */
  providerOptions?: LlmProviderOptions;
}

/** The defaults of {@link LlmGenerationOptions}, defined once. */
export const LLM_GENERATION_DEFAULTS = {
  maxOutputTokens: 1024,
  maxRetries: 1,
  retryDelayMs: 250,
  maxRetryDelayMs: 2000,
  firstTokenTimeoutMs: 5000,
  idleTimeoutMs: 5000,
} as const;

/** What an attempt yields: events, and `progress` for output that is not an event (tool-call argument deltas). */
export type LlmAttemptItem = LlmStreamEvent | { type: 'progress' };

/**
 * One HTTP request. Yields as output arrives; throws on failure (any error, mapped by `toError`); when
 * `signal` aborts it cancels the request and ends (quietly or by throwing — either is fine).
 */
export type LlmAttempt = (request: LlmRequest, signal: AbortSignal) => AsyncIterable<LlmAttemptItem>;

export interface LlmStreamSettings {
  provider: string;
  generation: LlmGenerationOptions;
  /** Maps whatever an attempt threw to our error. */
  toError(error: unknown, callId: string): LlmServiceError;
}

/**
 * Streams one generation step with the shared time limits and retries; ends quietly when the request's
 * signal aborts. See {@link LlmService.stream}.
 */
export async function* streamWithRetries(
  settings: LlmStreamSettings,
  request: LlmRequest,
  attempt: LlmAttempt,
): AsyncIterable<LlmStreamEvent> {
  const { generation } = settings;
  const maxRetries = generation.maxRetries ?? LLM_GENERATION_DEFAULTS.maxRetries;
  const idleMs = generation.idleTimeoutMs ?? LLM_GENERATION_DEFAULTS.idleTimeoutMs;
  for (let attemptIndex = 0; ; attemptIndex++) {
    if (request.signal.aborted) return;
    const run = new AttemptControl(settings.provider, request);
    run.watchdog.arm(generation.firstTokenTimeoutMs ?? LLM_GENERATION_DEFAULTS.firstTokenTimeoutMs, 'no response');
    let emitted = false;
    let finished = false;
    let delay: number | undefined;
    try {
      for await (const item of attempt(request, run.signal)) {
        if (run.signal.aborted) break;
        if (item.type === 'progress') {
          run.watchdog.arm(idleMs, 'no further output');
          continue;
        }
        if (item.type === 'finish') finished = true;
        // The clock stops while the consumer holds the event: a slow consumer is not a stalled provider.
        run.watchdog.pause();
        emitted = true;
        yield item;
        if (!finished) run.watchdog.arm(idleMs, 'no further output');
      }
      if (run.timeoutError) throw run.timeoutError;
      return;
    } catch (error) {
      if (request.signal.aborted) return;
      const failure = run.timeoutError ?? settings.toError(error, request.callId);
      delay = retryDelay(generation, failure);
      if (emitted || attemptIndex >= maxRetries || !failure.retryable || delay === undefined) throw failure;
    } finally {
      // The consumer stopped early (or the attempt failed): cancel the HTTP request.
      run.close(finished);
    }
    await abortableSleep(delay, request.signal);
  }
}

/** How long to wait before retrying, or undefined when the provider asked for longer than we accept. */
function retryDelay(generation: LlmGenerationOptions, error: LlmServiceError): number | undefined {
  const { retryDelayMs = LLM_GENERATION_DEFAULTS.retryDelayMs, maxRetryDelayMs = LLM_GENERATION_DEFAULTS.maxRetryDelayMs } = generation;
  const asked = error.retryAfterMs;
  if (asked === undefined) return retryDelayMs;
  return asked <= maxRetryDelayMs ? Math.max(0, asked) : undefined;
}

/** One attempt's cancellation: the caller's abort, the watchdog's timeout, or the consumer leaving. */
class AttemptControl {
  private readonly controller = new AbortController();
  private readonly forwardAbort: () => void;
  readonly watchdog: Watchdog;
  timeoutError: LlmServiceError | undefined;

  constructor(
    provider: string,
    private readonly request: LlmRequest,
  ) {
    this.forwardAbort = () => this.controller.abort(request.signal.reason);
    request.signal.addEventListener('abort', this.forwardAbort, { once: true });
    this.watchdog = new Watchdog((what, ms) => {
      this.timeoutError = new LlmServiceError(provider, `${what} within ${ms} ms`, undefined, 'timeout', {
        callId: request.callId,
        retryable: true,
      });
      this.controller.abort(this.timeoutError);
    });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  close(finished: boolean): void {
    this.watchdog.stop();
    this.request.signal.removeEventListener('abort', this.forwardAbort);
    if (!finished) this.controller.abort();
  }
}

/**
 * A deadline checked lazily: one timer that is only moved when it fires before the deadline, so keeping a
 * stream alive token by token costs a clock read, not a timer per token.
 */
class Watchdog {
  private deadline = 0;
  private timer: NodeJS.Timeout | undefined;
  private paused = false;
  private what = '';
  private ms = 0;

  constructor(private readonly expire: (what: string, ms: number) => void) {}

  /** (Re)starts the clock: `what` fails `ms` from now unless armed again or paused. */
  arm(ms: number, what: string): void {
    this.ms = ms;
    this.what = what;
    this.deadline = performance.now() + ms;
    this.paused = false;
    if (this.timer === undefined) this.schedule(ms);
  }

  /** Stops the clock until the next `arm`. */
  pause(): void {
    this.paused = true;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.paused = true;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.paused) return; // arm() schedules again
      const left = this.deadline - performance.now();
      if (left > 1) this.schedule(left);
      else this.expire(this.what, this.ms);
    }, ms);
  }
}
