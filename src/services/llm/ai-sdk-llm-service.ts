import { streamText, tool, zodSchema, type LanguageModel, type TextStreamPart, type ToolSet } from 'ai';
import { toLlmServiceError } from './ai-sdk-errors.ts';
import type { LlmRequest, LlmService, LlmStreamEvent } from './llm-service.ts';
import {
  LLM_GENERATION_DEFAULTS,
  streamWithRetries,
  type LlmAttemptItem,
  type LlmGenerationOptions,
  type LlmProviderOptions,
} from './llm-stream-runner.ts';
import type { AgentTool } from './tool.ts';

export type { LlmGenerationOptions, LlmProviderOptions } from './llm-stream-runner.ts';

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

/**
 * An {@link LlmService} on the Vercel AI SDK's `streamText`: one generation step per `stream()` call, tools
 * passed without `execute` so tool calls come back to our pipeline. Works with any AI SDK provider; the
 * factories use it for the OpenAI Responses API, and for Chat Completions and Gemini when
 * `implementation: 'ai-sdk'` is chosen (the lean clients are the default there).
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

  stream(request: LlmRequest): AsyncIterable<LlmStreamEvent> {
    return streamWithRetries(
      {
        provider: this.provider,
        generation: this.settings.generation,
        toError: (error, callId) => toLlmServiceError(this.provider, error, callId),
      },
      request,
      (req, signal) => this.attempt(req, signal),
    );
  }

  /** One HTTP request through `streamText`: parts become events; an `error` part is thrown. */
  private async *attempt(request: LlmRequest, signal: AbortSignal): AsyncIterable<LlmAttemptItem> {
    const { generation } = this.settings;
    const result = streamText({
      model: this.settings.languageModel,
      system: request.system,
      messages: request.messages,
      tools: toToolSet(request.tools),
      temperature: generation.temperature,
      maxOutputTokens: generation.maxOutputTokens ?? LLM_GENERATION_DEFAULTS.maxOutputTokens,
      // Retries are ours (fast, and only before output); the SDK's back off for seconds.
      maxRetries: 0,
      abortSignal: signal,
      headers: generation.headers,
      providerOptions: mergeProviderOptions(this.settings.baseProviderOptions, generation.providerOptions),
      // Errors arrive as stream parts and are thrown from here; keep the SDK from logging them too.
      onError: () => {},
    });
    for await (const part of result.fullStream as AsyncIterable<TextStreamPart<ToolSet>>) {
      const event = toEvent(part);
      if (event) yield event;
      else if (part.type === 'error') throw part.error;
      else if (part.type === 'abort') return;
      else if (isOutput(part.type)) yield { type: 'progress' };
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

/** Output that is not an event of ours but shows the provider is still producing. */
function isOutput(type: TextStreamPart<ToolSet>['type']): boolean {
  return (
    type === 'text-delta' ||
    type === 'reasoning-delta' ||
    type === 'tool-input-start' ||
    type === 'tool-input-delta' ||
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
