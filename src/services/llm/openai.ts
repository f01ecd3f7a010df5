import type { LlmGenerationOptions } from './ai-sdk-llm-service.ts';
import { lazyLlmService } from './lazy-llm-service.ts';
import type { LlmService } from './llm-service.ts';
import { OpenAIChatLlmService } from './openai-chat-client.ts';

/** The model used when none is configured (config and README document the same). */
export const OPENAI_DEFAULT_MODEL = 'gpt-4o-mini';
/** OpenAI's API root. */
export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** Which client streams the reply: the lean SSE client (default) or the Vercel AI SDK's `streamText`. */
export type LlmImplementation = 'lean' | 'ai-sdk';

export interface OpenAILlmOptions extends LlmGenerationOptions {
  /** @default OPENAI_DEFAULT_MODEL ('gpt-4o-mini') */
  model?: string;
  /** @default process.env.OPENAI_API_KEY (read when the first request is made) */
  apiKey?: string;
  /**
   * API root including the version segment. Point it at any OpenAI-compatible server (Ollama
   * `http://localhost:11434/v1`, vLLM, Groq `https://api.groq.com/openai/v1`, LM Studio, the sandbox emulator).
   * @default process.env.OPENAI_BASE_URL ?? OPENAI_DEFAULT_BASE_URL
   */
  baseURL?: string;
  /**
   * Which API: 'chat' = Chat Completions (`/chat/completions`, what every OpenAI-compatible server speaks);
   * 'responses' = the Responses API (`/responses`, OpenAI only, always through the AI SDK; sent with
   * `store: false` so no response is kept server-side, override with `providerOptions: { openai: { store: true } }`).
   * @default 'chat'
   */
  api?: 'chat' | 'responses';
  /**
   * Chat Completions client. 'lean': a small SSE client over `node:http(s)` (about a fifth of the CPU per
   * streamed reply, bench/RESULTS.md); 'ai-sdk': `@ai-sdk/openai` through `streamText`. Both send the same
   * request and report the same events and errors. Setting `fetch` or `providerOptions` (AI SDK features)
   * selects 'ai-sdk'. @default 'lean'
   */
  implementation?: LlmImplementation;
  /** Name in errors and logs. @default 'openai' */
  name?: string;
  /** `OpenAI-Organization` header. @default undefined */
  organization?: string;
  /** `OpenAI-Project` header. @default undefined */
  project?: string;
  /** Custom fetch (proxies, tests); AI SDK implementation only. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** OpenAI (or any OpenAI-compatible server): the lean Chat Completions client, or `@ai-sdk/openai`. */
export function createOpenAILlm(options: OpenAILlmOptions = {}): LlmService {
  const {
    model = OPENAI_DEFAULT_MODEL,
    api = 'chat',
    name = 'openai',
    apiKey,
    baseURL,
    organization,
    project,
    fetch,
    implementation = 'lean',
    ...generation
  } = options;
  if (api === 'chat' && usesLeanClient(implementation, fetch, generation)) {
    return new OpenAIChatLlmService({
      provider: name,
      model,
      baseURL: baseURL ?? process.env.OPENAI_BASE_URL ?? OPENAI_DEFAULT_BASE_URL,
      apiKey: () => apiKey ?? process.env.OPENAI_API_KEY,
      requireApiKey: true,
      organization,
      project,
      generation,
    });
  }
  return lazyLlmService(name, model, async () => {
    const [{ createOpenAI }, { AiSdkLlmService }] = await Promise.all([import('@ai-sdk/openai'), import('./ai-sdk-llm-service.ts')]);
    const openai = createOpenAI({ apiKey, baseURL, organization, project, fetch, name });
    return new AiSdkLlmService({
      provider: name,
      model,
      languageModel: api === 'responses' ? openai.responses(model) : openai.chat(model),
      generation,
      baseProviderOptions: api === 'responses' ? { openai: { store: false } } : {},
    });
  });
}

/** The lean client unless the AI SDK was asked for, or an AI SDK-only option was given. */
export function usesLeanClient(
  implementation: LlmImplementation,
  fetch: typeof globalThis.fetch | undefined,
  generation: LlmGenerationOptions,
): boolean {
  const providerOptions = generation.providerOptions ?? {};
  return implementation === 'lean' && fetch === undefined && Object.keys(providerOptions).length === 0;
}
