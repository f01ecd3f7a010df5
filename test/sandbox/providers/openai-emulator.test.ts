import { afterEach, describe, expect, it } from 'vitest';
import type { LlmPolicyInput } from '../../../src/sandbox/providers/llm-policy.ts';
import { splitIntoTokens } from '../../../src/sandbox/providers/llm-emulator-server.ts';
import { startOpenAIEmulator, type OpenAIEmulator } from '../../../src/sandbox/providers/openai-emulator.ts';
import { parseSse, postJson, reminderPrompt } from '../../services/llm/fixtures.ts';

const testPolicy: LlmPolicyInput = {
  name: 'wire-test',
  rules: [
    { id: 'weather', when: { userSays: ['weather'] }, toolCalls: [{ name: 'get_weather', args: { city: 'Paris', days: 2 } }] },
    {
      id: 'both',
      when: { userSays: ['bye'] },
      reply: 'Goodbye!',
      toolCalls: [{ name: 'end_call', args: { reason: 'completed' } }],
    },
    { id: 'after-weather', when: { afterToolResult: 'get_weather' }, reply: 'It is sunny.' },
  ],
  fallback: { reply: 'Hello there, how are you today?' },
};

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const endCallTool = {
  type: 'function',
  function: { name: 'end_call', description: 'End', parameters: { type: 'object', properties: {} } },
};

let emulator: OpenAIEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function start(options: Parameters<typeof startOpenAIEmulator>[0] = {}): Promise<OpenAIEmulator> {
  emulator = await startOpenAIEmulator({ policy: testPolicy, timing: { ttftMs: 0, tokensPerSecond: 0 }, ...options });
  return emulator;
}

function chatChunks(text: string): Array<Record<string, unknown>> {
  const events = parseSse(text);
  expect(events.at(-1)?.data).toBe('[DONE]');
  return events.slice(0, -1).map((event) => JSON.parse(event.data) as Record<string, unknown>);
}

