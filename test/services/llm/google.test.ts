import { afterEach, describe, expect, it } from 'vitest';
import { startGeminiEmulator, type GeminiEmulator } from '../../../src/sandbox/providers/gemini-emulator.ts';
import { splitIntoTokens } from '../../../src/sandbox/providers/llm-emulator-server.ts';
import { createGoogleLlm } from '../../../src/services/llm/google.ts';
import { LlmServiceError, type LlmService, type LlmStreamEvent } from '../../../src/services/llm/llm-service.ts';
import { reminderPrompt } from './fixtures.ts';
import { collect, playConversation, request } from './helpers.ts';

const apiKey = 'gemini-emulator-key';
let emulator: GeminiEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function setup(
  emulatorOptions: Parameters<typeof startGeminiEmulator>[0] = {},
  serviceOptions: Parameters<typeof createGoogleLlm>[0] = {},
): Promise<{ em: GeminiEmulator; llm: LlmService }> {
  emulator = await startGeminiEmulator({ apiKey, timing: { ttftMs: 0, tokensPerSecond: 0 }, ...emulatorOptions });
  return { em: emulator, llm: createGoogleLlm({ apiKey, baseURL: emulator.baseURL, ...serviceOptions }) };
}

const greeting =
  "Hi Maria, this is Sam calling from St. Mary's Family Clinic to remind you about your appointment with Dr. Ana Lee on Tuesday, March 4 at 10:30 AM. Will you be able to make it?";

type GeminiBody = {
  contents: Array<{ role: string; parts: Array<Record<string, unknown>> }>;
  systemInstruction: { parts: Array<{ text: string }> };
  tools: Array<{ functionDeclarations: Array<{ name: string; description: string; parameters: unknown }> }>;
  generationConfig: Record<string, unknown>;
};

describe('Google service against the Gemini emulator', () => {
  it('streams text in chunks, then finish with usage; sends key, system instruction and generation config', async () => {
    const { em, llm } = await setup();
    const events = await collect(llm, request());
    const texts = events.filter((e) => e.type === 'text').map((e) => (e as { text: string }).text);
    expect(texts.length).toBeGreaterThan(2);
    expect(texts.join('')).toBe(greeting);
    const finish = events.at(-1) as Extract<LlmStreamEvent, { type: 'finish' }>;
    expect(finish).toMatchObject({ type: 'finish', finishReason: 'stop' });
    expect(finish.usage.outputTokens).toBe(splitIntoTokens(greeting).length);
    expect(finish.usage.inputTokens).toBeGreaterThan(0);
    const record = em.requests[0];
    expect(record?.path).toBe('/v1beta/models/gemini-2.0-flash:streamGenerateContent');
    expect(record?.query.alt).toBe('sse');
    expect(record?.auth).toBe('ok');
    const body = record?.body as GeminiBody;
    expect(body.systemInstruction.parts[0]?.text).toBe(reminderPrompt());
    expect(body.contents).toEqual([{ role: 'user', parts: [{ text: 'Hello?' }] }]);
    expect(body.generationConfig).toEqual({ maxOutputTokens: 1024 });
  });

  it('turns thinking off by default on 2.5 Flash (it delays the first word)', async () => {
    const { em } = await setup();
    await collect(createGoogleLlm({ apiKey, baseURL: em.baseURL, model: 'gemini-2.5-flash' }), request());
    expect((em.requests[0]?.body as GeminiBody).generationConfig).toEqual({ maxOutputTokens: 1024, thinkingConfig: { thinkingBudget: 0 } });
  });

  it('declares AgentTools as functionDeclarations and returns whole tool calls with SDK-made ids', async () => {
    const { em, llm } = await setup();
    const events = await collect(
      llm,
      request({
        messages: [
          { role: 'user', content: 'Hello?' },
          { role: 'assistant', content: greeting },
          { role: 'user', content: 'yes' },
        ],
      }),
    );
    const declarations = (em.requests[0]?.body as GeminiBody).tools[0]?.functionDeclarations;
    expect(declarations?.map((d) => d.name)).toEqual(['confirm_appointment', 'request_reschedule', 'end_call']);
    expect(declarations?.[2]).toEqual({
      name: 'end_call',
      description: 'Hang up after saying goodbye.',
      parameters: { type: 'object', properties: { reason: { type: 'string' } }, required: ['reason'] },
    });
    expect(events).toEqual([
      { type: 'tool-call', toolCallId: expect.any(String), toolName: 'confirm_appointment', input: {} },
      { type: 'finish', finishReason: 'tool-calls', usage: expect.any(Object) },
    ]);
  });

  it('walks the appointment call by DTMF, sending functionCall / functionResponse turns', async () => {
    const { em, llm } = await setup();
    const transcript = await playConversation(llm, ['Hello?', 'DTMF: 1', 'Thank you, bye']);
    expect(transcript).toEqual([
      { user: 'Hello?', assistant: greeting, tools: [] },
      { user: 'DTMF: 1', assistant: 'Thank you!', tools: ['confirm_appointment'] },
      {
        user: null,
        assistant: "Great, you're all set for Tuesday, March 4 at 10:30 AM. Is there anything else I can help you with?",
        tools: [],
      },
      { user: 'Thank you, bye', assistant: 'Thanks Maria, have a great day. Goodbye!', tools: ['end_call'] },
    ]);
    const contents = (em.requests[2]?.body as GeminiBody).contents;
    expect(contents.slice(-2)).toEqual([
      {
        role: 'model',
        parts: [{ text: 'Thank you!' }, { functionCall: { id: expect.any(String), name: 'confirm_appointment', args: {} } }],
      },
      {
        role: 'user',
        parts: [
          {
            functionResponse: {
              id: expect.any(String),
              name: 'confirm_appointment',
              response: { name: 'confirm_appointment', content: { ok: true } },
            },
          },
        ],
      },
    ]);
  });

  it('passes Gemini thought signatures through tool-call events and back into history', async () => {
    const { em, llm } = await setup({ thoughtSignatures: true }, { model: 'gemini-3-flash-preview' });
    const transcript = await playConversation(llm, ['Hello?', "Sorry, I can't make it"]);
    expect(transcript.map((t) => t.tools)).toEqual([[], ['request_reschedule'], []]);
    const [issued] = em.issuedSignatures;
    expect(issued).toBeDefined();
    const modelTurn = (em.requests[2]?.body as GeminiBody).contents.find((c) => c.parts.some((p) => 'functionCall' in p));
    expect(modelTurn?.parts.find((p) => 'functionCall' in p)?.thoughtSignature).toBe(issued);
    expect(em.requests.map((r) => r.status)).toEqual([200, 200, 200]);
  });

  it('the thought signature arrives on the tool-call event as providerOptions.google', async () => {
    const { em, llm } = await setup({ thoughtSignatures: true }, { model: 'gemini-3-flash-preview' });
    const events = await collect(
      llm,
      request({
        messages: [
          { role: 'user', content: 'Hello?' },
          { role: 'assistant', content: greeting },
          { role: 'user', content: 'sure' },
        ],
      }),
    );
    const call = events.find((e) => e.type === 'tool-call');
    expect(call).toMatchObject({ providerOptions: { google: { thoughtSignature: [...em.issuedSignatures][0] } } });
    // Gemini 3 does not get the 2.5-Flash thinking default.
    expect((em.requests[0]?.body as GeminiBody).generationConfig.thinkingConfig).toBeUndefined();
  });

  it('ends quietly when aborted mid-stream, and the emulator sees the disconnect', async () => {
    const { em, llm } = await setup({ timing: { ttftMs: 0, tokensPerSecond: 100 }, tokensPerChunk: 2 });
    const controller = new AbortController();
    let texts = 0;
    for await (const event of llm.stream(request({ signal: controller.signal }))) {
      if (event.type === 'text' && ++texts === 2) controller.abort();
    }
    expect(texts).toBe(2);
    const record = await em.settled(0);
    expect(record.outcome).toBe('aborted');
  });
});

