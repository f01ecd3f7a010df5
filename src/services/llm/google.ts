import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { AiSdkLlmService, type LlmGenerationOptions, type LlmProviderOptions } from './ai-sdk-llm-service.ts';
import type { LlmService } from './llm-service.ts';

export interface GoogleLlmOptions extends LlmGenerationOptions {
  /** @default 'gemini-2.5-flash' */
  model?: string;
  /** @default process.env.GOOGLE_GENERATIVE_AI_API_KEY (read by the SDK when the first request is made) */
  apiKey?: string;
  /** API root including the version segment. @default 'https://generativelanguage.googleapis.com/v1beta' */
  baseURL?: string;
  /**
   * Thinking token budget (`generationConfig.thinkingConfig.thinkingBudget`). Thinking adds seconds before
   * the first word, too slow for a phone call. @default 0 for gemini-2.5-flash* models, otherwise not sent
   */
  thinkingBudget?: number;
  /** Name in errors and logs. @default 'google' */
  name?: string;
  /** Custom fetch (proxies, tests). @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * Google Gemini (Developer API) through `@ai-sdk/google`. Gemini sends tool calls whole and without ids (the
 * SDK makes them up); Gemini 3 signs them with a `thoughtSignature`, which arrives as the tool-call event's
 * `providerOptions.google.thoughtSignature` and must be echoed back in history.
 */
export function createGoogleLlm(options: GoogleLlmOptions = {}): LlmService {
  const { model = 'gemini-2.5-flash', apiKey, baseURL, thinkingBudget, name = 'google', fetch, ...generation } = options;
  const google = createGoogleGenerativeAI({ apiKey, baseURL, fetch });
  const budget = thinkingBudget ?? (/^gemini-2\.5-flash/.test(model) ? 0 : undefined);
  const baseProviderOptions: LlmProviderOptions = budget === undefined ? {} : { google: { thinkingConfig: { thinkingBudget: budget } } };
  return new AiSdkLlmService({ provider: name, model, languageModel: google(model), generation, baseProviderOptions });
}
