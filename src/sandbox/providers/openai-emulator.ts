import type { IncomingMessage } from 'node:http';
import {
  approxTokenCount,
  startLlmEmulatorServer,
  type EmulatorExchange,
  type LlmEmulatorHandle,
  type LlmEmulatorOptions,
  type LlmEmulatorTiming,
} from './llm-emulator-server.ts';
import type { PolicyConversation, PolicyReply } from './llm-policy.ts';
import { streamResponses, respondResponses } from './openai-emulator-responses.ts';
import {
  chatConversation,
  chatToolNames,
  openAIAuthError,
  openAIError,
  openAIErrorForStatus,
  openAIId,
  OpenAIRequestError,
  planReply,
  requireModel,
  responsesConversation,
  responsesToolNames,
} from './openai-emulator-wire.ts';

/**
 * A local OpenAI API: `POST {basePath}/chat/completions` (streaming and not), `POST {basePath}/responses`
 * (streaming and not) and `GET {basePath}/models`, answering by a scripted policy with OpenAI's SSE chunk
 * shapes, error bodies and auth check. Any OpenAI client (official SDK, AI SDK, curl) works against it.
 */

export interface OpenAIEmulatorOptions extends LlmEmulatorOptions {
  /** Path prefix of the API, e.g. "/openai/v1" to look like Groq. @default '/v1' */
  basePath?: string;
  /** Models `GET /models` lists; when given, requests for other models get OpenAI's 404. @default any model accepted */
  models?: string[];
}

export type OpenAIEmulator = LlmEmulatorHandle;

/** OpenAI-like pacing: first token after ~350 ms, then ~80 tokens/s. */
export const openAIEmulatorDefaultTiming: LlmEmulatorTiming = { ttftMs: 350, tokensPerSecond: 80 };

const listedModels = ['gpt-4.1-mini', 'gpt-4o-mini', 'gpt-4o'];

/** Starts the emulator on 127.0.0.1 (port 0 unless `port` is given). */
export async function startOpenAIEmulator(options: OpenAIEmulatorOptions = {}): Promise<OpenAIEmulator> {
  const basePath = normaliseBasePath(options.basePath ?? '/v1');
  const presentedKey = (req: IncomingMessage): string | undefined => {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
    return match?.[1]?.trim();
  };
  const emulator = await startLlmEmulatorServer({
    ...options,
    basePath,
    defaultTiming: openAIEmulatorDefaultTiming,
    checkAuth: (req) => {
      if (options.apiKey === undefined) return 'not-required';
      const key = presentedKey(req);
      return key === undefined ? 'missing' : key === options.apiKey ? 'ok' : 'invalid';
    },
    route: async (exchange) => {
      const { request } = exchange;
      const route = `${request.method} ${request.path.replace(/\/+$/, '')}`;
      const known = [`POST ${basePath}/chat/completions`, `POST ${basePath}/responses`, `GET ${basePath}/models`];
      if (!known.includes(route)) {
        exchange.sendJson(404, openAIError(`Invalid URL (${request.method} ${request.path})`));
        return;
      }
      if (request.auth === 'missing' || request.auth === 'invalid') {
        exchange.sendJson(401, openAIAuthError(presentedKey(exchange.res.req)));
        return;
      }
      if (route === `GET ${basePath}/models`) {
        const ids = options.models ?? listedModels;
        exchange.sendJson(200, {
          object: 'list',
          data: ids.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'system' })),
        });
        request.outcome = 'completed';
        return;
      }
      try {
        await generate(exchange, route.endsWith('/responses') ? 'responses' : 'chat', options.models);
      } catch (error) {
        if (!(error instanceof OpenAIRequestError)) throw error;
        exchange.sendJson(error.status, error.body);
      }
    },
  });
  return emulator;
}

function normaliseBasePath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '' : trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

async function generate(exchange: EmulatorExchange, api: 'chat' | 'responses', models?: string[]): Promise<void> {
  const { request } = exchange;
  if (exchange.invalidJson || typeof request.body !== 'object' || request.body === null) {
    throw new OpenAIRequestError(
      400,
      openAIError(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
      ),
    );
  }
  const body = request.body as Record<string, unknown>;
  const model = requireModel(body);
  request.model = model;
  request.stream = body.stream === true;
  if (models && !models.includes(model)) {
    throw new OpenAIRequestError(404, openAIErrorForStatus({ status: 404 }, model));
  }
  const conversation: PolicyConversation =
    api === 'chat' ? chatConversation(body, chatToolNames(body.tools)) : responsesConversation(body, responsesToolNames(body.tools));

  const fault = exchange.takeFault();
  if (fault?.kind === 'http-error') {
    const headers: Record<string, string> = {};
    if (fault.retryAfterMs !== undefined) {
      headers['retry-after-ms'] = String(fault.retryAfterMs);
      headers['retry-after'] = String(Math.ceil(fault.retryAfterMs / 1000));
    }
    exchange.sendJson(fault.status ?? 500, openAIErrorForStatus(fault, model), headers);
    return;
  }
  if (fault?.kind === 'hang' && fault.afterTokens === undefined) {
    await exchange.waitForDisconnect();
    return;
  }

  const reply = exchange.policy.respond(conversation);
  request.reply = reply;
  const promptTokens = approxTokenCount(JSON.stringify(body.messages ?? body.input ?? '') + (body.instructions ?? ''));
  const maxTokens = [body.max_completion_tokens, body.max_tokens, body.max_output_tokens].find(
    (value): value is number => typeof value === 'number',
  );
  if (api === 'responses') {
    if (request.stream) await streamResponses(exchange, { model, reply, promptTokens, maxTokens, fault });
    else await respondResponses(exchange, { model, reply, promptTokens, maxTokens });
    return;
  }
  if (request.stream) {
    const includeUsage =
      typeof body.stream_options === 'object' &&
      body.stream_options !== null &&
      (body.stream_options as Record<string, unknown>).include_usage === true;
    await streamChat(exchange, { model, reply, promptTokens, maxTokens, includeUsage, fault });
  } else {
    await respondChat(exchange, { model, reply, promptTokens, maxTokens });
  }
}

