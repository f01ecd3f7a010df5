/**
 * The conversation as the lean clients see it: the system prompt first, string contents as text parts,
 * empty assistant text dropped, consecutive tool messages merged — the same normalisation the Vercel AI SDK
 * applies before a provider converts the prompt, so both implementations send the same request.
 */
import type { ModelMessage, ToolResultPart } from 'ai';
import { LlmServiceError } from './llm-service.ts';

/** Provider data on a part (e.g. `{ google: { thoughtSignature } }`). */
export type PartOptions = Record<string, Record<string, unknown>> | undefined;

export type PromptPart =
  | { type: 'text'; text: string; providerOptions: PartOptions }
  | { type: 'reasoning'; text: string; providerOptions: PartOptions }
  | { type: 'tool-call'; toolCallId: string; toolName: string; input: unknown; providerOptions: PartOptions }
  | { type: 'tool-result'; toolCallId: string; toolName: string; output: ToolResultPart['output']; providerOptions: PartOptions };

export type PromptMessage = { role: 'system'; content: string } | { role: 'user' | 'assistant' | 'tool'; content: PromptPart[] };

/**
 * Normalises `system` + `messages`. Only text, reasoning, tool calls and tool results are supported (what
 * a phone agent sends); images and files are refused with code `unsupported_content` — use the AI SDK
 * implementation for them.
 */
export function toPrompt(provider: string, system: string, messages: ModelMessage[], callId: string): PromptMessage[] {
  const prompt: PromptMessage[] = [{ role: 'system', content: system }];
  for (const message of messages) {
    if (message.role === 'system') {
      prompt.push({ role: 'system', content: message.content });
      continue;
    }
    if (typeof message.content === 'string') {
      if (message.role === 'tool') continue;
      prompt.push({ role: message.role, content: [{ type: 'text', text: message.content, providerOptions: undefined }] });
      continue;
    }
    const parts: PromptPart[] = [];
    for (const part of message.content) {
      const providerOptions = ('providerOptions' in part ? part.providerOptions : undefined) as PartOptions;
      switch (part.type) {
        case 'text':
          // Empty user text and empty assistant text without provider data carry nothing.
          if (part.text === '' && (message.role === 'user' || providerOptions === undefined)) break;
          parts.push({ type: 'text', text: part.text, providerOptions });
          break;
        case 'reasoning':
          parts.push({ type: 'reasoning', text: part.text, providerOptions });
          break;
        case 'tool-call':
          parts.push({ type: 'tool-call', toolCallId: part.toolCallId, toolName: part.toolName, input: part.input, providerOptions });
          break;
        case 'tool-result':
          parts.push({ type: 'tool-result', toolCallId: part.toolCallId, toolName: part.toolName, output: part.output, providerOptions });
          break;
        case 'tool-approval-request':
        case 'tool-approval-response':
          break;
        default:
          throw new LlmServiceError(provider, `${part.type} parts are not supported by the lean client`, undefined, 'unsupported_content', {
            callId,
          });
      }
    }
    const last = prompt.at(-1);
    if (message.role === 'tool' && last?.role === 'tool') last.content.push(...parts);
    else prompt.push({ role: message.role, content: parts });
  }
  return prompt;
}

/** A tool result's output as one string (OpenAI `tool` message content). */
export function toolOutputText(output: ToolResultPart['output']): string {
  switch (output.type) {
    case 'text':
    case 'error-text':
      return output.value;
    case 'execution-denied':
      return output.reason ?? 'Tool call execution denied.';
    default:
      return JSON.stringify(output.value);
  }
}
