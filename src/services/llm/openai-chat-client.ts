/**
 * OpenAI Chat Completions streaming (`POST {baseURL}/chat/completions`, `stream: true`) on the small SSE
 * client: the lean implementation behind `createOpenAILlm` and `createOpenAICompatibleLlm`. It sends the
 * request the Vercel AI SDK's `openai.chat()` model sends for the same conversation (messages, tools as
 * closed JSON Schema, `max_tokens` — `max_completion_tokens` and a `developer` message for reasoning
 * models — `stream_options.include_usage`) and maps chunks, tool-call deltas, usage, finish reasons and
 * errors the same way.
 */
import { errorDetail, httpError, isRecord, isRetryableStatus, parseJson } from './llm-errors.ts';
import { toPrompt, toolOutputText, type PromptMessage } from './llm-prompt.ts';
import { LlmServiceError, type LlmRequest, type LlmService, type LlmStreamEvent } from './llm-service.ts';
import { LLM_GENERATION_DEFAULTS, streamWithRetries, type LlmAttemptItem, type LlmGenerationOptions } from './llm-stream-runner.ts';
import { createSseAgents, postForEvents, type SseAgents } from './sse-client.ts';
import { generatedCallId, toolCallInput, toolJsonSchema } from './tool-schema.ts';
import type { AgentTool } from './tool.ts';

export interface OpenAIChatClientSettings {
  /** Name in errors and logs. */
  provider: string;
  model: string;
  /** API root including the version segment, e.g. `https://api.openai.com/v1`. */
  baseURL: string;
  /** Bearer key, read when a request is made; without one no `Authorization` header is sent. */
  apiKey: () => string | undefined;
  /** Fail without sending when there is no key (OpenAI itself); other servers may need none. */
  requireApiKey: boolean;
  organization?: string | undefined;
  project?: string | undefined;
  generation: LlmGenerationOptions;
}

interface ToolCallDelta {
  index?: number;
  id?: string | null;
  function?: { name?: string | null; arguments?: string | null };
}

interface ChatChunk {
  error?: unknown;
  choices?: Array<{
    delta?: { content?: string | null; refusal?: string | null; tool_calls?: ToolCallDelta[] | null } | null;
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
}

interface PendingToolCall {
  index: number;
  id: string;
  /** The server sent no id (yet): ours stands in. */
  idGenerated: boolean;
  name: string;
  arguments: string;
}

/** Reasoning models (o-series, gpt-5+ except chat variants) take `developer` messages and no temperature. */
export function isOpenAIReasoningModel(model: string): boolean {
  if (/^o\d+(?:-|$)/.test(model)) return true;
  const gpt = /^gpt-(\d+)(?:\.(\d+))?(?:-(.+))?$/.exec(model);
  if (!gpt) return false;
  const isChatVariant = gpt[2] === undefined && (gpt[3] ?? '').startsWith('chat');
  return Number(gpt[1]) >= 5 && !isChatVariant;
}

export class OpenAIChatLlmService implements LlmService {
  readonly provider: string;
  readonly model: string;
  private readonly url: URL;
  private readonly agents: SseAgents = createSseAgents();
  private readonly reasoning: boolean;

  constructor(private readonly settings: OpenAIChatClientSettings) {
    this.provider = settings.provider;
    this.model = settings.model;
    this.url = new URL(`${settings.baseURL.replace(/\/+$/, '')}/chat/completions`);
    this.reasoning = isOpenAIReasoningModel(settings.model);
  }

  stream(request: LlmRequest): AsyncIterable<LlmStreamEvent> {
    return streamWithRetries(
      { provider: this.provider, generation: this.settings.generation, toError: (error, callId) => this.toError(error, callId) },
      request,
      (req, signal) => this.attempt(req, signal),
    );
  }

  private headers(callId: string): Record<string, string> {
    const { organization, project, generation } = this.settings;
    const apiKey = this.settings.apiKey();
    if (apiKey === undefined && this.settings.requireApiKey) {
      throw new LlmServiceError(
        this.provider,
        'OpenAI API key is missing. Pass it as `apiKey` or set OPENAI_API_KEY.',
        undefined,
        'missing_api_key',
        { callId },
      );
    }
    return {
      ...(apiKey !== undefined ? { authorization: `Bearer ${apiKey}` } : {}),
      ...(organization ? { 'openai-organization': organization } : {}),
      ...(project ? { 'openai-project': project } : {}),
      ...generation.headers,
    };
  }

