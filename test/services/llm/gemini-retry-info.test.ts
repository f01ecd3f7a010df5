import { afterEach, describe, expect, it, vi } from 'vitest';
import { startGeminiEmulator, type GeminiEmulator } from '../../../src/sandbox/providers/gemini-emulator.ts';
import { createGoogleLlm } from '../../../src/services/llm/google.ts';
import { LlmServiceError } from '../../../src/services/llm/llm-service.ts';
import type { LlmImplementation } from '../../../src/services/llm/openai.ts';
import { collect, request } from './helpers.ts';

const apiKey = 'gemini-emulator-key';
let emulator: GeminiEmulator | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await emulator?.close();
  emulator = undefined;
});

/** Lets I/O and promise callbacks run without moving the fake clock. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe.each<LlmImplementation>(['lean', 'ai-sdk'])('Gemini 429 with google.rpc.RetryInfo (%s)', (implementation) => {
  it('waits the retryDelay it asks for (1.5 s, within the 2 s bound) and retries once', async () => {
    emulator = await startGeminiEmulator({ apiKey, timing: { ttftMs: 0, tokensPerSecond: 0 } });
    const em = emulator;
    em.failNext(1, { status: 429, retryAfterMs: 1500 });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const llm = createGoogleLlm({ apiKey, baseURL: em.baseURL, implementation });
    const done = collect(llm, request());
    // Fake milliseconds pass only once the 429 has been sent; the retry must not come sooner than asked.
    let waited = 0;
    while (em.requests.length < 2) {
      await tick();
      if (em.requests[0]?.endedAt !== undefined) {
        await vi.advanceTimersByTimeAsync(1);
        waited++;
      }
      if (waited > 5000) throw new Error('no retry');
    }
    expect(waited).toBeGreaterThanOrEqual(1500);
    expect(waited).toBeLessThan(1700);
    const events = await done;
    expect(events.at(-1)?.type).toBe('finish');
    expect(em.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it('fails at once, without retrying, when the retryDelay is longer than a phone turn allows (30 s)', async () => {
    emulator = await startGeminiEmulator({ apiKey, timing: { ttftMs: 0, tokensPerSecond: 0 } });
    const em = emulator;
    em.failNext(1, { status: 429, retryAfterMs: 30_000 });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const llm = createGoogleLlm({ apiKey, baseURL: em.baseURL, implementation });
    const error = await collect(llm, request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmServiceError);
    expect(error).toMatchObject({ provider: 'google', status: 429, code: 'RESOURCE_EXHAUSTED', retryable: true, retryAfterMs: 30_000 });
    expect(em.requests).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0); // no retry waiting either
  });

  it('honours a longer bound when configured (maxRetryDelayMs)', async () => {
    emulator = await startGeminiEmulator({ apiKey, timing: { ttftMs: 0, tokensPerSecond: 0 } });
    const em = emulator;
    em.failNext(1, { status: 429, retryAfterMs: 3000 });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const llm = createGoogleLlm({ apiKey, baseURL: em.baseURL, implementation, maxRetryDelayMs: 5000 });
    const done = collect(llm, request());
    while (em.requests[0]?.endedAt === undefined) await tick();
    for (let i = 0; i < 50 && em.requests.length < 2; i++) {
      await tick();
      await vi.advanceTimersByTimeAsync(100);
    }
    expect((await done).at(-1)?.type).toBe('finish');
    expect(em.requests.map((r) => r.status)).toEqual([429, 200]);
  });
});