describe('OpenAI emulator: Chat Completions streaming', () => {
  it('streams a role chunk, token-sized content, finish_reason, a usage chunk and [DONE]', async () => {
    const em = await start();
    const res = await postJson(`${em.baseURL}/chat/completions`, {
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const chunks = chatChunks(res.text);
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ object: 'chat.completion.chunk', model: 'gpt-4o-mini' });
      expect(chunk.id).toMatch(/^chatcmpl-/);
      expect(chunk).toHaveProperty('usage'); // null on all but the last with include_usage
    }
    const choices = chunks.map((c) => (c.choices as Array<Record<string, unknown>>)[0]);
    expect(choices[0]).toEqual({
      index: 0,
      delta: { role: 'assistant', content: 'Hello', refusal: null },
      logprobs: null,
      finish_reason: null,
    });
    const contentChunks = choices.filter((c) => c && (c.delta as { content?: string }).content !== undefined);
    const pieces = contentChunks.map((c) => (c?.delta as { content: string }).content);
    expect(pieces.join('')).toBe('Hello there, how are you today?');
    expect(pieces).toEqual(splitIntoTokens('Hello there, how are you today?'));
    expect(choices.at(-2)).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' });
    const usageChunk = chunks.at(-1) as {
      choices: unknown[];
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    };
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage.completion_tokens).toBe(pieces.length);
    expect(usageChunk.usage.total_tokens).toBe(usageChunk.usage.prompt_tokens + usageChunk.usage.completion_tokens);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('omits usage without stream_options.include_usage', async () => {
    const em = await start();
    const res = await postJson(`${em.baseURL}/chat/completions`, {
      model: 'm',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const chunks = chatChunks(res.text);
    expect(chunks.some((c) => 'usage' in c)).toBe(false);
    expect((chunks.at(-1)?.choices as Array<{ finish_reason: string }>)[0]?.finish_reason).toBe('stop');
  });

  it('streams tool calls as an opening fragment (index, id, type, name) then argument pieces', async () => {
    const em = await start();
    const res = await postJson(`${em.baseURL}/chat/completions`, {
      model: 'm',
      stream: true,
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'weather please' }],
    });
    const deltas = chatChunks(res.text).map(
      (c) => (c.choices as Array<{ delta: Record<string, unknown>; finish_reason: string | null }>)[0],
    );
    const first = deltas[0]?.delta as { role: string; content: null; tool_calls: Array<Record<string, unknown>> };
    expect(first.role).toBe('assistant');
    expect(first.content).toBeNull();
    expect(first.tool_calls).toEqual([
      { index: 0, id: expect.stringMatching(/^call_[A-Za-z0-9]{24}$/), type: 'function', function: { name: 'get_weather', arguments: '' } },
    ]);
    const argumentDeltas = deltas.slice(1, -1).map((d) => (d?.delta.tool_calls as Array<Record<string, unknown>>)[0]);
    expect(argumentDeltas.length).toBeGreaterThan(2);
    for (const d of argumentDeltas) expect(Object.keys(d ?? {}).sort()).toEqual(['function', 'index']);
    const args = argumentDeltas.map((d) => (d?.function as { arguments: string }).arguments).join('');
    expect(JSON.parse(args)).toEqual({ city: 'Paris', days: 2 });
    expect(deltas.at(-1)?.finish_reason).toBe('tool_calls');
  });

  it('puts text before the tool call in one response', async () => {
    const em = await start();
    const res = await postJson(`${em.baseURL}/chat/completions`, {
      model: 'm',
      stream: true,
      tools: [endCallTool],
      messages: [{ role: 'user', content: 'ok bye' }],
    });
    const deltas = chatChunks(res.text).map((c) => (c.choices as Array<{ delta: Record<string, unknown> }>)[0]?.delta);
    const text = deltas.map((d) => d?.content ?? '').join('');
    expect(text).toBe('Goodbye!');
    const opening = deltas.find((d) => d?.tool_calls) as { role?: string; tool_calls: Array<{ id: string }> };
    expect(opening.role).toBeUndefined();
    expect(opening.tool_calls[0]?.id).toMatch(/^call_/);
  });

  it('drops tool calls the request does not offer (the rule does not apply)', async () => {
    const em = await start();
    const res = await postJson(`${em.baseURL}/chat/completions`, {
      model: 'm',
      stream: false,
      messages: [{ role: 'user', content: 'weather please' }],
    });
    const body = res.json() as { choices: Array<{ message: { content: string; tool_calls?: unknown } }> };
    expect(body.choices[0]?.message.content).toBe('Hello there, how are you today?');
    expect(body.choices[0]?.message.tool_calls).toBeUndefined();
    expect(em.requests[0]?.reply?.ruleId).toBe('fallback');
  });

  it('answers non-streaming requests with a chat.completion object', async () => {
    const em = await start();
    const res = await postJson(`${em.baseURL}/chat/completions`, {
      model: 'm',
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'weather?' }],
    });
    expect(res.json()).toMatchObject({
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","days":2}' } }],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) },
    });
  });

  it('accepts a tool result that answers the call, and rejects one that answers nothing', async () => {
    const em = await start();
    const history = [
      { role: 'user', content: 'weather?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
      },
    ];
    const ok = await postJson(`${em.baseURL}/chat/completions`, {
      model: 'm',
      tools: [weatherTool],
      messages: [...history, { role: 'tool', tool_call_id: 'call_1', content: '{"sky":"clear"}' }],
    });
    expect((ok.json() as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe('It is sunny.');

    const orphan = await postJson(`${em.baseURL}/chat/completions`, {
      model: 'm',
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'tool', tool_call_id: 'call_9', content: 'x' },
      ],
    });
    expect(orphan.status).toBe(400);
    expect(orphan.json()).toEqual({
      error: {
        message: "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
        type: 'invalid_request_error',
        param: 'messages.[1].role',
        code: null,
      },
    });

    const unanswered = await postJson(`${em.baseURL}/chat/completions`, {
      model: 'm',
      messages: [...history, { role: 'user', content: 'hm' }],
    });
    expect(unanswered.status).toBe(400);
    expect((unanswered.json() as { error: { message: string } }).error.message).toContain('did not have response messages: call_1');
  });

  it('reports missing messages and malformed JSON the way OpenAI does', async () => {
    const em = await start();
    const missing = await postJson(`${em.baseURL}/chat/completions`, { model: 'm' });
    expect(missing.status).toBe(400);
    expect(missing.json()).toEqual({
      error: {
        message: "Missing required parameter: 'messages'.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'missing_required_parameter',
      },
    });
    const raw = await fetch(`${em.baseURL}/chat/completions`, { method: 'POST', body: '{not json' });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { message: string } }).error.message).toMatch(/^We could not parse the JSON body/);
  });
});

