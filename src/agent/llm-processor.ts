import type { ToolCallPart, ToolResultPart } from 'ai';
import type { LlmContext } from '../services/llm/context.ts';
import type { LlmService, LlmStreamEvent } from '../services/llm/llm-service.ts';
import type { AgentTool, ToolContext } from '../services/llm/tool.ts';
import type { Direction, Frame, FrameOf } from '../pipeline/frames.ts';
import { makeFrame } from '../pipeline/frames.ts';
import { FrameProcessor } from '../pipeline/processor.ts';
import type { MetricsData } from '../pipeline/metrics.ts';
import './frames.ts';

export interface LlmProcessorOptions {
  service: LlmService;
  /** The call's custom data, handed to tools. @default {} */
  metadata?: Record<string, unknown>;
  /** Tool-call rounds in one reply before the model must answer in words. @default 3 */
  maxToolSteps?: number;
  /** Spoken when the LLM fails, so the caller never hears silence. @default "I'm sorry, I'm having trouble right now. Could you say that again?" */
  fallbackLine?: string;
  /** Said when the model ends the call without saying goodbye itself. @default "Goodbye!" */
  goodbyeLine?: string;
  /** Told about every tool call and its outcome (call records). */
  onToolCall?: (event: ToolCallEvent) => void;
}

/** Time accounting for one `llm.run`, until its first spoken token. */
interface RunTiming {
  providerWaitMs: number;
  toolMs: number;
  reported: boolean;
}

export interface ToolCallEvent {
  toolName: string;
  args: unknown;
  result?: unknown;
  error?: string;
  durationMs: number;
  /** The caller turn the reply answers (absent for openings and fixed lines). */
  turnId?: number;
  /** The reply started before the turn was committed (an early reply); the tool still ran only after it. */
  early?: boolean;
}

/**
 * Runs the LLM for each `llm.run`: streams text on as `llm.text` between `llm.response.start/end` (one
 * response id = one spoken utterance), executes tool calls (arguments validated with the tool's zod schema)
 * and loops until the model answers in words. Keeps the context current as it streams, so playback can cut
 * a reply down to what was heard. On interruption the stream is aborted at once. On provider failure it
 * reports the error and speaks a fallback line instead of going silent.
 *
 * Early replies (`llm.run` with `speculative`): generated at once, but their tool calls wait until
 * `turn.committed` arrives for their `turnId`; if the turn is dropped (an interruption aborts the run) the
 * tools never run.
 */
export class LlmProcessor extends FrameProcessor {
  private readonly options: LlmProcessorOptions;
  private responseSeq = 0;
  private endRequested: string | undefined;
  /** Aborted when the call ends; tools that are not cancelled by barge-in use it. */
  private readonly callController = new AbortController();
  /** Highest caller turn committed so far. */
  private committedTurn = 0;
  private readonly commitWaiters = new Set<() => void>();

  constructor(options: LlmProcessorOptions) {
    super('LlmProcessor');
    this.options = options;
  }

  protected override async processFrame(frame: Frame, direction: Direction): Promise<void> {
    if (frame.type === 'turn.committed') {
      this.committedTurn = Math.max(this.committedTurn, frame.turnId);
      for (const wake of [...this.commitWaiters]) wake();
    }
    if (frame.type !== 'llm.run') return this.pushFrame(frame, direction);
    await this.respond(frame);
  }

  protected override onStop(): void {
    this.callController.abort();
    for (const wake of [...this.commitWaiters]) wake();
  }

