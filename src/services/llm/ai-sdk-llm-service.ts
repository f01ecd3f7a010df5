import { streamText, tool, zodSchema, type JSONValue, type LanguageModel, type TextStreamPart, type ToolSet } from 'ai';
import { isRetryable, retryAfterMs, toLlmServiceError } from './ai-sdk-errors.ts';
import { LlmServiceError, type LlmRequest, type LlmService, type LlmStreamEvent } from './llm-service.ts';
import type { AgentTool } from './tool.ts';
import { abortableSleep } from '../../util/abortable-sleep.ts';

/** Provider-specific request options, keyed by provider (`{ openai: {...} }`, `{ google: {...} }`). */
export type LlmProviderOptions = Record<string, Record<string, JSONValue>>;

/**
 * Generation and resilience settings shared by every AI SDK-backed service. The defaults suit a live phone
 * call: fail fast and retry at most once, quickly, rather than leave the caller in silence.
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
  /** Pause before a retry when the provider gives no retry-after. @default 250 */
  retryDelayMs?: number;
  /** Longest provider retry-after honoured; when it asks for longer, the error is thrown instead. @default 1000 */
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
  /** Passed to `streamText` as `providerOptions`, merged over the service's own. @default {} */
  providerOptions?: LlmProviderOptions;
}

/** What an {@link AiSdkLlmService} is built from (any AI SDK language model works). */
export interface AiSdkServiceSettings {
  /** Name in errors and logs, e.g. "openai". */
  provider: string;
  model: string;
  languageModel: LanguageModel;
  generation: LlmGenerationOptions;
  /** Options the service itself needs (e.g. Responses `store: false`); the user's `providerOptions` win. */
  baseProviderOptions: LlmProviderOptions;
}

const defaults = {
  maxOutputTokens: 1024,
  maxRetries: 1,
  retryDelayMs: 250,
  maxRetryDelayMs: 1000,
  firstTokenTimeoutMs: 5000,
  idleTimeoutMs: 5000,
} as const;

/**
 * An {@link LlmService} on the Vercel AI SDK's `streamText`: one generation step per `stream()` call, tools
 * passed without `execute` so tool calls come back to our pipeline. The provider factories
 * (`createOpenAILlm`, `createGoogleLlm`, `createOpenAICompatibleLlm`) build these.
 */
export class AiSdkLlmService implements LlmService {
  readonly provider: string;
  readonly model: string;
  private readonly settings: AiSdkServiceSettings;

  constructor(settings: AiSdkServiceSettings) {
    this.settings = settings;
    this.provider = settings.provider;
    this.model = settings.model;
  }

  async *stream(request: LlmRequest): AsyncIterable<LlmStreamEvent> {
    const maxRetries = this.settings.generation.maxRetries ?? defaults.maxRetries;
    for (let attempt = 0; ; attempt++) {
      if (request.signal.aborted) return;
      let emitted = false;
      try {
        for await (const event of this.attempt(request)) {
          emitted = true;
          yield event;
        }
        return;
      } catch (error) {
        if (request.signal.aborted) return;
        const failure = toLlmServiceError(this.provider, error, request.callId);
        const delay = this.retryDelay(failure);
        if (emitted || attempt >= maxRetries || !isRetryable(failure) || delay === undefined) throw failure;
        await abortableSleep(delay, request.signal);
      }
    }
  }

  /** How long to wait before retrying, or undefined when the provider asked for longer than we accept. */
  private retryDelay(error: LlmServiceError): number | undefined {
    const { retryDelayMs = defaults.retryDelayMs, maxRetryDelayMs = defaults.maxRetryDelayMs } = this.settings.generation;
    const asked = retryAfterMs(error);
    if (asked === undefined) return retryDelayMs;
    return asked <= maxRetryDelayMs ? Math.max(0, asked) : undefined;
  }

