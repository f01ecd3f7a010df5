import type { AssistantModelMessage, ModelMessage, ToolCallPart } from 'ai';
import type { AgentTool } from './tool.ts';

export type { ModelMessage };

/**
 * The conversation the LLM sees: system prompt, messages (Vercel AI SDK `ModelMessage`s, so any AI SDK
 * provider accepts them as is) and tools. One per call, shared by the user side (appends what the caller
 * said), the LLM (appends its replies and tool exchanges as they stream) and the playback side (cuts each
 * spoken reply down to what the caller actually heard).
 */
export class LlmContext {
  system: string;
  readonly messages: ModelMessage[] = [];
  tools: AgentTool[];
  /** Assistant messages by the utterance id their text is spoken under. */
  private readonly spoken = new Map<string, { message: AssistantModelMessage; text: string }>();
  /** Heard text reported before the utterance's message existed (playback can outrun the LLM's bookkeeping). */
  private readonly heardEarly = new Map<string, string>();

  constructor(options: { system: string; tools?: AgentTool[]; messages?: ModelMessage[] }) {
    this.system = options.system;
    this.tools = options.tools ?? [];
    if (options.messages) this.messages.push(...options.messages);
  }

  addUserMessage(text: string): void {
    this.messages.push({ role: 'user', content: text });
  }

  /**
   * Starts an assistant message whose text will be spoken as utterance `utteranceId`. Text and tool calls
   * are added as they stream, so the message exists before any of its audio plays.
   */
  beginAssistantMessage(utteranceId: string): void {
    const message: AssistantModelMessage = { role: 'assistant', content: [] };
    this.messages.push(message);
    this.spoken.set(utteranceId, { message, text: '' });
    const heard = this.heardEarly.get(utteranceId);
    if (heard !== undefined) {
      this.heardEarly.delete(utteranceId);
      this.reviseHeard(utteranceId, heard);
    }
  }

  appendAssistantText(utteranceId: string, text: string): void {
    const entry = this.spoken.get(utteranceId);
    if (!entry) return;
    entry.text += text;
    setText(entry.message, entry.text);
  }

  addToolCall(utteranceId: string, call: ToolCallPart): void {
    const entry = this.spoken.get(utteranceId);
    if (!entry) return;
    (entry.message.content as Exclude<AssistantModelMessage['content'], string>).push(call);
  }

  /** Text generated so far for an utterance. */
  assistantText(utteranceId: string): string | undefined {
    return this.spoken.get(utteranceId)?.text;
  }

  /**
   * Playback truth: the caller heard only `heardText` of this utterance (barge-in). The assistant message
   * keeps just that; a message left with neither text nor tool calls is removed.
   */
  reviseHeard(utteranceId: string, heardText: string): void {
    const entry = this.spoken.get(utteranceId);
    if (!entry) {
      this.heardEarly.set(utteranceId, heardText);
      return;
    }
    entry.text = heardText;
    setText(entry.message, heardText);
    const content = entry.message.content as Exclude<AssistantModelMessage['content'], string>;
    if (content.length === 0) {
      const index = this.messages.indexOf(entry.message);
      if (index >= 0) this.messages.splice(index, 1);
      this.spoken.delete(utteranceId);
    }
  }

  /** Adds a whole assistant message spoken as `utteranceId` (greetings, fixed lines). */
  addSpokenMessage(utteranceId: string, text: string): void {
    const heard = this.heardEarly.get(utteranceId);
    this.beginAssistantMessage(utteranceId); // applies an early heard report, if any
    if (heard === undefined) this.appendAssistantText(utteranceId, text);
  }

  /** Drops an utterance's message if it ended up empty (nothing generated). */
  discardIfEmpty(utteranceId: string): void {
    const entry = this.spoken.get(utteranceId);
    if (!entry) return;
    const content = entry.message.content as Exclude<AssistantModelMessage['content'], string>;
    if (content.length > 0) return;
    const index = this.messages.indexOf(entry.message);
    if (index >= 0) this.messages.splice(index, 1);
    this.spoken.delete(utteranceId);
  }
}

/** Sets (or removes, when empty) the single text part of an assistant message, keeping it first. */
function setText(message: AssistantModelMessage, text: string): void {
  const content = message.content as Exclude<AssistantModelMessage['content'], string>;
  const index = content.findIndex((part) => part.type === 'text');
  if (text.length === 0) {
    if (index >= 0) content.splice(index, 1);
    return;
  }
  if (index >= 0) content[index] = { type: 'text', text };
  else content.unshift({ type: 'text', text });
}
