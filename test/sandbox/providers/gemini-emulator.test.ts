import { afterEach, describe, expect, it } from 'vitest';
import type { LlmPolicyInput } from '../../../src/sandbox/providers/llm-policy.ts';
import { startGeminiEmulator, type GeminiEmulator } from '../../../src/sandbox/providers/gemini-emulator.ts';
import { parseSse, postJson } from '../../services/llm/fixtures.ts';

const testPolicy: LlmPolicyInput = {
  name: 'wire-test',
  rules: [
    { id: 'weather', when: { userSays: ['weather'] }, toolCalls: [{ name: 'get_weather', args: { city: 'Paris' } }] },
    { id: 'after-weather', when: { afterToolResult: 'get_weather' }, reply: 'It is sunny in Paris today.' },
  ],
  fallback: { reply: 'Hello there! This is a slightly longer reply so that it spans several chunks of text.' },
};

const tools = [
  {
    functionDeclarations: [
      { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
    ],
  },
];

let emulator: GeminiEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function start(options: Parameters<typeof startGeminiEmulator>[0] = {}): Promise<GeminiEmulator> {
  emulator = await startGeminiEmulator({ policy: testPolicy, timing: { ttftMs: 0, tokensPerSecond: 0 }, ...options });
  return emulator;
}

const streamUrl = (em: GeminiEmulator, model = 'gemini-2.5-flash') => `${em.baseURL}/models/${model}:streamGenerateContent?alt=sse`;
const userTurn = (text: string) => ({ role: 'user', parts: [{ text }] });

describe('Gemini emulator: streamGenerateContent', () => {
  it('streams text chunks delimited by \\r\\n\\r\\n, the last with finishReason and full usage', async () => {
    const em = await start();
    const res = await postJson(streamUrl(em), {
      contents: [userTurn('hi')],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.text.endsWith('\r\n\r\n')).toBe(true);
    expect(res.text).not.toContain('[DONE]');
    const chunks = parseSse(res.text).map(
      (e) =>
        JSON.parse(e.data) as {
          candidates: Array<{ content: { parts: Array<{ text: string }>; role: string }; finishReason?: string; index: number }>;
          usageMetadata: Record<string, number>;
          modelVersion: string;
          responseId: string;
        },
    );
    expect(chunks.length).toBeGreaterThan(2);
    const text = chunks.map((c) => c.candidates[0]?.content.parts[0]?.text).join('');
    expect(text).toBe(testPolicy.fallback.reply);
    for (const chunk of chunks) {
      expect(chunk.candidates[0]).toMatchObject({ content: { role: 'model' }, index: 0 });
      expect(chunk.modelVersion).toBe('gemini-2.5-flash');
      expect(chunk.responseId).toBe(chunks[0]?.responseId);
    }
    expect(chunks.slice(0, -1).every((c) => c.candidates[0]?.finishReason === undefined)).toBe(true);
    const last = chunks.at(-1);
    expect(last?.candidates[0]?.finishReason).toBe('STOP');
    expect(last?.usageMetadata).toMatchObject({
      promptTokenCount: expect.any(Number),
      candidatesTokenCount: expect.any(Number),
    });
    expect(last?.usageMetadata.totalTokenCount).toBe(
      (last?.usageMetadata.promptTokenCount ?? 0) + (last?.usageMetadata.candidatesTokenCount ?? 0),
    );
    expect(chunks[0]?.usageMetadata.candidatesTokenCount).toBeUndefined();
  });

  it('sends a function call whole in one part', async () => {
    const em = await start();
    const res = await postJson(streamUrl(em), { contents: [userTurn('weather?')], tools });
    const chunks = parseSse(res.text).map((e) => JSON.parse(e.data));
    expect(chunks).toHaveLength(1);
    expect(chunks[0].candidates[0]).toEqual({
      content: { parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }], role: 'model' },
      finishReason: 'STOP',
      index: 0,
    });
  });

  it('accepts a functionResponse turn after the call and answers it; rejects misplaced responses', async () => {
    const em = await start();
    const call = { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] };
    const response = {
      role: 'user',
      parts: [{ functionResponse: { name: 'get_weather', response: { name: 'get_weather', content: { sky: 'clear' } } } }],
    };
    const ok = await postJson(`${em.baseURL}/models/gemini-2.5-flash:generateContent`, {
      contents: [userTurn('weather?'), call, response],
      tools,
    });
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({
      candidates: [{ content: { parts: [{ text: 'It is sunny in Paris today.' }], role: 'model' }, finishReason: 'STOP' }],
    });

    const misplaced = await postJson(streamUrl(em), { contents: [userTurn('weather?'), response] });
    expect(misplaced.status).toBe(400);
    expect(misplaced.json()).toEqual({
      error: {
        code: 400,
        message: 'Please ensure that function response turn comes immediately after a function call turn.',
        status: 'INVALID_ARGUMENT',
      },
    });
    const empty = await postJson(streamUrl(em), { contents: [] });
    expect(empty.status).toBe(400);
    expect((empty.json() as { error: { status: string } }).error.status).toBe('INVALID_ARGUMENT');
  });
});

