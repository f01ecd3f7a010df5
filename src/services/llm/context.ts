import type { ModelMessage } from 'ai';
import type { AgentTool } from './tool.ts';

export type { ModelMessage };

/**
 * The conversation the LLM sees: system prompt, messages (Vercel AI SDK `ModelMessage`s, so any AI SDK
 * provider accepts them as is) and tools. One per call, shared by the user side (appends what the caller
 * said), the LLM (appends its replies and tool exchanges) and the playback side (cuts replies down to what
 * the caller heard).
 */
export class LLMContext {
  system: string;
  readonly messages: ModelMessage[] = [];
  tools: AgentTool[];

  constructor(options: { system: string; tools?: AgentTool[]; messages?: ModelMessage[] }) {
    this.system = options.system;
    this.tools = options.tools ?? [];
    if (options.messages) this.messages.push(...options.messages);
  }

  addUserMessage(text: string): void {
    this.messages.push({ role: 'user', content: text });
  }
}