describe('OpenAI emulator: Responses API streaming', () => {
  it('sends the documented event sequence with event: lines, sequence numbers and no [DONE]', async () => {
    const em = await start();
    const res = await postJson(`${em.baseURL}/responses`, {
      model: 'gpt-4o-mini',
      stream: true,
      store: false,
      tools: [{ type: 'function', name: 'end_call', description: 'End', parameters: { type: 'object', properties: {} } }],
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'bye' }] }],
    });
    const events = parseSse(res.text);
    const data = events.map((e) => JSON.parse(e.data) as Record<string, unknown>);
    events.forEach((e, i) => expect(e.event).toBe(data[i]?.type));
    expect(data.map((d) => d.sequence_number)).toEqual(data.map((_, i) => i));
    expect(res.text).not.toContain('[DONE]');
    const types = data.map((d) => d.type as string);
    const deltas = types.filter((t) => t === 'response.output_text.delta').length;
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...Array<string>(deltas).fill('response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      ...types.filter((t) => t === 'response.function_call_arguments.delta'),
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(deltas).toBe(splitIntoTokens('Goodbye!').length);
    const call = data.find((d) => d.type === 'response.output_item.added' && (d.item as { type: string }).type === 'function_call');
    expect(call?.item).toMatchObject({ type: 'function_call', status: 'in_progress', name: 'end_call', arguments: '' });
    const completed = data.at(-1)?.response as { status: string; output: Array<{ type: string }>; usage: { total_tokens: number } };
    expect(completed.status).toBe('completed');
    expect(completed.output.map((o) => o.type)).toEqual(['message', 'function_call']);
    expect(completed.usage.total_tokens).toBeGreaterThan(0);
  });

  it('rejects a function_call_output without its function_call', async () => {
    const em = await start();
    const res = await postJson(`${em.baseURL}/responses`, {
      model: 'm',
      input: [{ type: 'function_call_output', call_id: 'call_x', output: '{}' }],
    });
    expect(res.status).toBe(400);
    expect((res.json() as { error: { message: string } }).error.message).toBe(
      'No tool call found for function call output with call_id call_x.',
    );
  });
});

