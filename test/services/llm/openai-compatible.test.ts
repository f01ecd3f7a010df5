import { afterEach, describe, expect, it } from 'vitest';
import { startOpenAIEmulator, type OpenAIEmulator } from '../../../src/sandbox/providers/openai-emulator.ts';
import { createOpenAICompatibleLlm } from '../../../src/services/llm/openai-compatible.ts';
import { collect, playConversation, request } from './helpers.ts';

let emulator: OpenAIEmulator | undefined;
const savedKey = process.env.OPENAI_API_KEY;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  if (savedKey === undefined) delete process.env.OPENAI_API_KEY;
  else process.env.OPENAI_API_KEY = savedKey;
});

describe('OpenAI-compatible preset', () => {
  it('talks to a server under another path prefix, sending no Authorization (not even OPENAI_API_KEY)', async () => {
    process.env.OPENAI_API_KEY = 'sk-real-openai-key-must-not-leak';
    emulator = await startOpenAIEmulator({ basePath: '/openai/v1', timing: { ttftMs: 0, tokensPerSecond: 0 } });
    const llm = createOpenAICompatibleLlm({ name: 'groq-local', baseURL: emulator.baseURL, model: 'llama-3.1-8b-instant' });
    expect(llm.provider).toBe('groq-local');
    const transcript = await playConversation(llm, ['Hello?', 'Yeah, that works']);
    expect(transcript.map((t) => t.tools)).toEqual([[], ['confirm_appointment'], []]);
    expect(emulator.requests.map((r) => r.path)).toEqual(Array(3).fill('/openai/v1/chat/completions'));
    expect(emulator.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect((emulator.requests[0]?.body as { model: string }).model).toBe('llama-3.1-8b-instant');
  });

  it('sends its own key as a Bearer token and names itself in errors', async () => {
    emulator = await startOpenAIEmulator({ apiKey: 'vllm-key', timing: { ttftMs: 0, tokensPerSecond: 0 } });
    const llm = createOpenAICompatibleLlm({ name: 'vllm', baseURL: emulator.baseURL, model: 'qwen', apiKey: 'vllm-key', maxRetries: 0 });
    await collect(llm, request());
    expect(emulator.requests[0]?.auth).toBe('ok');
    emulator.failNext(1, { status: 500 });
    await expect(collect(llm, request())).rejects.toMatchObject({
      name: 'LlmServiceError',
      provider: 'vllm',
      status: 500,
      message: expect.stringMatching(/^vllm: /),
    });
  });
});
