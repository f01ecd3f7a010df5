/**
 * The lean clients and the AI SDK implementation side by side: for the same conversation they must send the
 * same request bodies, report the same events and map the same failures to the same errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startGeminiEmulator, type GeminiEmulator } from '../../../src/sandbox/providers/gemini-emulator.ts';
import { startOpenAIEmulator, type OpenAIEmulator } from '../../../src/sandbox/providers/openai-emulator.ts';
import { createGoogleLlm } from '../../../src/services/llm/google.ts';
import type { LlmService } from '../../../src/services/llm/llm-service.ts';
import { createOpenAICompatibleLlm } from '../../../src/services/llm/openai-compatible.ts';
import { createOpenAILlm, type LlmImplementation } from '../../../src/services/llm/openai.ts';
import { collect, playConversation, request } from './helpers.ts';

const implementations: LlmImplementation[] = ['lean', 'ai-sdk'];
const emulators: Array<OpenAIEmulator | GeminiEmulator> = [];
afterEach(async () => {
  for (const em of emulators.splice(0)) await em.close();
});

const instant = { ttftMs: 0, tokensPerSecond: 0 };

/** Replaces made-up tool call ids and thought signatures (random per run) with their order of appearance. */
function normalise(value: unknown): unknown {
  const seen = new Map<string, string>();
  const text = JSON.stringify(value, (key, v: unknown) => {
    if ((key === 'id' || key === 'toolCallId' || key === 'tool_call_id' || key === 'thoughtSignature') && typeof v === 'string') {
      if (!seen.has(v)) seen.set(v, `<${key === 'thoughtSignature' ? 'sig' : 'id'}${seen.size}>`);
      return seen.get(v);
    }
    return v;
  });
  return JSON.parse(text) as unknown;
}

async function errorOf(llm: LlmService): Promise<Record<string, unknown>> {
  const error = (await collect(llm, request()).catch((e: unknown) => e)) as Record<string, unknown>;
  const { name, provider, status, code, retryable, retryAfterMs, callId, message } = error;
  return { name, provider, status, code, retryable, retryAfterMs, callId, message };
}

describe('OpenAI Chat Completions: lean client = AI SDK', () => {
  async function run(implementation: LlmImplementation, lines: string[]) {
    const em = await startOpenAIEmulator({ apiKey: 'sk-k', timing: instant });
    emulators.push(em);
    const llm = createOpenAILlm({ apiKey: 'sk-k', baseURL: em.baseURL, implementation, temperature: 0.3 });
    const transcript = await playConversation(llm, lines);
    return { transcript, bodies: em.requests.map((r) => r.body) };
  }

  it('sends the same bodies and reports the same conversation, tools included', async () => {
    const lines = ['Hello?', "Sorry, I can't make it", 'Nope'];
    const [lean, sdk] = await Promise.all(implementations.map((i) => run(i, lines)));
    expect(lean?.transcript).toEqual(sdk?.transcript);
    expect(lean?.transcript.flatMap((t) => t.tools)).toEqual(['request_reschedule', 'end_call']);
    expect(normalise(lean?.bodies)).toEqual(normalise(sdk?.bodies));
  });

  it('maps HTTP, in-stream and network failures to the same errors', async () => {
    const faults: Array<(em: OpenAIEmulator) => void> = [
      (em) => em.failNext(1, { status: 429, retryAfterMs: 20_000 }),
      (em) => em.failNext(1, { status: 503 }),
      (em) => em.errorMidStream(1, { afterTokens: 0, status: 500, code: 'server_error', message: 'Upstream failed.' }),
      (em) => em.errorMidStream(1, { afterTokens: 2, status: 500, code: 'server_error', message: 'Upstream failed.' }),
    ];
    for (const fault of faults) {
      const results = [];
      for (const implementation of implementations) {
        const em = await startOpenAIEmulator({ apiKey: 'sk-k', timing: instant });
        emulators.push(em);
        fault(em);
        results.push(await errorOf(createOpenAILlm({ apiKey: 'sk-k', baseURL: em.baseURL, implementation, maxRetries: 0 })));
      }
      expect(results[0]).toEqual(results[1]);
    }
    const wrongKey = await Promise.all(
      implementations.map(async (implementation) => {
        const em = await startOpenAIEmulator({ apiKey: 'sk-k', timing: instant });
        emulators.push(em);
        return errorOf(createOpenAILlm({ apiKey: 'sk-wrong-key-0000000000', baseURL: em.baseURL, implementation }));
      }),
    );
    expect(wrongKey[0]).toEqual(wrongKey[1]);
    expect(wrongKey[0]).toMatchObject({ status: 401, code: 'invalid_api_key', retryable: false });
  });

  it('reports a refused connection the same way', async () => {
    const em = await startOpenAIEmulator({ timing: instant });
    const baseURL = em.baseURL;
    await em.close();
    const errors = await Promise.all(
      implementations.map((implementation) => errorOf(createOpenAILlm({ apiKey: 'k', baseURL, implementation, maxRetries: 0 }))),
    );
    expect(errors[0]).toMatchObject({ code: 'ECONNREFUSED', retryable: true, status: undefined });
    expect(errors[0]).toEqual(errors[1]);
  });

  it('an OpenAI-compatible server without a key gets the same bodies and no Authorization', async () => {
    const results = await Promise.all(
      implementations.map(async (implementation) => {
        const em = await startOpenAIEmulator({ basePath: '/openai/v1', timing: instant });
        emulators.push(em);
        const llm = createOpenAICompatibleLlm({ name: 'local', baseURL: em.baseURL, model: 'llama3.1:8b', implementation });
        await playConversation(llm, ['Hello?', 'Yes, I will be there']);
        return em.requests;
      }),
    );
    expect(normalise(results[0]?.map((r) => r.body))).toEqual(normalise(results[1]?.map((r) => r.body)));
    expect(results.flat().every((r) => r.headers.authorization === undefined)).toBe(true);
  });
});