interface ChatGeneration {
  model: string;
  reply: PolicyReply;
  promptTokens: number;
  maxTokens: number | undefined;
}

function chatUsage(promptTokens: number, completionTokens: number) {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

async function streamChat(
  exchange: EmulatorExchange,
  generation: ChatGeneration & { includeUsage: boolean; fault: ReturnType<EmulatorExchange['takeFault']> },
): Promise<void> {
  const { model, reply, promptTokens, maxTokens, includeUsage, fault } = generation;
  const plan = planReply(reply, maxTokens);
  const id = openAIId('chatcmpl-', 29);
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: unknown[], usage?: unknown): string =>
    JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      service_tier: 'default',
      system_fingerprint: 'fp_emulator',
      choices,
      ...(includeUsage ? { usage: usage ?? null } : {}),
    });
  const delta = (fields: Record<string, unknown>, finishReason: string | null = null) =>
    chunk([{ index: 0, delta: fields, logprobs: null, finish_reason: finishReason }]);

  // Each entry is one token's chunk; the first carries the role.
  const chunks: Array<(first: boolean) => string> = [];
  for (const token of plan.textTokens) {
    chunks.push((first) => (first ? delta({ role: 'assistant', content: token, refusal: null }) : delta({ content: token })));
  }
  plan.toolCalls.forEach((call, index) => {
    const opening = { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } };
    chunks.push((first) => (first ? delta({ role: 'assistant', content: null, tool_calls: [opening] }) : delta({ tool_calls: [opening] })));
    for (const piece of call.argumentPieces) {
      chunks.push(() => delta({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  if (chunks.length === 0) chunks.push(() => delta({ role: 'assistant', content: '', refusal: null }));

  if (!(await exchange.waitForToken(0))) return;
  exchange.startEventStream();
  for (let i = 0; i < chunks.length; i++) {
    if (fault?.kind === 'mid-stream-error' && i === fault.afterTokens) {
      exchange.writeEvent(JSON.stringify(openAIErrorForStatus(fault, model)));
      exchange.request.outcome = 'failed';
      exchange.end();
      return;
    }
    if (fault?.kind === 'hang' && i === fault.afterTokens) {
      await exchange.waitForDisconnect();
      return;
    }
    if (!(await exchange.waitForToken(i))) return;
    exchange.writeEvent((chunks[i] as (first: boolean) => string)(i === 0));
  }
  const finishReason = plan.truncated ? 'length' : plan.toolCalls.length > 0 ? 'tool_calls' : 'stop';
  exchange.writeEvent(delta({}, finishReason));
  if (includeUsage) exchange.writeEvent(chunk([], chatUsage(promptTokens, plan.completionTokens)));
  exchange.writeEvent('[DONE]');
  exchange.end();
}

async function respondChat(exchange: EmulatorExchange, generation: ChatGeneration): Promise<void> {
  const { model, reply, promptTokens, maxTokens } = generation;
  const plan = planReply(reply, maxTokens);
  if (!(await exchange.waitForToken(plan.completionTokens))) return;
  const text = plan.textTokens.join('');
  exchange.sendJson(200, {
    id: openAIId('chatcmpl-', 29),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text === '' && plan.toolCalls.length > 0 ? null : text,
          refusal: null,
          annotations: [],
          ...(plan.toolCalls.length > 0
            ? {
                tool_calls: plan.toolCalls.map((call) => ({
                  id: call.id,
                  type: 'function',
                  function: { name: call.name, arguments: call.arguments },
                })),
              }
            : {}),
        },
        logprobs: null,
        finish_reason: plan.truncated ? 'length' : plan.toolCalls.length > 0 ? 'tool_calls' : 'stop',
      },
    ],
    usage: chatUsage(promptTokens, plan.completionTokens),
    service_tier: 'default',
    system_fingerprint: 'fp_emulator',
  });
  exchange.request.outcome = 'completed';
}
