import { createOpenAI } from '@ai-sdk/openai';
import { AiSdkLlmService, type LlmGenerationOptions } from './ai-sdk-llm-service.ts';
import type { LlmService } from './llm-service.ts';

export interface OpenAILlmOptions extends LlmGenerationOptions {
  /** @default 'gpt-4.1-mini' */
  model?: string;
  /** @default process.env.OPENAI_API_KEY (read by the SDK when the first request is made) */
  apiKey?: string;
  /**
   * API root including the version segment. Point it at any OpenAI-compatible server (Ollama
   * `http://localhost:11434/v1`, vLLM, Groq `https://api.groq.com/openai/v1`, LM Studio, the sandbox emulator).
   * @default process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1'
   */
  baseURL?: string;
  /**
   * Which API: 'chat' = Chat Completions (`/chat/completions`, what every OpenAI-compatible server speaks);
   * 'responses' = the Responses API (`/responses`, OpenAI only; sent with `store: false` so no response is
   * kept server-side, override with `providerOptions: { openai: { store: true } }`). @default 'chat'
   */
  api?: 'chat' | 'responses';
  /** Name in errors and logs. @default 'openai' */
  name?: string;
  /** `OpenAI-Organization` header. @default undefined */
  organization?: string;
  /** `OpenAI-Project` header. @default undefined */
  project?: string;
  /** Custom fetch (proxies, tests). @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** OpenAI (or any OpenAI-compatible server) through `@ai-sdk/openai`. */
export function createOpenAILlm(options: OpenAILlmOptions = {}): LlmService {
  const { model = 'gpt-4.1-mini', api = 'chat', name = 'openai', apiKey, baseURL, organization, project, fetch, ...generation } = options;
  const openai = createOpenAI({ apiKey, baseURL, organization, project, fetch, name });
  return new AiSdkLlmService({
    provider: name,
    model,
    languageModel: api === 'responses' ? openai.responses(model) : openai.chat(model),
    generation,
    baseProviderOptions: api === 'responses' ? { openai: { store: false } } : {},
  });
}
