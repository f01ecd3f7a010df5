/**
 * Gemini `streamGenerateContent?alt=sse` (Developer API) on the small SSE client: the lean implementation
 * behind `createGoogleLlm`. It sends the request `@ai-sdk/google` sends for the same conversation
 * (`systemInstruction`, `contents` with `functionCall` / `functionResponse` parts and thought signatures,
 * `functionDeclarations` in Gemini's OpenAPI schema subset, `generationConfig`) and maps chunks, whole tool
 * calls (Gemini sends no argument deltas and often no id: one is made up), usage, finish reasons and errors
 * (HTTP and in-stream, with `RetryInfo` delays) the same way.
 */
import type { ToolResultPart } from 'ai';
import { httpError, isRecord, isRetryableStatus, parseJson } from './llm-errors.ts';
import { toPrompt, type PartOptions, type PromptMessage } from './llm-prompt.ts';
import { LlmServiceError, type LlmRequest, type LlmService, type LlmStreamEvent } from './llm-service.ts';
import { LLM_GENERATION_DEFAULTS, streamWithRetries, type LlmAttemptItem, type LlmGenerationOptions } from './llm-stream-runner.ts';
import { createSseAgents, postForEvents, type SseAgents } from './sse-client.ts';
import { generatedCallId, toGeminiSchema, toolCallInput, toolJsonSchema } from './tool-schema.ts';
import type { AgentTool } from './tool.ts';

export interface GeminiClientSettings {
  /** Name in errors and logs. */
  provider: string;
  model: string;
  /** API root including the version segment, e.g. `https://generativelanguage.googleapis.com/v1beta`. */
  baseURL: string;
  /** Read when a request is made. */
  apiKey: () => string | undefined;
  /** `generationConfig.thinkingConfig.thinkingBudget`, if any. */
  thinkingBudget: number | undefined;
  generation: LlmGenerationOptions;
}

interface GeminiPart {
  text?: string;
  thought?: boolean;
  thoughtSignature?: string;
  functionCall?: { id?: string; name?: string; args?: unknown };
}

interface GeminiChunk {
  error?: { code?: number; message?: string; status?: string };
  candidates?: Array<{ content?: { parts?: GeminiPart[] }; finishReason?: string }>;
  usageMetadata?: { promptTokenCount?: number; candidatesTokenCount?: number; thoughtsTokenCount?: number };
}

/** What Gemini 3 accepts in place of a thought signature that history lost (documented sentinel). */
const SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

/** Gemini 3 and later: any `gemini-*` model that is not 1.x, 2.x or the old `gemini-pro`. */
export function usesGemini3Features(model: string): boolean {
  return (
    /(^|\/)gemini-/i.test(model) &&
    !/(^|\/)gemini-[12](?:[.-]|$)/i.test(model) &&
    !/(^|\/)gemini-pro(?:-vision)?$/i.test(model) &&
    !/(^|\/)gemini-robotics-er-1\.5(?:[.-]|$)/i.test(model)
  );
}