  private body(request: LlmRequest): string {
    const { generation } = this.settings;
    const maxTokens = generation.maxOutputTokens ?? LLM_GENERATION_DEFAULTS.maxOutputTokens;
    const prompt = toPrompt(this.provider, request.system, request.messages, request.callId);
    return JSON.stringify({
      model: this.model,
      ...(this.reasoning ? { max_completion_tokens: maxTokens } : { max_tokens: maxTokens, temperature: generation.temperature }),
      messages: toChatMessages(prompt, this.reasoning),
      // `tool_choice: auto` is what the AI SDK sends with tools (and the API's default).
      ...(request.tools.length > 0 ? { tools: request.tools.map(toChatTool), tool_choice: 'auto' } : {}),
      stream: true,
      stream_options: { include_usage: true },
    });
  }

  private async *attempt(request: LlmRequest, signal: AbortSignal): AsyncIterable<LlmAttemptItem> {
    const events = postForEvents({
      url: this.url,
      headers: this.headers(request.callId),
      body: this.body(request),
      signal,
      agents: this.agents,
    });
    const calls = new Map<number, PendingToolCall>();
    let output = false;
    let refusal = false;
    let rawFinish: string | undefined;
    let usage = { inputTokens: 0, outputTokens: 0 };
    for await (const event of events) {
      // Read on to the end of the response (it follows at once), so the connection is kept for reuse.
      if (event.data === '[DONE]') continue;
      const parsed = parseJson(event.data);
      if (!isRecord(parsed)) {
        throw new LlmServiceError(this.provider, 'invalid JSON in the event stream', undefined, 'invalid_response', {
          callId: request.callId,
        });
      }
      const chunk = parsed as ChatChunk;
      if (event.event === 'error' || (chunk.error !== undefined && chunk.error !== null))
        throw this.streamError(chunk, output, request.callId);
      if (chunk.usage) usage = { inputTokens: chunk.usage.prompt_tokens ?? 0, outputTokens: chunk.usage.completion_tokens ?? 0 };
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      if (choice.finish_reason) rawFinish = choice.finish_reason;
      const delta = choice.delta;
      if (!delta) continue;
      if (delta.content) {
        output = true;
        yield { type: 'text', text: delta.content };
      }
      if (delta.refusal) {
        output = refusal = true;
        yield { type: 'text', text: delta.refusal };
      }
      if (delta.tool_calls && delta.tool_calls.length > 0) {
        output = true;
        for (const call of delta.tool_calls) addToolCallDelta(calls, call);
        yield { type: 'progress' };
      }
    }
    for (const call of [...calls.values()].sort((a, b) => a.index - b.index)) {
      if (!call.name) continue;
      yield { type: 'tool-call', toolCallId: call.id, toolName: call.name, input: toolCallInput(request.tools, call.name, call.arguments) };
    }
    yield { type: 'finish', finishReason: finishReason(rawFinish, refusal), usage };
  }

  /**
   * An error frame in the stream. Before any output it stands for the whole request (status derived from
   * its code, retryable like an HTTP error); after output it ends the stream (no status).
   */
  private streamError(chunk: ChatChunk, output: boolean, callId: string): LlmServiceError {
    const frame: Record<string, unknown> = isRecord(chunk.error) ? chunk.error : (chunk as Record<string, unknown>);
    const detail = errorDetail(chunk) ?? { message: 'OpenAI stream failed' };
    if (output) return new LlmServiceError(this.provider, detail.message, undefined, detail.code, { callId });
    const status = streamErrorStatus(frame);
    const quota = frame.code === 'insufficient_quota' || frame.type === 'insufficient_quota';
    return new LlmServiceError(this.provider, detail.message, status, detail.code, {
      callId,
      retryable: !quota && isRetryableStatus(status),
    });
  }

