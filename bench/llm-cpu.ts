/**
 * CPU per streamed LLM reply, client side: the lean SSE clients against the Vercel AI SDK (`streamText`)
 * and, for reference, the official `openai` SDK's own streaming. The OpenAI and Gemini emulators run in a
 * child process (their CPU is not counted); this process streams `--replies` replies of `--tokens` tokens
 * (10 at a time, the appointment agent's 3 tools in every request) per variant and reads
 * `process.cpuUsage()` around each run. Variants are interleaved over `--rounds` rounds after a warm-up;
 * medians are reported.
 *
 *   npx tsx bench/llm-cpu.ts [--replies 100] [--tokens 60] [--rounds 3] [--json]
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import { z } from 'zod';
import { startGeminiEmulator } from '../src/sandbox/providers/gemini-emulator.ts';
import { splitIntoTokens } from '../src/sandbox/providers/llm-emulator-server.ts';
import { startOpenAIEmulator } from '../src/sandbox/providers/openai-emulator.ts';
import { createGoogleLlm } from '../src/services/llm/google.ts';
import type { LlmRequest, LlmService } from '../src/services/llm/llm-service.ts';
import { createOpenAILlm } from '../src/services/llm/openai.ts';
import { defineTool, type AgentTool } from '../src/services/llm/tool.ts';

const { values: args } = parseArgs({
  options: {
    replies: { type: 'string', default: '100' },
    tokens: { type: 'string', default: '60' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    emulators: { type: 'boolean', default: false },
  },
});
const replies = Number(args.replies);
const tokens = Number(args.tokens);
const rounds = Number(args.rounds);
const concurrency = 10;
/** Tokens 2 ms apart: each is its own write, as a real stream's chunks are (a burst would hide per-chunk costs). */
const timing = { ttftMs: 0, tokensPerSecond: 500 };

/** A reply of exactly `count` tokens as the emulators split text (a word with its leading space, then "."). */
function replyOf(count: number): string {
  const words = ['Sure', 'thing', 'your', 'visit', 'is', 'on', 'Tuesday', 'at', 'ten', 'with', 'Doctor', 'Lee'];
  const text = `${Array.from({ length: count - 1 }, (_, i) => words[i % words.length]).join(' ')}.`;
  if (splitIntoTokens(text).length !== count) throw new Error('token count mismatch');
  return text;
}

async function startEmulatorProcess(): Promise<{ urls: { openai: string; gemini: string }; stop: () => void }> {
  const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, '--emulators', '--tokens', String(tokens)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`emulator process exited (${code})`)));
  });
  return { urls: JSON.parse(line) as { openai: string; gemini: string }, stop: () => child.stdin.end() };
}

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
const system = 'You are Sam, a friendly scheduling assistant calling Maria about her appointment. Keep replies short.';

function llmRequest(): LlmRequest {
  return { callId: 'bench', system, messages: [{ role: 'user', content: 'Hello?' }], tools, signal: new AbortController().signal };
}

/** One reply through an LlmService; returns the text events seen. */
async function viaService(llm: LlmService): Promise<number> {
  let texts = 0;
  for await (const event of llm.stream(llmRequest())) if (event.type === 'text') texts++;
  return texts;
}

interface Variant {
  name: string;
  reply: () => Promise<number>;
}