describe('Gemini: lean client = AI SDK', () => {
  async function run(implementation: LlmImplementation, model: string, lines: string[]) {
    const em = await startGeminiEmulator({ apiKey: 'g-k', timing: instant, thoughtSignatures: model.startsWith('gemini-3') });
    emulators.push(em);
    const llm = createGoogleLlm({ apiKey: 'g-k', baseURL: em.baseURL, model, implementation });
    const transcript = await playConversation(llm, lines);
    return { transcript, bodies: em.requests.map((r) => r.body), statuses: em.requests.map((r) => r.status) };
  }

  for (const model of ['gemini-2.0-flash', 'gemini-2.5-flash', 'gemini-3-flash-preview']) {
    it(`sends the same bodies and reports the same conversation (${model})`, async () => {
      const lines = ['Hello?', 'DTMF: 2', 'Thank you, bye'];
      const [lean, sdk] = await Promise.all(implementations.map((i) => run(i, model, lines)));
      expect(lean?.transcript).toEqual(sdk?.transcript);
      expect(lean?.transcript.flatMap((t) => t.tools)).toContain('end_call');
      expect(lean?.statuses.every((s) => s === 200)).toBe(true);
      expect(normalise(lean?.bodies)).toEqual(normalise(sdk?.bodies));
    });
  }

  it('maps HTTP and in-stream failures to the same errors', async () => {
    const faults: Array<(em: GeminiEmulator) => void> = [
      (em) => em.failNext(1, { status: 429, retryAfterMs: 1500 }),
      (em) => em.failNext(1, { status: 500 }),
      (em) => em.errorMidStream(1, { afterTokens: 5, status: 503 }),
    ];
    for (const fault of faults) {
      const results = [];
      for (const implementation of implementations) {
        const em = await startGeminiEmulator({ apiKey: 'g-k', timing: instant });
        emulators.push(em);
        fault(em);
        results.push(await errorOf(createGoogleLlm({ apiKey: 'g-k', baseURL: em.baseURL, implementation, maxRetries: 0 })));
      }
      expect(results[0]).toEqual(results[1]);
    }
  });
});
