import type { LlmGenerationOptions } from './ai-sdk-llm-service.ts';
import type { LlmService } from './llm-service.ts';
import { OpenAIChatLlmService } from './openai-chat-client.ts';
import { createOpenAILlm, usesLeanClient, type LlmImplementation } from './openai.ts';

export interface OpenAICompatibleLlmOptions extends LlmGenerationOptions {
  /** Names the server in errors and logs, e.g. "ollama", "groq", "vllm". */
  name: string;
  /** API root including its version path, e.g. `http://localhost:11434/v1`, `https://api.groq.com/openai/v1`. */
  baseURL: string;
  /** The server's model id, e.g. "llama3.1:8b". */
  model: string;
  /**
   * Bearer key. Without one no `Authorization` header is sent (local servers need none), and
   * `OPENAI_API_KEY` is never used, so an OpenAI key cannot leak to another server. @default undefined
   */
  apiKey?: string;
  /** See `OpenAILlmOptions.implementation`. @default 'lean' */
  implementation?: LlmImplementation;
  /** Custom fetch; AI SDK implementation only. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * Any server speaking OpenAI Chat Completions (Ollama, vLLM, Groq, LM Studio, Together, …): the OpenAI
 * service on Chat Completions with the server's own name, base URL and key.
 */
export function createOpenAICompatibleLlm(options: OpenAICompatibleLlmOptions): LlmService {
  const { apiKey, fetch: customFetch, implementation = 'lean', name, baseURL, model, ...generation } = options;
  if (usesLeanClient(implementation, customFetch, generation)) {
    return new OpenAIChatLlmService({ provider: name, model, baseURL, apiKey: () => apiKey, requireApiKey: false, generation });
  }
  const baseFetch = customFetch ?? globalThis.fetch;
  return createOpenAILlm({
    ...generation,
    name,
    baseURL,
    model,
    api: 'chat',
    implementation: 'ai-sdk',
    // The SDK insists on a key (falling back to OPENAI_API_KEY); give it a placeholder and drop the header.
    apiKey: apiKey ?? 'no-key',
    fetch: apiKey === undefined ? withoutAuthorization(baseFetch) : baseFetch,
  });
}

function withoutAuthorization(baseFetch: typeof fetch): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    headers.delete('authorization');
    return baseFetch(input, { ...init, headers });
  };
}