function variants(urls: { openai: string; gemini: string }): Variant[] {
  const key = 'bench-key';
  const openaiAiSdk = createOpenAILlm({ apiKey: key, baseURL: urls.openai, implementation: 'ai-sdk' });
  const openaiLean = createOpenAILlm({ apiKey: key, baseURL: urls.openai, implementation: 'lean' });
  const geminiAiSdk = createGoogleLlm({ apiKey: key, baseURL: urls.gemini, model: 'gemini-2.0-flash', implementation: 'ai-sdk' });
  const geminiLean = createGoogleLlm({ apiKey: key, baseURL: urls.gemini, model: 'gemini-2.0-flash', implementation: 'lean' });
  const sdk = new OpenAI({ apiKey: key, baseURL: urls.openai, maxRetries: 0 });
  const sdkTools = tools.map((t) => ({
    type: 'function' as const,
    function: { name: t.name, description: t.description, parameters: z.toJSONSchema(t.parameters) as Record<string, unknown> },
  }));
  return [
    { name: 'OpenAI chat: AI SDK streamText', reply: () => viaService(openaiAiSdk) },
    { name: 'OpenAI chat: lean SSE client', reply: () => viaService(openaiLean) },
    {
      name: 'OpenAI chat: official openai SDK stream (reference, no LlmService mapping)',
      reply: async () => {
        const stream = await sdk.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [
            { role: 'system', content: system },
            { role: 'user', content: 'Hello?' },
          ],
          tools: sdkTools,
          max_tokens: 1024,
          stream: true,
          stream_options: { include_usage: true },
        });
        let texts = 0;
        for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) texts++;
        return texts;
      },
    },
    { name: 'Gemini: AI SDK streamText', reply: () => viaService(geminiAiSdk) },
    { name: 'Gemini: lean SSE client', reply: () => viaService(geminiLean) },
  ];
}

/** CPU ms of this process per reply over `count` replies, `concurrency` at a time. */
async function measure(variant: Variant, count: number): Promise<{ cpuMsPerReply: number; textsPerReply: number }> {
  const start = process.cpuUsage();
  let texts = 0;
  for (let done = 0; done < count; done += concurrency) {
    const batch = await Promise.all(Array.from({ length: Math.min(concurrency, count - done) }, () => variant.reply()));
    texts += batch.reduce((a, b) => a + b, 0);
  }
  const used = process.cpuUsage(start);
  return { cpuMsPerReply: (used.user + used.system) / 1000 / count, textsPerReply: texts / count };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function main(): Promise<void> {
  const emulators = await startEmulatorProcess();
  try {
    const list = variants(emulators.urls);
    for (const variant of list) await measure(variant, 30); // warm-up: JIT, connections, schema caches
    const samples = new Map<string, number[]>(list.map((v) => [v.name, []]));
    const textCounts = new Map<string, number>();
    for (let round = 0; round < rounds; round++) {
      for (const variant of list) {
        const result = await measure(variant, replies);
        samples.get(variant.name)?.push(result.cpuMsPerReply);
        textCounts.set(variant.name, result.textsPerReply);
      }
    }
    const rows = list.map((v) => {
      const cpu = median(samples.get(v.name) ?? []);
      return {
        variant: v.name,
        cpuMsPerReply: Number(cpu.toFixed(3)),
        cpuUsPerToken: Number(((cpu * 1000) / tokens).toFixed(1)),
        textEventsPerReply: textCounts.get(v.name),
        rounds: (samples.get(v.name) ?? []).map((x) => Number(x.toFixed(3))),
      };
    });
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ replies, tokens, rounds, concurrency, timing, rows })}\n`);
      return;
    }
    process.stdout.write(`\nLLM client CPU per streamed reply (${replies} replies × ${tokens} tokens, ${rounds} rounds, median)\n`);
    for (const row of rows) {
      process.stdout.write(
        `${row.variant.padEnd(72)} ${row.cpuMsPerReply.toFixed(2).padStart(7)} ms/reply ${String(row.cpuUsPerToken).padStart(6)} µs/token  (${row.rounds.join(', ')})\n`,
      );
    }
  } finally {
    emulators.stop();
  }
}

if (args.emulators) {
  // Child: the emulators, until the parent closes stdin.
  const policy = { name: 'fixed', rules: [], fallback: { reply: replyOf(tokens) } };
  const openai = await startOpenAIEmulator({ apiKey: 'bench-key', timing, policy });
  const gemini = await startGeminiEmulator({ apiKey: 'bench-key', timing, policy });
  process.stdout.write(`${JSON.stringify({ openai: openai.baseURL, gemini: gemini.baseURL })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
} else {
  await main();
}
