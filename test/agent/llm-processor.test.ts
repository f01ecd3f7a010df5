import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import '../../src/agent/frames.ts';
import { endCallTool } from '../../src/agent/end-call-tool.ts';
import { LlmProcessor } from '../../src/agent/llm-processor.ts';
import type { Frame, PipelineError } from '../../src/pipeline/index.ts';
import { PipelineTask, makeFrame } from '../../src/pipeline/index.ts';
import { LlmContext } from '../../src/services/llm/context.ts';
import type { LlmRequest, LlmService, LlmStreamEvent } from '../../src/services/llm/llm-service.ts';
import { LlmServiceError } from '../../src/services/llm/llm-service.ts';
import { defineTool } from '../../src/services/llm/tool.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A scripted in-memory LLM for unit-testing the processor's own logic (the real providers are tested
 * against their emulators elsewhere). Each request gets the next script entry.
 */
class ScriptedLlm implements LlmService {
  readonly provider = 'scripted';
  readonly model = 'test';
  readonly requests: LlmRequest[] = [];
  constructor(private readonly script: Array<LlmStreamEvent[] | Error | { delayMs: number; events: LlmStreamEvent[] }>) {}

  async *stream(request: LlmRequest): AsyncIterable<LlmStreamEvent> {
    this.requests.push({ ...request, messages: structuredClone(request.messages) });
    const step = this.script.shift();
    if (!step) throw new Error('script exhausted');
    if (step instanceof Error) throw step;
    const events = Array.isArray(step) ? step : step.events;
    const delay = Array.isArray(step) ? 0 : step.delayMs;
    for (const event of events) {
      if (delay) await sleep(delay);
      if (request.signal.aborted) return;
      yield event;
    }
  }
}

const finish: LlmStreamEvent = { type: 'finish', finishReason: 'stop', usage: { inputTokens: 10, outputTokens: 5 } };
const text = (t: string): LlmStreamEvent => ({ type: 'text', text: t });

function run(llm: ScriptedLlm, context: LlmContext) {
  const out: Frame[] = [];
  const errors: PipelineError[] = [];
  const tools: string[] = [];
  const task = new PipelineTask(
    [new LlmProcessor({ service: llm, metadata: { user: { id: 7 } }, onToolCall: (c) => tools.push(c.toolName) })],
    {
      callId: 'llm-test',
      onOutput: (f) => out.push(f),
      onError: (e) => errors.push(e),
    },
  );
  const done = task.run();
  task.queueFrame(makeFrame('llm.run', { context, reason: 'test' }));
  return { out, errors, tools, task, done };
}

const spoken = (frames: Frame[]) =>
  frames.flatMap((f) => (f.type === 'llm.text' ? [f.text] : f.type === 'tts.speak' ? [`<${f.text}>`] : [])).join('');

