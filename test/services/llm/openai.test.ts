import { afterEach, describe, expect, it } from 'vitest';
import { startOpenAIEmulator, type OpenAIEmulator } from '../../../src/sandbox/providers/openai-emulator.ts';
import { splitIntoTokens } from '../../../src/sandbox/providers/llm-emulator-server.ts';
import { LlmServiceError, type LlmService, type LlmStreamEvent } from '../../../src/services/llm/llm-service.ts';
import { createOpenAILlm } from '../../../src/services/llm/openai.ts';
import { collect, playConversation, request } from './helpers.ts';
import { reminderPrompt } from './fixtures.ts';

const apiKey = 'sk-emulator-key-0001';
let emulator: OpenAIEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function setup(
  emulatorOptions: Parameters<typeof startOpenAIEmulator>[0] = {},
  serviceOptions: Parameters<typeof createOpenAILlm>[0] = {},
): Promise<{ em: OpenAIEmulator; llm: LlmService }> {
  emulator = await startOpenAIEmulator({ apiKey, timing: { ttftMs: 0, tokensPerSecond: 0 }, ...emulatorOptions });
  return { em: emulator, llm: createOpenAILlm({ apiKey, baseURL: emulator.baseURL, ...serviceOptions }) };
}

const greeting =
  "Hi Maria, this is Sam calling from St. Mary's Family Clinic to remind you about your appointment with Dr. Ana Lee on Tuesday, March 4 at 10:30 AM. Will you be able to make it?";

