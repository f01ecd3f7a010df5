import type { LlmGenerationOptions, LlmProviderOptions } from './ai-sdk-llm-service.ts';
import { lazyLlmService } from './lazy-llm-service.ts';
import { GeminiLlmService } from './gemini-client.ts';
import type { LlmService } from './llm-service.ts';
import { usesLeanClient, type LlmImplementation } from './openai.ts';

/** The model used when none is configured (config and README document the same). */
export const GEMINI_DEFAULT_MODEL = 'gemini-2.0-flash';
/** The Gemini Developer API root, version segment included. */
export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';

export interface GoogleLlmOptions extends LlmGenerationOptions {
  /** @default GEMINI_DEFAULT_MODEL ('gemini-2.0-flash') */
  model?: string;
  /** @default process.env.GOOGLE_GENERATIVE_AI_API_KEY (read when the first request is made) */
  apiKey?: string;
  /** API root including the version segment. @default GEMINI_DEFAULT_BASE_URL */
  baseURL?: string;
  /**
   * Thinking token budget (`generationConfig.thinkingConfig.thinkingBudget`). Thinking adds seconds before
   * the first word, too slow for a phone call. @default 0 for gemini-2.5-flash* models, otherwise not sent
   */
  thinkingBudget?: number;
  /**
   * 'lean': a small SSE client over `node:http(s)` (about a fifth of the CPU per streamed reply,
   * bench/RESULTS.md); 'ai-sdk': `@ai-sdk/google` through `streamText`. Both send the same request and
   * report the same events and errors. Setting `fetch` or `providerOptions` (AI SDK features) selects
   * 'ai-sdk'. @default 'lean'
   */
  implementation?: LlmImplementation;
  /** Name in errors and logs. @default 'google' */
  name?: string;
  /** Custom fetch (proxies, tests); AI SDK implementation only. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * Google Gemini (Developer API). Gemini sends tool calls whole and often without ids (one is made up);
 * Gemini 3 signs them with a `thoughtSignature`, which arrives as the tool-call event's
 * `providerOptions.google.thoughtSignature` and must be echoed back in history.
 */
export function createGoogleLlm(options: GoogleLlmOptions = {}): LlmService {
  const {
    model = GEMINI_DEFAULT_MODEL,
    apiKey,
    baseURL,
    thinkingBudget,
    name = 'google',
    fetch,
    implementation = 'lean',
    ...generation
  } = options;
  const budget = thinkingBudget ?? (/^gemini-2\.5-flash/.test(model) ? 0 : undefined);
  if (usesLeanClient(implementation, fetch, generation)) {
    return new GeminiLlmService({
      provider: name,
      model,
      baseURL: baseURL ?? GEMINI_DEFAULT_BASE_URL,
      apiKey: () => apiKey ?? process.env.GOOGLE_GENERATIVE_AI_API_KEY,
      thinkingBudget: budget,
      generation,
    });
  }
  const baseProviderOptions: LlmProviderOptions = budget === undefined ? {} : { google: { thinkingConfig: { thinkingBudget: budget } } };
  return lazyLlmService(name, model, async () => {
    const [{ createGoogleGenerativeAI }, { AiSdkLlmService }] = await Promise.all([
      import('@ai-sdk/google'),
      import('./ai-sdk-llm-service.ts'),
    ]);
    const google = createGoogleGenerativeAI({ apiKey, baseURL: baseURL ?? GEMINI_DEFAULT_BASE_URL, fetch });
    return new AiSdkLlmService({ provider: name, model, languageModel: google(model), generation, baseProviderOptions });
  });
}