describe('LlmProcessor', () => {
  it('streams a reply between response start/end and records it in the context', async () => {
    const context = new LlmContext({ system: 's' });
    context.addUserMessage('Hello?');
    const llm = new ScriptedLlm([[text('Hi '), text('there.'), finish]]);
    const { out, task, done } = run(llm, context);
    await sleep(10);
    task.end();
    await done;
    const types = out.map((f) => f.type).filter((t) => t.startsWith('llm.'));
    expect(types).toEqual(['llm.response.start', 'llm.text', 'llm.text', 'llm.response.end']);
    expect(spoken(out)).toBe('Hi there.');
    expect(context.messages.at(-1)).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'Hi there.' }] });
    expect(out.some((f) => f.type === 'metrics' && f.data.some((d) => d.kind === 'ttfb'))).toBe(true);
  });

  it('executes tool calls with validated arguments and loops until the model answers in words', async () => {
    const context = new LlmContext({
      system: 's',
      tools: [
        defineTool({
          name: 'lookup',
          description: 'd',
          parameters: z.object({ day: z.string() }),
          execute: ({ day }, ctx) => ({ day, slots: 2, user: (ctx.metadata.user as { id: number }).id }),
        }),
      ],
    });
    context.addUserMessage('Any slots Monday?');
    const llm = new ScriptedLlm([
      [{ type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', input: { day: 'Monday' } }, finish],
      [text('Two slots on Monday.'), finish],
    ]);
    const { out, tools, task, done } = run(llm, context);
    await sleep(20);
    task.end();
    await done;
    expect(tools).toEqual(['lookup']);
    expect(spoken(out)).toBe('Two slots on Monday.');
    const second = llm.requests[1]!.messages;
    expect(second.at(-2)).toMatchObject({ role: 'assistant', content: [{ type: 'tool-call', toolName: 'lookup' }] });
    expect(second.at(-1)).toEqual({
      role: 'tool',
      content: [
        {
          type: 'tool-result',
          toolCallId: 'c1',
          toolName: 'lookup',
          output: { type: 'json', value: { day: 'Monday', slots: 2, user: 7 } },
        },
      ],
    });
  });

  it('returns invalid arguments to the model as an error result instead of running the tool', async () => {
    let ran = false;
    const context = new LlmContext({
      system: 's',
      tools: [defineTool({ name: 'book', description: 'd', parameters: z.object({ hour: z.number() }), execute: () => (ran = true) })],
    });
    const llm = new ScriptedLlm([
      [{ type: 'tool-call', toolCallId: 'c1', toolName: 'book', input: { hour: 'noon' } }, finish],
      [text('Which hour?'), finish],
    ]);
    const { task, done } = run(llm, context);
    await sleep(20);
    task.end();
    await done;
    expect(ran).toBe(false);
    const result = llm.requests[1]!.messages.at(-1) as { content: Array<{ output: { type: string; value: string } }> };
    expect(result.content[0]!.output.type).toBe('error-text');
    expect(result.content[0]!.output.value).toContain('Invalid arguments for book');
  });

  it('end_call: the goodbye is spoken, then the task is asked to end', async () => {
    const context = new LlmContext({ system: 's', tools: [endCallTool()] });
    const llm = new ScriptedLlm([
      [text('Thanks, goodbye!'), { type: 'tool-call', toolCallId: 'e', toolName: 'end_call', input: { reason: 'completed' } }, finish],
    ]);
    const { out, done } = run(llm, context);
    const outcome = await done;
    expect(outcome).toEqual({ kind: 'ended', reason: 'completed' });
    expect(spoken(out)).toBe('Thanks, goodbye!');
    expect(llm.requests).toHaveLength(1); // no further generation after end_call
  });

  it('end_call without words speaks the goodbye line', async () => {
    const context = new LlmContext({ system: 's', tools: [endCallTool()] });
    const llm = new ScriptedLlm([[{ type: 'tool-call', toolCallId: 'e', toolName: 'end_call', input: { reason: 'done' } }, finish]]);
    const { out, done } = run(llm, context);
    await done;
    expect(spoken(out)).toBe('<Goodbye!>');
  });

  it('on a provider error reports it and speaks the fallback line instead of going silent', async () => {
    const context = new LlmContext({ system: 's' });
    const llm = new ScriptedLlm([new LlmServiceError('openai', 'Rate limit reached', 429, 'rate_limit_exceeded')]);
    const { out, errors, task, done } = run(llm, context);
    await sleep(10);
    task.end();
    await done;
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain('HTTP 429');
    expect(errors[0]!.callId).toBe('llm-test');
    expect(spoken(out)).toMatch(/^<I'm sorry, I'm having trouble/);
    expect(context.messages.at(-1)).toMatchObject({ role: 'assistant' });
  });

  it('aborts the stream on interruption and keeps only what was generated', async () => {
    const context = new LlmContext({ system: 's' });
    const llm = new ScriptedLlm([{ delayMs: 20, events: [text('One, '), text('two, '), text('three, '), text('four.'), finish] }]);
    const { out, task, done } = run(llm, context);
    await sleep(50);
    task.queueFrame(makeFrame('interruption', { reason: 'barge-in' }));
    await sleep(60);
    task.end();
    await done;
    const said = spoken(out);
    expect(said.length).toBeGreaterThan(0);
    expect(said).not.toContain('four');
    expect((context.messages.at(-1) as { content: Array<{ text: string }> }).content[0]!.text).toBe(said);
  });
});