describe('OpenAI emulator: auth, errors, models, paths', () => {
  it("returns OpenAI's 401 bodies for a missing or wrong key", async () => {
    const em = await start({ apiKey: 'sk-test-0123456789abcdef' });
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    const missing = await postJson(`${em.baseURL}/chat/completions`, body);
    expect(missing.status).toBe(401);
    expect(missing.json()).toEqual({
      error: {
        message: expect.stringMatching(
          /^You didn't provide an API key\. You need to provide your API key in an Authorization header using Bearer auth/,
        ),
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    });
    const wrong = await postJson(`${em.baseURL}/chat/completions`, body, { authorization: 'Bearer sk-wrong-key-000000001234' });
    expect(wrong.status).toBe(401);
    expect(wrong.json()).toEqual({
      error: {
        message: `Incorrect API key provided: sk-wrong${'*'.repeat(13)}1234. You can find your API key at https://platform.openai.com/account/api-keys.`,
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
    const ok = await postJson(`${em.baseURL}/chat/completions`, body, { authorization: 'Bearer sk-test-0123456789abcdef' });
    expect(ok.status).toBe(200);
    expect(em.requests.map((r) => r.auth)).toEqual(['missing', 'invalid', 'ok']);
    // The key never lands in the request log.
    expect(JSON.stringify(em.requests)).not.toContain('sk-test-0123456789abcdef');
  });

  it('fails the next N requests with OpenAI-shaped 429/500 bodies and retry headers', async () => {
    const em = await start();
    em.failNext(1, { status: 429, retryAfterMs: 1500 });
    em.failNext(1, { status: 500 });
    em.failNext(1, { status: 400, code: 'context_length_exceeded', message: 'Too long.' });
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
    const limited = await postJson(`${em.baseURL}/chat/completions`, body);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after-ms')).toBe('1500');
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.json()).toEqual({
      error: {
        message: expect.stringMatching(/^Rate limit reached for gpt-4o-mini/),
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      },
    });
    const failed = await postJson(`${em.baseURL}/chat/completions`, body);
    expect(failed.status).toBe(500);
    expect(failed.json()).toEqual({
      error: {
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        param: null,
        code: null,
      },
    });
    const custom = await postJson(`${em.baseURL}/chat/completions`, body);
    expect(custom.json()).toEqual({
      error: { message: 'Too long.', type: 'invalid_request_error', param: null, code: 'context_length_exceeded' },
    });
    expect((await postJson(`${em.baseURL}/chat/completions`, body)).status).toBe(200);
    expect(em.requests.map((r) => [r.status, r.outcome, r.fault])).toEqual([
      [429, 'failed', 'http-error'],
      [500, 'failed', 'http-error'],
      [400, 'failed', 'http-error'],
      [200, 'completed', undefined],
    ]);
  });

  it('sends an error event mid-stream and ends without [DONE]', async () => {
    const em = await start();
    em.errorMidStream(1, { afterTokens: 2 });
    const res = await postJson(`${em.baseURL}/chat/completions`, {
      model: 'm',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const events = parseSse(res.text);
    expect(events).toHaveLength(3);
    expect(JSON.parse(events[2]?.data ?? '')).toEqual({
      error: {
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        param: null,
        code: null,
      },
    });
    expect(em.requests[0]?.outcome).toBe('failed');
  });

  it('lists models, serves a custom path prefix and 404s unknown paths like OpenAI', async () => {
    const em = await start({ basePath: '/openai/v1', models: ['llama-3.1-8b-instant'] });
    expect(em.baseURL).toBe(`${em.url}/openai/v1`);
    const models = (await (await fetch(`${em.baseURL}/models`)).json()) as { object: string; data: Array<{ id: string }> };
    expect(models).toEqual({
      object: 'list',
      data: [{ id: 'llama-3.1-8b-instant', object: 'model', created: expect.any(Number), owned_by: 'system' }],
    });
    const wrongModel = await postJson(`${em.baseURL}/chat/completions`, { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(wrongModel.status).toBe(404);
    expect((wrongModel.json() as { error: { code: string } }).error.code).toBe('model_not_found');
    const wrongPath = await postJson(`${em.url}/v1/chat/completions`, { model: 'm', messages: [] });
    expect(wrongPath.status).toBe(404);
    expect(wrongPath.json()).toEqual({
      error: { message: 'Invalid URL (POST /v1/chat/completions)', type: 'invalid_request_error', param: null, code: null },
    });
  });
});

describe('OpenAI emulator: timing and disconnects', () => {
  it('waits the configured time to first token and paces tokens', async () => {
    const em = await start({ timing: { ttftMs: 120, tokensPerSecond: 100 } });
    const started = performance.now();
    const res = await fetch(`${em.baseURL}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    const firstChunkAfter = performance.now() - started;
    while (!(await reader.read()).done) {
      /* drain */
    }
    const total = performance.now() - started;
    const record = await em.settled(0);
    expect(firstChunkAfter).toBeGreaterThanOrEqual(115);
    expect((record.firstTokenAt ?? 0) - record.receivedAt).toBeGreaterThanOrEqual(115);
    // At 100 tok/s the last token is due (tokens - 1) × 10 ms after the first.
    const expectedSpread = (splitIntoTokens('Hello there, how are you today?').length - 1) * 10;
    expect(total - firstChunkAfter).toBeGreaterThanOrEqual(expectedSpread * 0.8);
  });

  it('stops generating and records the abort when the client disconnects mid-stream', async () => {
    const em = await start({
      policy: { name: 'long', rules: [], fallback: { reply: 'word '.repeat(200) } },
      timing: { ttftMs: 0, tokensPerSecond: 200 },
    });
    const controller = new AbortController();
    const res = await fetch(`${em.baseURL}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      signal: controller.signal,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await reader.read();
    controller.abort();
    const record = await em.settled(0);
    expect(record.outcome).toBe('aborted');
    // 200 tokens at 200 tok/s would take a second; the emulator stopped long before.
    expect(record.eventsSent).toBeLessThan(100);
  });

  it('hangs before the response headers until the client gives up', async () => {
    const em = await start();
    em.hangNext(1);
    const attempt = fetch(`${em.baseURL}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: reminderPrompt() }] }),
      signal: AbortSignal.timeout(150),
    });
    await expect(attempt).rejects.toThrow();
    const record = await em.settled(0);
    expect(record).toMatchObject({ fault: 'hang', outcome: 'aborted' });
    expect(record.status).toBeUndefined();
  });
});