describe('Google service errors', () => {
  it('maps 429 to status 429 with the Google status as code', async () => {
    const { em, llm } = await setup({}, { maxRetries: 0 });
    em.failNext(1, { status: 429 });
    const error = await collect(llm, request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmServiceError);
    expect(error).toMatchObject({ provider: 'google', status: 429, code: 'RESOURCE_EXHAUSTED' });
    expect((error as Error).message).toMatch(/^google: You exceeded your current quota/);
  });

  it('retries one 500 INTERNAL and succeeds', async () => {
    const { em, llm } = await setup({}, { retryDelayMs: 0 });
    em.failNext(1, { status: 500 });
    expect((await collect(llm, request())).at(-1)?.type).toBe('finish');
    expect(em.requests.map((r) => r.status)).toEqual([500, 200]);
  });

  it('throws an in-stream error chunk with its status and code', async () => {
    const { em, llm } = await setup();
    em.errorMidStream(1, { afterTokens: 5, status: 503 });
    const texts: string[] = [];
    const error = await (async () => {
      for await (const event of llm.stream(request())) if (event.type === 'text') texts.push(event.text);
    })().catch((e: unknown) => e);
    // The error replaces the chunk holding token 5 (chunks: 3 tokens, then 8).
    expect(texts.join('')).toBe('Hi Maria,');
    expect(error).toMatchObject({ name: 'LlmServiceError', status: 503, code: 'UNAVAILABLE' });
  });

  it('reports a wrong key as 400 INVALID_ARGUMENT without retrying', async () => {
    const { em } = await setup();
    const llm = createGoogleLlm({ apiKey: 'wrong', baseURL: em.baseURL });
    await expect(collect(llm, request())).rejects.toMatchObject({
      status: 400,
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('API key not valid'),
    });
    expect(em.requests).toHaveLength(1);
  });

  it('reports a dropped thought signature as Gemini’s 400', async () => {
    const { em, llm } = await setup({ thoughtSignatures: true }, { model: 'gemini-2.5-flash' });
    const events = await collect(
      llm,
      request({
        messages: [
          { role: 'user', content: 'Hello?' },
          { role: 'assistant', content: greeting },
          { role: 'user', content: 'yes' },
        ],
      }),
    );
    const call = events.find((e) => e.type === 'tool-call') as Extract<LlmStreamEvent, { type: 'tool-call' }>;
    const withoutSignature = request({
      messages: [
        { role: 'user', content: 'yes' },
        { role: 'assistant', content: [{ type: 'tool-call', toolCallId: call.toolCallId, toolName: call.toolName, input: call.input }] },
        {
          role: 'tool',
          content: [{ type: 'tool-result', toolCallId: call.toolCallId, toolName: call.toolName, output: { type: 'json', value: {} } }],
        },
      ],
    });
    await expect(collect(llm, withoutSignature)).rejects.toMatchObject({
      status: 400,
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('missing a thought_signature'),
    });
    expect(em.requests).toHaveLength(2);
  });
});