  /** Resolves once turn `turnId` is committed (true) or the run is aborted (false). */
  private waitForCommit(turnId: number, signal: AbortSignal): Promise<boolean> {
    if (this.committedTurn >= turnId) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = () => {
        if (!signal.aborted && !this.isStopped && this.committedTurn < turnId) return;
        this.commitWaiters.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve(!signal.aborted && !this.isStopped);
      };
      this.commitWaiters.add(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  private async respond(frame: FrameOf<'llm.run'>): Promise<void> {
    const { context } = frame;
    const signal = this.signal;
    const maxSteps = this.options.maxToolSteps ?? 3;
    const timing: RunTiming = { providerWaitMs: 0, toolMs: 0, reported: false };
    let spoke = false;
    const turnId = frame.turnId;
    const early = frame.speculative === true && turnId !== undefined;
    for (let step = 0; step <= maxSteps && !signal.aborted; step++) {
      const outcome = await this.generate(context, signal, timing);
      spoke ||= outcome.spoke;
      if (outcome.failed || signal.aborted || outcome.toolCalls.length === 0) break;
      // Never act on a turn the caller may still be in the middle of.
      if (early && !(await this.waitForCommit(turnId, signal))) break;
      const toolsStarted = performance.now();
      const results = await this.runTools(context, outcome.toolCalls, signal, { ...(turnId !== undefined ? { turnId } : {}), early });
      timing.toolMs += performance.now() - toolsStarted;
      if (signal.aborted) break;
      context.messages.push({ role: 'tool', content: results });
      if (this.endRequested !== undefined) break;
    }
    if (this.endRequested !== undefined && !signal.aborted) {
      if (!spoke) this.speakLine(context, this.options.goodbyeLine ?? 'Goodbye!');
      this.pushFrame(makeFrame('task.end', { reason: this.endRequested }), 'upstream');
    }
  }

  /** One generation step. Returns the tool calls it asked for. */
  private async generate(
    context: LlmContext,
    signal: AbortSignal,
    timing: RunTiming,
  ): Promise<{ toolCalls: ToolCallPart[]; failed: boolean; spoke: boolean }> {
    const responseId = `${this.callId}-r${++this.responseSeq}`;
    const toolCalls: ToolCallPart[] = [];
    let begun = false;
    let speaking = false;
    const begin = () => {
      if (!begun) context.beginAssistantMessage(responseId);
      begun = true;
    };
    try {
      const events = this.options.service
        .stream({ callId: this.callId, system: context.system, messages: [...context.messages], tools: context.tools, signal })
        [Symbol.asyncIterator]();
      for (;;) {
        // Time spent waiting on the provider (and its client library) until the reply's first spoken word.
        const waitStarted = performance.now();
        const next: IteratorResult<LlmStreamEvent> = await events.next();
        if (!timing.reported) timing.providerWaitMs += performance.now() - waitStarted;
        if (next.done) break;
        const event = next.value;
        if (signal.aborted) {
          await events.return?.();
          break;
        }
        if (event.type === 'text') {
          if (event.text.length === 0) continue;
          if (!timing.reported) {
            timing.reported = true;
            this.pushTiming(timing);
          }
          begin();
          if (!speaking) this.pushFrame(makeFrame('llm.response.start', { responseId }));
          speaking = true;
          context.appendAssistantText(responseId, event.text);
          this.pushFrame(makeFrame('llm.text', { text: event.text }));
        } else if (event.type === 'tool-call') {
          begin();
          const call: ToolCallPart = {
            type: 'tool-call',
            toolCallId: event.toolCallId,
            toolName: event.toolName,
            input: event.input,
            ...(event.providerOptions ? { providerOptions: event.providerOptions as ToolCallPart['providerOptions'] } : {}),
          };
          context.addToolCall(responseId, call);
          toolCalls.push(call);
        } else {
          this.pushFrame(
            makeFrame('metrics', {
              data: [
                {
                  kind: 'llm-usage',
                  processor: this.name,
                  promptTokens: event.usage.inputTokens,
                  completionTokens: event.usage.outputTokens,
                },
              ],
            }),
          );
        }
      }
    } catch (error) {
      if (speaking) this.pushFrame(makeFrame('llm.response.end', { responseId }));
      if (begun) context.discardIfEmpty(responseId);
      if (signal.aborted) return { toolCalls: [], failed: true, spoke: speaking };
      this.pushError(error);
      this.speakLine(context, this.options.fallbackLine ?? "I'm sorry, I'm having trouble right now. Could you say that again?");
      return { toolCalls: [], failed: true, spoke: true };
    }
    if (speaking) this.pushFrame(makeFrame('llm.response.end', { responseId }));
    if (begun) context.discardIfEmpty(responseId);
    return { toolCalls, failed: false, spoke: speaking };
  }

  private speakLine(context: LlmContext, text: string): void {
    const utteranceId = `${this.callId}-r${++this.responseSeq}`;
    context.addSpokenMessage(utteranceId, text);
    this.pushFrame(makeFrame('tts.speak', { text, utteranceId }));
  }

  private async runTools(
    context: LlmContext,
    calls: ToolCallPart[],
    signal: AbortSignal,
    turn: { turnId?: number; early: boolean },
  ): Promise<ToolResultPart[]> {
    const results: ToolResultPart[] = [];
    for (const call of calls) {
      const tool = context.tools.find((t) => t.name === call.toolName);
      results.push(await this.runTool(tool, call, signal, turn));
      if (signal.aborted) break;
    }
    return results;
  }

  private async runTool(
    tool: AgentTool | undefined,
    call: ToolCallPart,
    signal: AbortSignal,
    turn: { turnId?: number; early: boolean },
  ): Promise<ToolResultPart> {
    const started = performance.now();
    const base = { type: 'tool-result' as const, toolCallId: call.toolCallId, toolName: call.toolName };
    const report = (result: unknown, error?: string) =>
      this.options.onToolCall?.({
        toolName: call.toolName,
        args: call.input,
        result,
        ...(error !== undefined ? { error } : {}),
        durationMs: performance.now() - started,
        ...(turn.turnId !== undefined ? { turnId: turn.turnId } : {}),
        ...(turn.early ? { early: true } : {}),
      });
    if (!tool) {
      const error = `Unknown tool "${call.toolName}"`;
      report(undefined, error);
      return { ...base, output: { type: 'error-text', value: error } };
    }
    const parsed = tool.parameters.safeParse(call.input ?? {});
    if (!parsed.success) {
      const error = `Invalid arguments for ${tool.name}: ${parsed.error.message}`;
      report(undefined, error);
      return { ...base, output: { type: 'error-text', value: error } };
    }
    const toolContext: ToolContext = {
      callId: this.callId,
      metadata: this.options.metadata ?? {},
      signal: tool.cancelOnInterruption ? signal : this.callController.signal,
      log: this.log,
      endCall: (reason) => {
        this.endRequested = reason;
      },
    };
    try {
      const value = await tool.execute(parsed.data, toolContext);
      report(value);
      return { ...base, output: { type: 'json', value: (value ?? null) as never } };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.warn({ callId: this.callId, tool: tool.name, err: error }, 'tool failed');
      report(undefined, message);
      return { ...base, output: { type: 'error-text', value: message } };
    }
  }

  /**
   * Reports, at the reply's first spoken token, the provider's share of the wait (every request of the run,
   * including those before and after tool calls) and the time tools took, so latency accounting can tell
   * them apart from the framework's own time.
   */
  private pushTiming(timing: RunTiming): void {
    const model = `${this.options.service.provider}/${this.options.service.model}`;
    const data: MetricsData[] = [{ kind: 'ttfb', processor: this.name, valueMs: timing.providerWaitMs, model }];
    if (timing.toolMs > 0) data.push({ kind: 'processing', processor: `${this.name}:tools`, valueMs: timing.toolMs });
    this.pushFrame(makeFrame('metrics', { data }));
  }
}
