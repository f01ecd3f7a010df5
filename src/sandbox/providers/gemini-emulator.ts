import { randomBytes } from 'node:crypto';
import {
  approxTokenCount,
  splitIntoTokens,
  startLlmEmulatorServer,
  type EmulatorExchange,
  type LlmEmulatorHandle,
  type LlmEmulatorOptions,
  type LlmEmulatorTiming,
} from './llm-emulator-server.ts';
import type { PolicyReply } from './llm-policy.ts';
import {
  geminiConversation,
  geminiToolNames,
  googleAuthError,
  googleError,
  googleErrorForStatus,
  GoogleRequestError,
} from './gemini-emulator-wire.ts';

/**
 * A local Gemini API (Developer API, `v1beta`): `POST /v1beta/models/{model}:streamGenerateContent?alt=sse`,
 * `:generateContent` and `GET /v1beta/models`, answering by a scripted policy. Text streams in chunks of a few
 * tokens; function calls arrive whole in one part; the last chunk has `finishReason` and full
 * `usageMetadata`; events end with `\r\n\r\n` like Google's; no sentinel, the stream just ends.
 */

export interface GeminiEmulatorOptions extends LlmEmulatorOptions {
  /**
   * Emulate Gemini 3 thought signatures: the first function call of each response carries a
   * `thoughtSignature`, and requests whose current turn replays a function call without the issued
   * signature get Gemini's 400. @default false
   */
  thoughtSignatures?: boolean;
  /** Tokens per streamed chunk after the first (the first chunk is smaller, as Gemini's is). @default 8 */
  tokensPerChunk?: number;
}

export interface GeminiEmulator extends LlmEmulatorHandle {
  /** Thought signatures issued so far (with `thoughtSignatures: true`). */
  readonly issuedSignatures: ReadonlySet<string>;
}

/** Gemini-Flash-like pacing: first chunk after ~400 ms, then ~150 tokens/s. */
export const geminiEmulatorDefaultTiming: LlmEmulatorTiming = { ttftMs: 400, tokensPerSecond: 150 };

const firstChunkTokens = 3;
const listedModels = ['gemini-2.5-flash', 'gemini-2.5-flash-lite', 'gemini-2.0-flash'];

/** Starts the emulator on 127.0.0.1 (port 0 unless `port` is given). */
export async function startGeminiEmulator(options: GeminiEmulatorOptions = {}): Promise<GeminiEmulator> {
  const issuedSignatures = new Set<string>();
  const tokensPerChunk = Math.max(1, options.tokensPerChunk ?? 8);
  const handle = await startLlmEmulatorServer({
    ...options,
    basePath: '/v1beta',
    defaultTiming: geminiEmulatorDefaultTiming,
    checkAuth: (req, url) => {
      if (options.apiKey === undefined) return 'not-required';
      const header = req.headers['x-goog-api-key'];
      const key = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('key') ?? undefined;
      return key === undefined || key === '' ? 'missing' : key === options.apiKey ? 'ok' : 'invalid';
    },
    route: async (exchange) => {
      const { request } = exchange;
      const path = decodeURIComponent(request.path).replace(/\/+/g, '/');
      if (request.auth === 'missing' || request.auth === 'invalid') {
        const body = googleAuthError(request.auth === 'invalid');
        exchange.sendJson(body.error.code, body);
        return;
      }
      if (request.method === 'GET' && path.replace(/\/$/, '') === '/v1beta/models') {
        exchange.sendJson(200, {
          models: listedModels.map((id) => ({
            name: `models/${id}`,
            version: '001',
            displayName: id,
            inputTokenLimit: 1_048_576,
            outputTokenLimit: 65_536,
            supportedGenerationMethods: ['generateContent', 'countTokens'],
          })),
        });
        request.outcome = 'completed';
        return;
      }
      const match = /^\/v1beta\/(?:models|tunedModels)\/([^/:]+):(streamGenerateContent|generateContent)$/.exec(path);
      if (request.method !== 'POST' || !match) {
        exchange.sendJson(404, googleError(404, `Method not found: ${request.method} ${request.path}`, 'NOT_FOUND'));
        return;
      }
      const model = match[1] as string;
      request.model = model;
      request.stream = match[2] === 'streamGenerateContent';
      try {
        await generate(exchange, model, { issuedSignatures, thoughtSignatures: options.thoughtSignatures ?? false, tokensPerChunk });
      } catch (error) {
        if (!(error instanceof GoogleRequestError)) throw error;
        exchange.sendJson(error.status, error.body);
      }
    },
  });
  return Object.assign(handle, { issuedSignatures });
}

interface GenerateSettings {
  issuedSignatures: Set<string>;
  thoughtSignatures: boolean;
  tokensPerChunk: number;
}