describe('Gemini emulator: thought signatures', () => {
  it('signs the first function call and requires the signature back in the current turn', async () => {
    const em = await start({ thoughtSignatures: true });
    const first = parseSse((await postJson(streamUrl(em, 'gemini-3-flash-preview'), { contents: [userTurn('weather?')], tools })).text);
    const part = JSON.parse(first[0]?.data ?? '').candidates[0].content.parts[0];
    expect(typeof part.thoughtSignature).toBe('string');
    expect(em.issuedSignatures.has(part.thoughtSignature)).toBe(true);

    const response = { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: {} } }] };
    const echoed = await postJson(streamUrl(em), {
      contents: [userTurn('weather?'), { role: 'model', parts: [part] }, response],
      tools,
    });
    expect(echoed.status).toBe(200);

    const dropped = await postJson(streamUrl(em), {
      contents: [userTurn('weather?'), { role: 'model', parts: [{ functionCall: part.functionCall }] }, response],
      tools,
    });
    expect(dropped.status).toBe(400);
    expect((dropped.json() as { error: { message: string } }).error.message).toMatch(
      /^Function call is missing a thought_signature in functionCall parts\..*default_api:get_weather/,
    );
    const forged = await postJson(streamUrl(em), {
      contents: [userTurn('weather?'), { role: 'model', parts: [{ ...part, thoughtSignature: 'AAAA' }] }, response],
      tools,
    });
    expect((forged.json() as { error: { message: string } }).error.message).toBe('Corrupted thought signature.');
  });
});

describe('Gemini emulator: auth and faults', () => {
  it('accepts the key as x-goog-api-key or ?key=, with Google error bodies otherwise', async () => {
    const em = await start({ apiKey: 'g-key' });
    const body = { contents: [userTurn('hi')] };
    const missing = await postJson(streamUrl(em), body);
    expect(missing.status).toBe(403);
    expect(missing.json()).toEqual({
      error: {
        code: 403,
        message:
          "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        status: 'PERMISSION_DENIED',
      },
    });
    const wrong = await postJson(streamUrl(em), body, { 'x-goog-api-key': 'nope' });
    expect(wrong.status).toBe(400);
    expect(wrong.json()).toMatchObject({
      error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT' },
    });
    expect((await postJson(streamUrl(em), body, { 'x-goog-api-key': 'g-key' })).status).toBe(200);
    expect((await postJson(`${streamUrl(em)}&key=g-key`, body)).status).toBe(200);
    expect(em.requests.map((r) => r.auth)).toEqual(['missing', 'invalid', 'ok', 'ok']);
    expect(em.requests[3]?.query.key).toBe('[redacted]');
  });

  it('fails the next requests with 429 RESOURCE_EXHAUSTED and 503 UNAVAILABLE', async () => {
    const em = await start();
    em.failNext(1, { status: 429 });
    em.failNext(1, { status: 503 });
    const body = { contents: [userTurn('hi')] };
    const limited = await postJson(streamUrl(em), body);
    expect(limited.status).toBe(429);
    expect(limited.json()).toEqual({
      error: {
        code: 429,
        message: expect.stringMatching(/^You exceeded your current quota/),
        status: 'RESOURCE_EXHAUSTED',
        details: [
          expect.objectContaining({ '@type': 'type.googleapis.com/google.rpc.QuotaFailure' }),
          expect.objectContaining({ '@type': 'type.googleapis.com/google.rpc.Help' }),
        ],
      },
    });
    const overloaded = await postJson(streamUrl(em), body);
    expect(overloaded.json()).toEqual({
      error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' },
    });
  });

  it('puts the retry delay of a 429 in google.rpc.RetryInfo, as a protobuf Duration', async () => {
    const em = await start();
    em.failNext(1, { status: 429, retryAfterMs: 1500 });
    em.failNext(1, { status: 429, retryAfterMs: 26_000 });
    const body = { contents: [userTurn('hi')] };
    for (const delay of ['1.5s', '26s']) {
      const limited = await postJson(streamUrl(em), body);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBeNull();
      const details = (limited.json() as { error: { details: Array<Record<string, unknown>> } }).error.details;
      expect(details.at(-1)).toEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: delay });
      expect(details[0]).toMatchObject({
        violations: [{ quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', quotaDimensions: { location: 'global' } }],
      });
    }
  });

  it('breaks off a stream with an error chunk', async () => {
    const em = await start();
    em.errorMidStream(1, { afterTokens: 4, status: 500 });
    const res = await postJson(streamUrl(em), { contents: [userTurn('hi')] });
    const events = parseSse(res.text).map((e) => JSON.parse(e.data));
    expect(events).toHaveLength(2);
    expect(events[0].candidates[0].content.parts[0].text).toBeTruthy();
    expect(events[1]).toEqual({
      error: { code: 500, message: expect.stringMatching(/^An internal error has occurred/), status: 'INTERNAL' },
    });
  });

  it('records a client that disconnects during the time to first token', async () => {
    const em = await start({ timing: { ttftMs: 2000, tokensPerSecond: 150 } });
    const attempt = fetch(streamUrl(em), {
      method: 'POST',
      body: JSON.stringify({ contents: [userTurn('hi')] }),
      signal: AbortSignal.timeout(100),
    });
    await expect(attempt).rejects.toThrow();
    const record = await em.settled(0);
    expect(record.outcome).toBe('aborted');
    expect(record.firstTokenAt).toBeUndefined();
    expect((record.endedAt ?? Infinity) - record.receivedAt).toBeLessThan(1000);
  });
});