describe('LlmProcessor against the Gemini emulator', () => {
  it('says the fallback line when the provider fails, then answers normally on the next turn', async () => {
    const { startGeminiEmulator } = await import('../../src/sandbox/providers/gemini-emulator.ts');
    const { createGoogleLlm } = await import('../../src/services/llm/google.ts');
    const gemini = await startGeminiEmulator({ apiKey: 'k', timing: { ttftMs: 0, tokensPerSecond: 0 } });
    try {
      gemini.failNext(2, { status: 503, code: 'UNAVAILABLE', message: 'The model is overloaded.' }); // first try + one retry
      const context = new LlmContext({
        system: 'You are Sam, calling Grace to remind them of their appointment with Dr. Lee on Monday at 9 AM.',
      });
      context.addUserMessage('Hello?');
      const out: Frame[] = [];
      const errors: PipelineError[] = [];
      const task = new PipelineTask([new LlmProcessor({ service: createGoogleLlm({ apiKey: 'k', baseURL: gemini.baseURL }) })], {
        callId: 'gemini-fallback',
        onOutput: (f) => out.push(f),
        onError: (e) => errors.push(e),
      });
      const done = task.run();
      task.queueFrame(makeFrame('llm.run', { context, reason: 'turn' }));
      await gemini.waitForRequests(2);
      await sleep(50);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.message).toContain('503');
      expect(spoken(out)).toBe("<I'm sorry, I'm having trouble right now. Could you say that again?>");
      // The provider recovers: the next turn is answered by the model.
      context.addUserMessage('Hello?');
      task.queueFrame(makeFrame('llm.run', { context, reason: 'turn' }));
      await gemini.waitForRequests(3);
      await sleep(50);
      task.end();
      await done;
      expect(spoken(out)).toMatch(/^<I'm sorry[^>]*>.*appointment on Monday at 9 AM/); // the model, not another fallback
    } finally {
      await gemini.close();
    }
  });
});

describe('LlmProcessor early replies (issue 11)', () => {
  function early(executed: string[]) {
    const context = new LlmContext({
      system: 's',
      tools: [
        defineTool({
          name: 'request_reschedule',
          description: 'd',
          parameters: z.object({ reason: z.string() }),
          execute: ({ reason }) => {
            executed.push(reason);
            return { ok: true };
          },
        }),
      ],
    });
    context.addUserMessage("I'd like to move it to");
    const llm = new ScriptedLlm([
      [{ type: 'tool-call', toolCallId: 'c1', toolName: 'request_reschedule', input: { reason: "I'd like to move it to" } }, finish],
      [text('No problem.'), finish],
    ]);
    const out: Frame[] = [];
    const calls: Array<{ toolName: string; turnId?: number; early?: boolean }> = [];
    const task = new PipelineTask([new LlmProcessor({ service: llm, onToolCall: (c) => calls.push(c) })], {
      callId: 'llm-early',
      onOutput: (f) => out.push(f),
    });
    const done = task.run();
    task.queueFrame(makeFrame('llm.run', { context, reason: 'user turn', turnId: 3, speculative: true }));
    return { task, done, out, calls, llm };
  }

  it('never runs a tool before its turn is committed; runs it once committed', async () => {
    const executed: string[] = [];
    const s = early(executed);
    await sleep(30);
    expect(executed).toEqual([]); // the model asked for the tool; the turn is still open
    expect(s.llm.requests).toHaveLength(1);
    s.task.queueFrame(makeFrame('turn.committed', { turnId: 3, text: "I'd like to move it to", early: true }));
    await sleep(30);
    expect(executed).toEqual(["I'd like to move it to"]);
    expect(s.calls).toEqual([expect.objectContaining({ toolName: 'request_reschedule', turnId: 3, early: true })]);
    expect(spoken(s.out)).toBe('No problem.');
    s.task.end();
    await s.done;
  });

  it('drops the tool call with the early reply when the caller goes on (interruption before the commit)', async () => {
    const executed: string[] = [];
    const s = early(executed);
    await sleep(30);
    s.task.queueFrame(makeFrame('interruption', { reason: 'caller went on' }));
    s.task.queueFrame(makeFrame('turn.committed', { turnId: 3, text: 'anything', early: false }));
    await sleep(30);
    expect(executed).toEqual([]);
    expect(s.llm.requests).toHaveLength(1);
    s.task.end();
    await s.done;
  });
});