/** Google's canonical error names → HTTP status, for in-stream errors without a numeric code. */
const statusByName: Record<string, number> = {
  CANCELLED: 499,
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  OUT_OF_RANGE: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  PERMISSION_DENIED: 403,
  UNAUTHENTICATED: 401,
  RESOURCE_EXHAUSTED: 429,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export class GeminiLlmService implements LlmService {
  readonly provider: string;
  readonly model: string;
  private readonly url: URL;
  private readonly agents: SseAgents = createSseAgents();
  private readonly gemini3: boolean;

  constructor(private readonly settings: GeminiClientSettings) {
    this.provider = settings.provider;
    this.model = settings.model;
    const path = settings.model.includes('/') ? settings.model : `models/${settings.model}`;
    this.url = new URL(`${settings.baseURL.replace(/\/+$/, '')}/${path}:streamGenerateContent?alt=sse`);
    this.gemini3 = usesGemini3Features(settings.model);
  }

  stream(request: LlmRequest): AsyncIterable<LlmStreamEvent> {
    return streamWithRetries(
      {
        provider: this.provider,
        generation: this.settings.generation,
        toError: (error, callId) => (error instanceof LlmServiceError ? error : httpError(this.provider, error, callId)),
      },
      request,
      (req, signal) => this.attempt(req, signal),
    );
  }

  private body(request: LlmRequest): string {
    const { generation, thinkingBudget } = this.settings;
    const prompt = toPrompt(this.provider, request.system, request.messages, request.callId);
    const { systemInstruction, contents } = toGeminiContents(prompt, this.gemini3);
    return JSON.stringify({
      generationConfig: {
        maxOutputTokens: generation.maxOutputTokens ?? LLM_GENERATION_DEFAULTS.maxOutputTokens,
        temperature: generation.temperature,
        ...(thinkingBudget !== undefined ? { thinkingConfig: { thinkingBudget } } : {}),
      },
      contents,
      systemInstruction,
      ...(request.tools.length > 0
        ? {
            tools: [{ functionDeclarations: request.tools.map(toFunctionDeclaration) }],
            toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
          }
        : {}),
    });
  }

  private async *attempt(request: LlmRequest, signal: AbortSignal): AsyncIterable<LlmAttemptItem> {
    const apiKey = this.settings.apiKey();
    if (!apiKey) {
      throw new LlmServiceError(
        this.provider,
        'Google Generative AI API key is missing. Pass it as `apiKey` or set GOOGLE_GENERATIVE_AI_API_KEY.',
        undefined,
        'missing_api_key',
        { callId: request.callId },
      );
    }
    const headers = { 'x-goog-api-key': apiKey, ...this.settings.generation.headers };
    const events = postForEvents({ url: this.url, headers, body: this.body(request), signal, agents: this.agents });
    let rawFinish: string | undefined;
    let toolCalls = false;
    let usage = { inputTokens: 0, outputTokens: 0 };
    for await (const event of events) {
      const parsed = parseJson(event.data);
      if (!isRecord(parsed)) {
        throw new LlmServiceError(this.provider, 'invalid JSON in the event stream', undefined, 'invalid_response', {
          callId: request.callId,
        });
      }
      const chunk = parsed as GeminiChunk;
      if (chunk.error) throw this.streamError(chunk.error, request.callId);
      const meta = chunk.usageMetadata;
      if (meta) {
        usage = {
          inputTokens: meta.promptTokenCount ?? 0,
          outputTokens: (meta.candidatesTokenCount ?? 0) + (meta.thoughtsTokenCount ?? 0),
        };
      }
      const candidate = chunk.candidates?.[0];
      if (!candidate) continue;
      const parts = candidate.content?.parts ?? [];
      for (const part of parts) {
        if (typeof part.text !== 'string' || part.text === '') continue;
        if (part.thought === true) yield { type: 'progress' };
        else yield { type: 'text', text: part.text };
      }
      for (const part of parts) {
        const call = part.functionCall;
        if (!call?.name) continue;
        toolCalls = true;
        const args = typeof call.args === 'string' ? call.args : JSON.stringify(call.args ?? {});
        yield {
          type: 'tool-call',
          toolCallId: call.id ?? generatedCallId(),
          toolName: call.name,
          input: toolCallInput(request.tools, call.name, args),
          ...(part.thoughtSignature ? { providerOptions: { google: { thoughtSignature: part.thoughtSignature } } } : {}),
        };
      }
      if (candidate.finishReason) rawFinish = candidate.finishReason;
    }
    yield { type: 'finish', finishReason: finishReason(rawFinish, toolCalls), usage };
  }

  /** An error chunk: the status is its `code` (or derived from its name), retryable like an HTTP error. */
  private streamError(error: NonNullable<GeminiChunk['error']>, callId: string): LlmServiceError {
    const status = error.code ?? (error.status ? statusByName[error.status] : undefined) ?? 500;
    return new LlmServiceError(this.provider, error.message ?? 'Gemini stream failed', status, error.status, {
      callId,
      retryable: isRetryableStatus(status),
    });
  }
}

function finishReason(raw: string | undefined, toolCalls: boolean): string {
  switch (raw) {
    case 'STOP':
      return toolCalls ? 'tool-calls' : 'stop';
    case 'MAX_TOKENS':
    case 'CONTINUATION':
      return 'length';
    case 'IMAGE_SAFETY':
    case 'RECITATION':
    case 'SAFETY':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
      return 'content-filter';
    case 'MALFORMED_FUNCTION_CALL':
      return 'error';
    default:
      return 'other';
  }
}

function toFunctionDeclaration(tool: AgentTool): object {
  const jsonSchema = toolJsonSchema(tool);
  const declaration = { name: tool.name, description: tool.description };
  const parameters = toGeminiSchema(jsonSchema);
  if (parameters) return { ...declaration, parameters };
  // A parameterless tool sends no schema; one the OpenAPI subset cannot express goes as JSON Schema.
  const hasProperties = isRecord(jsonSchema.properties) && Object.keys(jsonSchema.properties).length > 0;
  return hasProperties ? { ...declaration, parametersJsonSchema: jsonSchema } : declaration;
}

function googleOptions(options: PartOptions): Record<string, unknown> | undefined {
  return options?.google;
}

/** The conversation as Gemini contents (the mapping `@ai-sdk/google` uses for text and tool exchanges). */
function toGeminiContents(prompt: PromptMessage[], gemini3: boolean): { systemInstruction?: object; contents: object[] } {
  const system: Array<{ text: string }> = [];
  const contents: object[] = [];
  for (const message of prompt) {
    switch (message.role) {
      case 'system':
        system.push({ text: message.content });
        break;
      case 'user':
        contents.push({ role: 'user', parts: message.content.flatMap((p) => (p.type === 'text' ? [{ text: p.text }] : [])) });
        break;
      case 'assistant': {
        let signedCall = false;
        const parts: object[] = [];
        for (const part of message.content) {
          const signature = googleOptions(part.providerOptions)?.thoughtSignature;
          const thoughtSignature = signature !== undefined && signature !== null ? String(signature) : undefined;
          if ((part.type === 'text' || part.type === 'reasoning') && part.text !== '') {
            parts.push({
              text: part.text,
              ...(part.type === 'reasoning' ? { thought: true } : {}),
              ...(thoughtSignature ? { thoughtSignature } : {}),
            });
          } else if (part.type === 'tool-call') {
            // Gemini 3 rejects a replayed call without its signature unless the sentinel stands in; only the
            // first call of a parallel response carries one.
            const effective = thoughtSignature ?? (gemini3 && !signedCall ? SKIP_THOUGHT_SIGNATURE : undefined);
            if (thoughtSignature) signedCall = true;
            parts.push({
              functionCall: { id: part.toolCallId, name: part.toolName, args: parseArgs(part.input) },
              ...(effective ? { thoughtSignature: effective } : {}),
            });
          }
        }
        contents.push({ role: 'model', parts });
        break;
      }
      case 'tool': {
        const parts: object[] = [];
        for (const part of message.content) {
          if (part.type !== 'tool-result') continue;
          parts.push({
            functionResponse: {
              id: part.toolCallId,
              name: part.toolName,
              response: { name: part.toolName, content: toolResultContent(part.output) },
            },
          });
        }
        contents.push({ role: 'user', parts });
        break;
      }
    }
  }
  return { ...(system.length > 0 ? { systemInstruction: { parts: system } } : {}), contents };
}

function parseArgs(input: unknown): unknown {
  if (typeof input !== 'string') return input;
  const parsed = parseJson(input);
  return parsed === undefined ? input : parsed;
}

function toolResultContent(output: ToolResultPart['output']): unknown {
  switch (output.type) {
    case 'execution-denied':
      return output.reason ?? 'Tool call execution denied.';
    case 'content':
      return output.value.flatMap((item) => (item.type === 'text' ? [item.text] : [])).join('\n') || 'Tool executed successfully.';
    default:
      return output.value;
  }
}
