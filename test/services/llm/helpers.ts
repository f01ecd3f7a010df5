import type { AssistantContent, ModelMessage, ToolContent } from 'ai';
import type { LlmRequest, LlmService, LlmStreamEvent } from '../../../src/services/llm/llm-service.ts';
import { reminderPrompt, reminderTools } from './fixtures.ts';

/** A request for the appointment agent; override any field. */
export function request(overrides: Partial<LlmRequest> = {}): LlmRequest {
  return {
    callId: 'call-1',
    system: reminderPrompt(),
    messages: [{ role: 'user', content: 'Hello?' }],
    tools: reminderTools(),
    signal: new AbortController().signal,
    ...overrides,
  };
}

/** Runs one stream to the end and returns its events. */
export async function collect(llm: LlmService, req: LlmRequest): Promise<LlmStreamEvent[]> {
  const events: LlmStreamEvent[] = [];
  for await (const event of llm.stream(req)) events.push(event);
  return events;
}

export interface TranscriptTurn {
  /** What the callee said before this response (null: the response follows tool results). */
  user: string | null;
  assistant: string;
  tools: string[];
}

/**
 * Plays the callee's lines the way the agent pipeline does: each response's text and tool calls go into
 * history as one assistant message (tool calls with their providerOptions), every tool "succeeds" with
 * `{ok: true}`, and the model is asked again after tool results until it answers without tools or ends the call.
 */
export async function playConversation(llm: LlmService, lines: string[], messages: ModelMessage[] = []): Promise<TranscriptTurn[]> {
  const transcript: TranscriptTurn[] = [];
  for (const line of lines) {
    messages.push({ role: 'user', content: line });
    let user: string | null = line;
    for (;;) {
      const events = await collect(llm, request({ messages: [...messages] }));
      const text = events.flatMap((e) => (e.type === 'text' ? [e.text] : [])).join('');
      const calls = events.flatMap((e) => (e.type === 'tool-call' ? [e] : []));
      transcript.push({ user, assistant: text, tools: calls.map((c) => c.toolName) });
      user = null;
      const content: Exclude<AssistantContent, string> = [];
      if (text !== '') content.push({ type: 'text', text });
      for (const call of calls) {
        content.push({
          type: 'tool-call',
          toolCallId: call.toolCallId,
          toolName: call.toolName,
          input: call.input,
          ...(call.providerOptions ? { providerOptions: call.providerOptions } : {}),
        });
      }
      messages.push({ role: 'assistant', content });
      if (calls.length === 0) break;
      const results: ToolContent = calls.map((call) => ({
        type: 'tool-result',
        toolCallId: call.toolCallId,
        toolName: call.toolName,
        output: { type: 'json', value: { ok: true } },
      }));
      messages.push({ role: 'tool', content: results });
      if (calls.some((c) => c.toolName === 'end_call')) break;
    }
  }
  return transcript;
}
