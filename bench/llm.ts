/**
 * LLM layer latency: what the Vercel AI SDK implementation (`implementation: 'ai-sdk'`; the lean clients are
 * the default, see bench/llm-cpu.ts for their CPU) adds to time-to-first-token, measured against the local emulators
 * with a zero time to first token. Per provider, the same request body is sent (a) by a bare `fetch` that
 * parses SSE until the first text and (b) through our `LlmService` (`streamText` with the appointment tools)
 * until the first `text` event; runs are interleaved, medians reported. Also: the emulators' own latency
 * (request received → first token written at ttft 0) and their default realistic TTFT as a client sees it.
 */
import { z } from 'zod';
import { geminiEmulatorDefaultTiming, startGeminiEmulator } from '../src/sandbox/providers/gemini-emulator.ts';
import type { LlmEmulatorHandle } from '../src/sandbox/providers/llm-emulator-server.ts';
import { openAIEmulatorDefaultTiming, startOpenAIEmulator } from '../src/sandbox/providers/openai-emulator.ts';
import { createGoogleLlm } from '../src/services/llm/google.ts';
import type { LlmRequest, LlmService } from '../src/services/llm/llm-service.ts';
import { createOpenAILlm } from '../src/services/llm/openai.ts';
import { defineTool, type AgentTool } from '../src/services/llm/tool.ts';
import type { BenchRow, BenchSuite } from './types.ts';

const warmup = 30;
const runs = 200;

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] as number;
}

const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

const system =
  "You are Sam, a friendly scheduling assistant calling on behalf of St. Mary's Family Clinic. You are calling Maria " +
  'to remind them of their appointment with Dr. Ana Lee on Tuesday, March 4 at 10:30 AM. Keep replies short.';
const ok = () => ({ ok: true });
const tools = [
  defineTool({ name: 'confirm_appointment', description: 'Confirm.', parameters: z.object({}), execute: ok }),
  defineTool({
    name: 'request_reschedule',
    description: 'Reschedule.',
    parameters: z.object({ reason: z.string().optional() }),
    execute: ok,
  }),
  defineTool({ name: 'end_call', description: 'Hang up.', parameters: z.object({ reason: z.string() }), execute: ok }),
] as AgentTool[];

function llmRequest(): LlmRequest {
  return {
    callId: 'bench',
    system,
    messages: [{ role: 'user', content: 'Hello?' }],
    tools,
    signal: new AbortController().signal,
  };
}

/** ms until the service yields its first text; the rest of the stream is drained. */
async function serviceFirstText(llm: LlmService): Promise<number> {
  const started = performance.now();
  let first = NaN;
  for await (const event of llm.stream(llmRequest())) {
    if (event.type === 'text' && Number.isNaN(first)) first = performance.now() - started;
  }
  return first;
}

/** ms until a bare fetch sees the first text in the SSE body (then drains it). */
async function fetchFirstText(
  url: string,
  headers: Record<string, string>,
  body: string,
  textOf: (event: unknown) => string | undefined,
): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let first = NaN;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!Number.isNaN(first)) continue;
    buffer += decoder.decode(value, { stream: true });
    const events = buffer.split(/\r?\n\r?\n/);
    buffer = events.pop() ?? '';
    for (const event of events) {
      const data = event.replace(/^data: /, '');
      if (data === '[DONE]') continue;
      if (textOf(JSON.parse(data))) {
        first = performance.now() - started;
        break;
      }
    }
  }
  return first;
}

interface Target {
  label: string;
  emulator: LlmEmulatorHandle;
  llm: LlmService;
  headers: Record<string, string>;
  textOf: (event: unknown) => string | undefined;
}

async function compare(target: Target, rows: BenchRow[]): Promise<void> {
  // Capture the exact request the SDK sends, so both clients send the same bytes.
  await serviceFirstText(target.llm);
  const sent = target.emulator.requests.at(-1);
  if (!sent) throw new Error('no request captured');
  const url = `${target.emulator.url}${sent.path}${sent.query.alt ? '?alt=sse' : ''}`;
  const body = JSON.stringify(sent.body);
  const direct: number[] = [];
  const viaSdk: number[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    const a = await fetchFirstText(url, target.headers, body, target.textOf);
    const b = await serviceFirstText(target.llm);
    if (i >= warmup) {
      direct.push(a);
      viaSdk.push(b);
    }
  }
  const emulatorOwn = target.emulator.requests
    .slice(-runs)
    .map((r) => (r.firstTokenAt ?? NaN) - r.receivedAt)
    .filter(Number.isFinite);
  rows.push(
    { name: `${target.label}: TTFT, bare fetch + SSE parse (median)`, value: round(quantile(direct, 0.5)), unit: 'ms' },
    { name: `${target.label}: TTFT, LlmService via AI SDK streamText, 3 tools (median)`, value: round(quantile(viaSdk, 0.5)), unit: 'ms' },
    {
      name: `${target.label}: AI SDK added TTFT (median of service − median of bare)`,
      value: round(quantile(viaSdk, 0.5) - quantile(direct, 0.5)),
      unit: 'ms',
    },
    { name: `${target.label}: TTFT via AI SDK (p90)`, value: round(quantile(viaSdk, 0.9)), unit: 'ms' },
    { name: `${target.label}: emulator's own latency at ttft 0 (median)`, value: round(quantile(emulatorOwn, 0.5), 3), unit: 'ms' },
  );
}

async function defaultTtft(label: string, emulator: LlmEmulatorHandle, llm: LlmService, rows: BenchRow[]): Promise<void> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) samples.push(await serviceFirstText(llm));
  rows.push({
    name: `${label}: TTFT with the emulator's default timing (${emulator.timing.ttftMs} ms configured), via AI SDK`,
    value: round(quantile(samples, 0.5), 1),
    unit: 'ms',
  });
}

export const benchLlm: BenchSuite = async () => {
  const rows: BenchRow[] = [];
  const instant = { ttftMs: 0, tokensPerSecond: 0 };

  const openai = await startOpenAIEmulator({ apiKey: 'bench-key', timing: instant });
  const gemini = await startGeminiEmulator({ apiKey: 'bench-key', timing: instant });
  try {
    await compare(
      {
        label: 'OpenAI chat',
        emulator: openai,
        llm: createOpenAILlm({ apiKey: 'bench-key', baseURL: openai.baseURL, implementation: 'ai-sdk' }),
        headers: { authorization: 'Bearer bench-key' },
        textOf: (event) => (event as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta?.content,
      },
      rows,
    );
    await compare(
      {
        label: 'Gemini',
        emulator: gemini,
        llm: createGoogleLlm({ apiKey: 'bench-key', baseURL: gemini.baseURL, implementation: 'ai-sdk' }),
        headers: { 'x-goog-api-key': 'bench-key' },
        textOf: (event) =>
          (event as { candidates?: Array<{ content?: { parts?: Array<{ text?: string }> } }> }).candidates?.[0]?.content?.parts?.[0]?.text,
      },
      rows,
    );
    openai.setTiming(openAIEmulatorDefaultTiming);
    gemini.setTiming(geminiEmulatorDefaultTiming);
    await defaultTtft(
      'OpenAI chat',
      openai,
      createOpenAILlm({ apiKey: 'bench-key', baseURL: openai.baseURL, implementation: 'ai-sdk' }),
      rows,
    );
    await defaultTtft('Gemini', gemini, createGoogleLlm({ apiKey: 'bench-key', baseURL: gemini.baseURL, implementation: 'ai-sdk' }), rows);
  } finally {
    await openai.close();
    await gemini.close();
  }
  return rows;
};
