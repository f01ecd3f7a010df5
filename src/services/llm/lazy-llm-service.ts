import type { LlmRequest, LlmService, LlmStreamEvent } from './llm-service.ts';

/**
 * An LLM service built on its first request, so a process that never uses it never loads its SDK (the Vercel AI
 * SDK path is opt-in: importing the provider files stays cheap).
 */
export function lazyLlmService(provider: string, model: string, build: () => Promise<LlmService>): LlmService {
  let service: Promise<LlmService> | undefined;
  return {
    provider,
    model,
    async *stream(request: LlmRequest): AsyncIterable<LlmStreamEvent> {
      service ??= build();
      yield* (await service).stream(request);
    },
  };
}