  /** One HTTP request: streams events, throws on errors and timeouts, returns quietly when the caller aborts. */
  private async *attempt(request: LlmRequest): AsyncIterable<LlmStreamEvent> {
    const { generation } = this.settings;
    const controller = new AbortController();
    const forwardAbort = (): void => controller.abort(request.signal.reason);
    request.signal.addEventListener('abort', forwardAbort, { once: true });

    let timeoutError: LlmServiceError | undefined;
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number, what: string): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timeoutError = new LlmServiceError(this.provider, `${what} within ${ms} ms`, undefined, 'timeout', {
          callId: request.callId,
        });
        controller.abort(timeoutError);
      }, ms);
    };
    arm(generation.firstTokenTimeoutMs ?? defaults.firstTokenTimeoutMs, 'no response');
    let finished = false;

    try {
      const result = streamText({
        model: this.settings.languageModel,
        system: request.system,
        messages: request.messages,
        tools: toToolSet(request.tools),
        temperature: generation.temperature,
        maxOutputTokens: generation.maxOutputTokens ?? defaults.maxOutputTokens,
        // Retries are ours (fast, and only before output); the SDK's back off for seconds.
        maxRetries: 0,
        abortSignal: controller.signal,
        headers: generation.headers,
        providerOptions: mergeProviderOptions(this.settings.baseProviderOptions, generation.providerOptions),
        // Errors arrive as stream parts and are thrown from here; keep the SDK from logging them too.
        onError: () => {},
      });
      const idleMs = generation.idleTimeoutMs ?? defaults.idleTimeoutMs;
      for await (const part of result.fullStream as AsyncIterable<TextStreamPart<ToolSet>>) {
        if (isOutput(part.type)) arm(idleMs, 'no further output');
        const event = toEvent(part);
        if (event) {
          if (event.type === 'finish') finished = true;
          // The clock stops while the consumer holds the event: a slow consumer is not a stalled provider.
          clearTimeout(timer);
          yield event;
          if (!finished) arm(idleMs, 'no further output');
        } else if (part.type === 'error') {
          throw part.error;
        } else if (part.type === 'abort') {
          if (timeoutError) throw timeoutError;
          return;
        }
      }
      if (timeoutError) throw timeoutError;
    } catch (error) {
      if (timeoutError && !request.signal.aborted) throw timeoutError;
      throw error;
    } finally {
      clearTimeout(timer);
      request.signal.removeEventListener('abort', forwardAbort);
      // The consumer stopped early (or we threw): cancel the HTTP request.
      if (!finished) controller.abort();
    }
  }
}

/** The stream part as our event, if it is one we pass on. */
function toEvent(part: TextStreamPart<ToolSet>): LlmStreamEvent | undefined {
  switch (part.type) {
    case 'text-delta':
      return part.text === '' ? undefined : { type: 'text', text: part.text };
    case 'tool-call':
      // Invalid calls (unknown tool, arguments failing the schema) come through too, with the raw input:
      // the pipeline validates and answers the model with an error result.
      return {
        type: 'tool-call',
        toolCallId: part.toolCallId,
        toolName: part.toolName,
        input: part.input,
        ...(part.providerMetadata ? { providerOptions: part.providerMetadata } : {}),
      };
    case 'finish':
      return {
        type: 'finish',
        finishReason: part.finishReason,
        usage: { inputTokens: part.totalUsage.inputTokens ?? 0, outputTokens: part.totalUsage.outputTokens ?? 0 },
      };
    default:
      return undefined;
  }
}

function isOutput(type: TextStreamPart<ToolSet>['type']): boolean {
  return (
    type === 'text-delta' ||
    type === 'reasoning-delta' ||
    type === 'tool-input-start' ||
    type === 'tool-input-delta' ||
    type === 'tool-call' ||
    type === 'finish-step'
  );
}

/**
 * Tool sets by the tools array they were built from. A call's tools are one array for the whole call, so its
 * zod schemas are converted to JSON Schema once, not on every request (the SDK caches the conversion per
 * schema object, and `tool({ inputSchema: zod })` would make a new one each time).
 */
const toolSets = new WeakMap<AgentTool[], { tools: AgentTool[]; set: ToolSet }>();

/** Our tools as AI SDK tools without `execute`: the SDK returns the calls, the pipeline runs them. */
export function toToolSet(tools: AgentTool[]): ToolSet | undefined {
  if (tools.length === 0) return undefined;
  const cached = toolSets.get(tools);
  // The array may have been changed in place since (a tool added or swapped): then build anew.
  if (cached && cached.tools.length === tools.length && cached.tools.every((t, i) => t === tools[i])) return cached.set;
  const set: ToolSet = {};
  for (const agentTool of tools) {
    set[agentTool.name] = tool({ description: agentTool.description, inputSchema: zodSchema(agentTool.parameters) });
  }
  toolSets.set(tools, { tools: [...tools], set });
  return set;
}

function mergeProviderOptions(base: LlmProviderOptions, overrides: LlmProviderOptions | undefined): LlmProviderOptions | undefined {
  const merged: LlmProviderOptions = { ...base };
  for (const [provider, options] of Object.entries(overrides ?? {})) {
    merged[provider] = { ...merged[provider], ...options };
  }
  return Object.keys(merged).length > 0 ? merged : undefined;
}