describe('OpenAI service (Chat Completions) against the emulator', () => {
  it('streams text deltas token by token, then finish with usage', async () => {
    const { em, llm } = await setup();
    const events = await collect(llm, request({ messages: [{ role: 'user', content: 'Hello?' }] }));
    const texts = events.filter((e) => e.type === 'text').map((e) => (e as { text: string }).text);
    expect(texts).toEqual(splitIntoTokens(greeting));
    const finish = events.at(-1) as Extract<LlmStreamEvent, { type: 'finish' }>;
    expect(finish.type).toBe('finish');
    expect(finish.finishReason).toBe('stop');
    expect(finish.usage.outputTokens).toBe(texts.length);
    expect(finish.usage.inputTokens).toBeGreaterThan(0);
    const sent = em.requests[0]?.body as Record<string, unknown>;
    expect(em.requests[0]?.path).toBe('/v1/chat/completions');
    expect(sent).toMatchObject({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, max_tokens: 1024 });
    expect(sent.messages).toEqual([
      { role: 'system', content: reminderPrompt() },
      { role: 'user', content: 'Hello?' },
    ]);
  });

  it('sends AgentTool zod schemas as JSON Schema and returns validated tool calls', async () => {
    const { em, llm } = await setup();
    const events = await collect(
      llm,
      request({
        messages: [
          { role: 'user', content: 'Hello?' },
          { role: 'assistant', content: greeting },
          { role: 'user', content: "Sorry, I can't make it" },
        ],
      }),
    );
    const sentTools = (em.requests[0]?.body as { tools: Array<{ type: string; function: Record<string, unknown> }> }).tools;
    expect(sentTools.map((t) => t.function.name)).toEqual(['confirm_appointment', 'request_reschedule', 'end_call']);
    expect(sentTools[1]).toEqual({
      type: 'function',
      function: {
        name: 'request_reschedule',
        description: 'Ask the office to call back with a new time.',
        parameters: {
          $schema: 'http://json-schema.org/draft-07/schema#',
          type: 'object',
          properties: { reason: { type: 'string', description: 'Why they cannot come' } },
          additionalProperties: false,
        },
      },
    });
    expect((sentTools[2]?.function.parameters as { required: string[] }).required).toEqual(['reason']);
    // The sandbox policy acknowledges ("I understand.") in the same response as the tool call.
    expect(
      events
        .filter((e) => e.type === 'text')
        .map((e) => e.text)
        .join(''),
    ).toBe('I understand.');
    expect(events.filter((e) => e.type !== 'text')).toEqual([
      {
        type: 'tool-call',
        toolCallId: expect.stringMatching(/^call_/),
        toolName: 'request_reschedule',
        input: { reason: "Sorry, I can't make it" },
      },
      { type: 'finish', finishReason: 'tool-calls', usage: expect.any(Object) },
    ]);
  });

  it('walks the whole appointment call, sending tool results back as `tool` messages', async () => {
    const { em, llm } = await setup();
    const transcript = await playConversation(llm, ['Hello?', 'Yes, I will be there', "No, that's all"]);
    expect(transcript).toEqual([
      { user: 'Hello?', assistant: greeting, tools: [] },
      { user: 'Yes, I will be there', assistant: 'Thank you!', tools: ['confirm_appointment'] },
      {
        user: null,
        assistant: "Great, you're all set for Tuesday, March 4 at 10:30 AM. Is there anything else I can help you with?",
        tools: [],
      },
      { user: "No, that's all", assistant: 'Thanks Maria, have a great day. Goodbye!', tools: ['end_call'] },
    ]);
    const afterConfirm = (em.requests[2]?.body as { messages: Array<Record<string, unknown>> }).messages.slice(-2);
    expect(afterConfirm[0]).toMatchObject({
      role: 'assistant',
      tool_calls: [{ id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'confirm_appointment', arguments: '{}' } }],
    });
    expect(afterConfirm[1]).toEqual({
      role: 'tool',
      tool_call_id: (afterConfirm[0]?.tool_calls as Array<{ id: string }>)[0]?.id,
      content: '{"ok":true}',
    });
    expect(em.requests.map((r) => r.reply?.ruleId)).toEqual(['greeting', 'confirm', 'after-confirm', 'wrap-up']);
  });

  it('ends quietly when aborted mid-stream, and the emulator sees the disconnect', async () => {
    const { em, llm } = await setup({ timing: { ttftMs: 0, tokensPerSecond: 100 } });
    const controller = new AbortController();
    const texts: string[] = [];
    for await (const event of llm.stream(request({ messages: [{ role: 'user', content: 'Hello?' }], signal: controller.signal }))) {
      if (event.type === 'text') texts.push(event.text);
      if (texts.length === 3) controller.abort();
    }
    expect(texts).toHaveLength(3);
    const record = await em.settled(0);
    expect(record.outcome).toBe('aborted');
    // The emulator stopped generating: far fewer chunks than the ~40 of the whole reply went out.
    expect(record.eventsSent).toBeLessThan(20);
  });

  it('ends quietly when aborted before the first token, cancelling the request', async () => {
    const { em, llm } = await setup({ timing: { ttftMs: 3000, tokensPerSecond: 100 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    const events = await collect(llm, request({ messages: [{ role: 'user', content: 'Hello?' }], signal: controller.signal }));
    expect(events).toEqual([]);
    expect(performance.now() - started).toBeLessThan(1000);
    expect((await em.settled(0)).outcome).toBe('aborted');
  });

  it('cancels the request when the consumer stops reading', async () => {
    const { em, llm } = await setup({ timing: { ttftMs: 0, tokensPerSecond: 100 } });
    for await (const event of llm.stream(request({ messages: [{ role: 'user', content: 'Hello?' }] }))) {
      if (event.type === 'text') break;
    }
    expect((await em.settled(0)).outcome).toBe('aborted');
  });
});

describe('OpenAI service errors and retries', () => {
  it('maps 429 to LlmServiceError with status and OpenAI code, without retrying a long retry-after', async () => {
    const { em, llm } = await setup();
    em.failNext(1, { status: 429, retryAfterMs: 20_000 });
    const error = await collect(llm, request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmServiceError);
    expect(error).toMatchObject({ provider: 'openai', status: 429, code: 'rate_limit_exceeded', callId: 'call-1' });
    expect((error as Error).message).toMatch(/^openai: Rate limit reached for gpt-4o-mini.*\(HTTP 429, rate_limit_exceeded\)$/);
    expect(em.requests).toHaveLength(1);
  });

  it('retries a 500 once, quickly, then succeeds', async () => {
    const { em, llm } = await setup({}, { retryDelayMs: 20 });
    em.failNext(1, { status: 500 });
    const events = await collect(llm, request());
    expect(events.at(-1)?.type).toBe('finish');
    expect(em.requests.map((r) => r.status)).toEqual([500, 200]);
  });

  it('gives up after maxRetries and reports the last error', async () => {
    const { em, llm } = await setup({}, { retryDelayMs: 0 });
    em.failNext(2, { status: 503 });
    await expect(collect(llm, request())).rejects.toMatchObject({ status: 503, code: 'server_error' });
    expect(em.requests).toHaveLength(2);
  });

  it('does not retry client errors (401)', async () => {
    const { em } = await setup();
    const llm = createOpenAILlm({ apiKey: 'sk-wrong-key-0000000000', baseURL: em.baseURL });
    await expect(collect(llm, request())).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    expect(em.requests).toHaveLength(1);
  });

  it('throws an error event that arrives mid-stream, after the text already streamed', async () => {
    const { em, llm } = await setup();
    em.errorMidStream(1, { afterTokens: 3, status: 500, code: 'server_error', message: 'Upstream failed.' });
    const texts: string[] = [];
    const error = await (async () => {
      for await (const event of llm.stream(request())) if (event.type === 'text') texts.push(event.text);
    })().catch((e: unknown) => e);
    expect(texts).toEqual(splitIntoTokens(greeting).slice(0, 3));
    expect(error).toBeInstanceOf(LlmServiceError);
    expect(error).toMatchObject({ provider: 'openai', code: 'server_error', message: expect.stringContaining('Upstream failed.') });
    expect(em.requests).toHaveLength(1); // output had started: no retry
  });

  it('times out a request with no first token, cancels it and retries once', async () => {
    const { em, llm } = await setup({}, { firstTokenTimeoutMs: 150, retryDelayMs: 0 });
    em.hangNext(1);
    const events = await collect(llm, request());
    expect(events.at(-1)?.type).toBe('finish');
    expect(em.requests).toHaveLength(2);
    expect(em.requests[0]).toMatchObject({ fault: 'hang', outcome: 'aborted' });
  });

  it('fails with code "timeout" when the stream stalls after output started', async () => {
    const { em, llm } = await setup({}, { idleTimeoutMs: 150 });
    em.hangNext(1, { afterTokens: 4 });
    const texts: string[] = [];
    const error = await (async () => {
      for await (const event of llm.stream(request())) if (event.type === 'text') texts.push(event.text);
    })().catch((e: unknown) => e);
    expect(texts).toHaveLength(4);
    expect(error).toMatchObject({ name: 'LlmServiceError', code: 'timeout', provider: 'openai' });
    expect((await em.settled(0)).outcome).toBe('aborted');
  });

  it('does not count a slow consumer against the idle timeout', async () => {
    const { em, llm } = await setup({ policy: { name: 'short', rules: [], fallback: { reply: 'One two three.' } } }, { idleTimeoutMs: 80 });
    const events: string[] = [];
    for await (const event of llm.stream(request())) {
      events.push(event.type);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    expect(events).toEqual(['text', 'text', 'text', 'text', 'finish']);
    expect(em.requests).toHaveLength(1);
  });

  it('maps a refused connection to a network error code', async () => {
    const { em } = await setup();
    const baseURL = em.baseURL;
    await em.close();
    emulator = undefined;
    const llm = createOpenAILlm({ apiKey, baseURL, maxRetries: 0 });
    await expect(collect(llm, request())).rejects.toMatchObject({ name: 'LlmServiceError', code: 'ECONNREFUSED' });
  });
});

describe('OpenAI service on the Responses API', () => {
  it('streams text and tool calls and sends history as function_call / function_call_output items', async () => {
    const { em, llm } = await setup({}, { api: 'responses' });
    const transcript = await playConversation(llm, ['Hello?', 'DTMF: 2', 'Nope']);
    expect(transcript.map((t) => t.tools)).toEqual([[], ['request_reschedule'], [], ['end_call']]);
    expect(transcript[2]?.assistant).toMatch(/find a new time\. Anything else\?$/);
    expect(em.requests.every((r) => r.path === '/v1/responses')).toBe(true);
    const body = em.requests[2]?.body as { store: boolean; input: Array<Record<string, unknown>> };
    expect(body.store).toBe(false);
    const call = body.input.find((item) => item.type === 'function_call');
    const output = body.input.find((item) => item.type === 'function_call_output');
    expect(call).toMatchObject({ name: 'request_reschedule', arguments: '{"reason":"DTMF: 2"}' });
    expect(output).toEqual({ type: 'function_call_output', call_id: call?.call_id, output: '{"ok":true}' });
  });

  it('maps Responses API HTTP errors the same way', async () => {
    const { em, llm } = await setup({}, { api: 'responses', maxRetries: 0 });
    em.failNext(1, { status: 500 });
    await expect(collect(llm, request())).rejects.toMatchObject({ status: 500, code: 'server_error' });
  });
});