async function generate(exchange: EmulatorExchange, model: string, settings: GenerateSettings): Promise<void> {
  const { request } = exchange;
  if (exchange.invalidJson || typeof request.body !== 'object' || request.body === null) {
    throw new GoogleRequestError(googleError(400, 'Invalid JSON payload received. Unexpected token.'));
  }
  const body = request.body as Record<string, unknown>;
  const conversation = geminiConversation(
    body,
    geminiToolNames(body.tools),
    settings.thoughtSignatures ? settings.issuedSignatures : undefined,
  );
  const fault = exchange.takeFault();
  if (fault?.kind === 'http-error') {
    // The delay goes in the body's RetryInfo only: no Retry-After header has been reported on Gemini API
    // errors (a guess; clients should read the body).
    const errorBody = googleErrorForStatus(fault, model);
    exchange.sendJson(errorBody.error.code, errorBody);
    return;
  }
  if (fault?.kind === 'hang' && fault.afterTokens === undefined) {
    await exchange.waitForDisconnect();
    return;
  }

  const reply = exchange.policy.respond(conversation);
  request.reply = reply;
  const generationConfig = (typeof body.generationConfig === 'object' && body.generationConfig) || {};
  const maxTokens = (generationConfig as Record<string, unknown>).maxOutputTokens;
  const plan = planGeminiReply(reply, typeof maxTokens === 'number' ? maxTokens : undefined, settings);
  const promptTokenCount = approxTokenCount(JSON.stringify(body.contents) + JSON.stringify(body.systemInstruction ?? ''));
  const responseId = randomBytes(12).toString('base64url');
  const usage = (final: boolean) => ({
    promptTokenCount,
    ...(final ? { candidatesTokenCount: plan.completionTokens } : {}),
    totalTokenCount: promptTokenCount + (final ? plan.completionTokens : 0),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokenCount }],
  });
  const response = (parts: unknown[], final: boolean) => ({
    candidates: [
      {
        content: { parts, role: 'model' },
        ...(final ? { finishReason: plan.truncated ? 'MAX_TOKENS' : 'STOP' } : {}),
        index: 0,
      },
    ],
    usageMetadata: usage(final),
    modelVersion: model,
    responseId,
  });

  if (!request.stream) {
    if (!(await exchange.waitForToken(plan.completionTokens))) return;
    const text = plan.textTokens.join('');
    exchange.sendJson(200, response([...(text ? [{ text }] : []), ...plan.callParts], true));
    request.outcome = 'completed';
    return;
  }

  // Chunks: text tokens grouped (a small first chunk, then `tokensPerChunk`), then one chunk with the calls.
  const chunks: Array<{ lastToken: number; parts: unknown[] }> = [];
  let index = 0;
  while (index < plan.textTokens.length) {
    const size = chunks.length === 0 ? firstChunkTokens : settings.tokensPerChunk;
    const tokens = plan.textTokens.slice(index, index + size);
    index += tokens.length;
    chunks.push({ lastToken: index - 1, parts: [{ text: tokens.join('') }] });
  }
  if (plan.callParts.length > 0) chunks.push({ lastToken: plan.completionTokens - 1, parts: plan.callParts });
  if (chunks.length === 0) chunks.push({ lastToken: 0, parts: [{ text: '' }] });

  const send = (payload: unknown): void => exchange.writeEvent(JSON.stringify(payload), { delimiter: '\r\n\r\n' });
  if (!(await exchange.waitForToken(0))) return;
  exchange.startEventStream();
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i] as { lastToken: number; parts: unknown[] };
    const firstToken = i === 0 ? 0 : (chunks[i - 1] as { lastToken: number }).lastToken + 1;
    if (fault?.kind === 'mid-stream-error' && fault.afterTokens <= chunk.lastToken && fault.afterTokens >= firstToken) {
      send(googleErrorForStatus(fault));
      request.outcome = 'failed';
      exchange.end();
      return;
    }
    if (fault?.kind === 'hang' && fault.afterTokens !== undefined && fault.afterTokens <= chunk.lastToken) {
      await exchange.waitForDisconnect();
      return;
    }
    if (!(await exchange.waitForToken(Math.max(0, chunk.lastToken - firstChunkTokens + 1)))) return;
    send(response(chunk.parts, i === chunks.length - 1));
  }
  exchange.end();
}

interface GeminiPlan {
  textTokens: string[];
  truncated: boolean;
  callParts: Array<{ functionCall: { name: string; args: Record<string, unknown> }; thoughtSignature?: string }>;
  completionTokens: number;
}

function planGeminiReply(reply: PolicyReply, maxTokens: number | undefined, settings: GenerateSettings): GeminiPlan {
  let textTokens = splitIntoTokens(reply.text);
  const truncated = maxTokens !== undefined && textTokens.length > maxTokens;
  if (truncated) textTokens = textTokens.slice(0, maxTokens);
  const callParts: GeminiPlan['callParts'] = truncated
    ? []
    : reply.toolCalls.map((call, i) => {
        const part: GeminiPlan['callParts'][number] = { functionCall: { name: call.name, args: call.args } };
        // Gemini 3 signs the first function call of a response; parallel calls after it carry none.
        if (settings.thoughtSignatures && i === 0) {
          const signature = randomBytes(48).toString('base64');
          settings.issuedSignatures.add(signature);
          part.thoughtSignature = signature;
        }
        return part;
      });
  const callTokens = callParts.reduce((sum, part) => sum + approxTokenCount(JSON.stringify(part.functionCall)), 0);
  return { textTokens, truncated, callParts, completionTokens: Math.max(1, textTokens.length + callTokens) };
}