  private toError(error: unknown, callId: string): LlmServiceError {
    return error instanceof LlmServiceError ? error : httpError(this.provider, error, callId);
  }
}

function addToolCallDelta(calls: Map<number, PendingToolCall>, delta: ToolCallDelta): void {
  const index = delta.index ?? (delta.id ? [...calls.values()].find((c) => c.id === delta.id)?.index : undefined) ?? calls.size;
  let call = calls.get(index);
  if (!call) {
    call = { index, id: delta.id || generatedCallId(), idGenerated: !delta.id, name: '', arguments: '' };
    calls.set(index, call);
  } else if (delta.id && call.idGenerated) {
    call.id = delta.id;
    call.idGenerated = false;
  }
  if (delta.function?.name) call.name = delta.function.name;
  if (delta.function?.arguments) call.arguments += delta.function.arguments;
}

function finishReason(raw: string | undefined, refusal: boolean): string {
  switch (raw) {
    case 'stop':
      return refusal ? 'content-filter' : 'stop';
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content-filter';
    case 'function_call':
    case 'tool_calls':
      return 'tool-calls';
    default:
      return 'other';
  }
}

/** The HTTP status an in-stream error frame stands for (by its numeric code, else by the words in it). */
function streamErrorStatus(frame: Record<string, unknown>): number {
  const code = frame.code;
  const numeric = typeof code === 'number' ? code : typeof code === 'string' && /^\d{3}$/.test(code) ? Number(code) : undefined;
  if (numeric !== undefined && numeric >= 400 && numeric <= 599) return numeric;
  const words = [frame.code, frame.type]
    .filter((value) => typeof value === 'string' || typeof value === 'number')
    .join(' ')
    .toLowerCase();
  if (words.includes('insufficient_quota') || words.includes('rate_limit')) return 429;
  if (words.includes('authentication')) return 401;
  if (words.includes('permission')) return 403;
  if (words.includes('not_found')) return 404;
  if (['invalid', 'bad_request', 'context_length'].some((term) => words.includes(term))) return 400;
  if (words.includes('overload')) return 503;
  if (words.includes('timeout')) return 504;
  return 500;
}

function toChatTool(tool: AgentTool): object {
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters: toolJsonSchema(tool) } };
}

/** The conversation as Chat Completions messages (the AI SDK's mapping for text, tool calls and results). */
function toChatMessages(prompt: PromptMessage[], reasoning: boolean): object[] {
  const messages: object[] = [];
  for (const message of prompt) {
    switch (message.role) {
      case 'system':
        messages.push({ role: reasoning ? 'developer' : 'system', content: message.content });
        break;
      case 'user': {
        const [only] = message.content;
        if (message.content.length === 1 && only?.type === 'text') messages.push({ role: 'user', content: only.text });
        else
          messages.push({
            role: 'user',
            content: message.content.flatMap((p) => (p.type === 'text' ? [{ type: 'text', text: p.text }] : [])),
          });
        break;
      }
      case 'assistant': {
        let text = '';
        const toolCalls: object[] = [];
        for (const part of message.content) {
          if (part.type === 'text') text += part.text;
          else if (part.type === 'tool-call') {
            toolCalls.push({
              id: part.toolCallId,
              type: 'function',
              function: { name: part.toolName, arguments: serializeArguments(part.input) },
            });
          }
        }
        messages.push({
          role: 'assistant',
          content: toolCalls.length > 0 ? text || null : text,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        });
        break;
      }
      case 'tool':
        for (const part of message.content) {
          if (part.type === 'tool-result')
            messages.push({ role: 'tool', tool_call_id: part.toolCallId, content: toolOutputText(part.output) });
        }
        break;
    }
  }
  return messages;
}

/** Tool-call arguments as a JSON object string (non-objects become `{}`, as the AI SDK sends them). */
function serializeArguments(input: unknown): string {
  if (typeof input === 'string') {
    const parsed = parseJson(input);
    return isRecord(parsed) && !Array.isArray(parsed) ? input : '{}';
  }
  return JSON.stringify(isRecord(input) && !Array.isArray(input) ? input : {});
}
