/**
 * An agent with a provider passed in code: the LLM here is your own object implementing `LlmService` (a tiny
 * FAQ bot standing in for, say, an in-house model server). STT, TTS and the carrier still come from the
 * configuration — or from the sandbox when nothing is configured.
 *
 *   npm run example custom-provider              # then: npx switchboard call +15550100001
 */
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import {
  defineAgent,
  defineTool,
  startSwitchboard,
  type LlmRequest,
  type LlmService,
  type LlmStreamEvent,
  type StartOptions,
} from 'switchboard';

/** Questions the FAQ bot has heard (its tool writes here). */
export const questionsLogged: string[] = [];

const FAQ: Array<[RegExp, string]> = [
  [/\b(hours|open|close)\b/i, 'We are open nine to five, Monday to Friday.'],
  [/\b(where|address|located)\b/i, 'We are at 12 Harbour Street, next to the ferry terminal.'],
];

/** The last text a user message carried (AI SDK message format: a string, or text parts). */
function lastUserText(request: LlmRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const message = request.messages[i];
    if (message?.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    return message.content.map((part) => (part.type === 'text' ? part.text : '')).join(' ');
  }
  return '';
}

/** A rule-based LLM: answers from the FAQ, logs every question with a tool call, ends the call on goodbye. */
export class FaqLlm implements LlmService {
  readonly provider = 'faq';
  readonly model = 'faq-v1';

  async *stream(request: LlmRequest): AsyncIterable<LlmStreamEvent> {
    const last = request.messages.at(-1);
    const finish: LlmStreamEvent = { type: 'finish', finishReason: 'stop', usage: { inputTokens: 0, outputTokens: 0 } };
    if (last?.role === 'tool') {
      // A tool just ran: nothing more to say about it.
      yield finish;
      return;
    }
    const said = lastUserText(request);
    if (/\b(bye|goodbye|that's all|that's everything)\b/i.test(said)) {
      yield { type: 'text', text: 'Thanks for calling. Goodbye!' };
      yield { type: 'tool-call', toolCallId: 'end', toolName: 'end_call', input: { reason: 'caller said goodbye' } };
      yield finish;
      return;
    }
    const answer = FAQ.find(([pattern]) => pattern.test(said))?.[1] ?? 'Good question. I have noted it for the team.';
    yield { type: 'text', text: `${answer} Anything else?` };
    yield { type: 'tool-call', toolCallId: `log-${questionsLogged.length}`, toolName: 'log_question', input: { question: said } };
    yield finish;
  }
}

export const faqAgent = defineAgent({
  name: 'faq-line',
  systemPrompt: 'Answer questions about the shop briefly.',
  tools: [
    defineTool({
      name: 'log_question',
      description: 'Log what the caller asked, for the team.',
      parameters: z.object({ question: z.string() }),
      execute: ({ question }) => {
        questionsLogged.push(question);
        return { logged: true };
      },
    }),
  ],
});

export function startExample(options: StartOptions = {}) {
  // `llm` given in code: the sandbox (when it runs) emulates only the other providers.
  return startSwitchboard({ agents: [faqAgent], llm: new FaqLlm(), ...options });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await startExample();
