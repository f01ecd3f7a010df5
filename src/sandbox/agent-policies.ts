import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import type { AgentDefinition } from '../agent/agent-definition.ts';
import { renderTemplate as renderMetadataTemplate } from '../agent/template.ts';
import type { AgentTool } from '../services/llm/tool.ts';
import { HANDOVER_SUMMARY_PROMPT } from '../agent/handover-summary.ts';
import { LlmPolicy, type LlmPolicyInput, type PolicyConversation, type PolicyReply } from './providers/llm-policy.ts';

/** What an LLM emulator asks to answer a request: a policy, or a router choosing one per conversation. */
export interface ConversationPolicy {
  readonly name: string;
  respond(conversation: PolicyConversation): PolicyReply;
}

/** One agent's sandbox script and how to recognise its conversations (its rendered system prompt). */
interface AgentScript {
  agent: string;
  matcher: RegExp;
  /** Characters of the prompt template outside placeholders: the longest match is the most specific agent. */
  specificity: number;
  policy: LlmPolicy;
}

/**
 * Serves every agent of a sandboxed server its own script: a request goes to the agent whose system-prompt
 * template matches the request's system prompt (the most specific one when several do). A conversation no agent
 * matches gets a plain notice, never another agent's script.
 */
export class AgentPolicyRouter implements ConversationPolicy {
  readonly name = 'agents';
  constructor(private readonly scripts: readonly AgentScript[]) {}

  /** Which agent's script answers a conversation with this system prompt, if any. */
  scriptFor(system: string): AgentScript | undefined {
    let best: AgentScript | undefined;
    for (const script of this.scripts) {
      if (script.matcher.test(system) && (!best || script.specificity > best.specificity)) best = script;
    }
    return best;
  }

  respond(conversation: PolicyConversation): PolicyReply {
    if (conversation.system.trim() === HANDOVER_SUMMARY_PROMPT) return handoverSummaryReply(conversation);
    const script = this.scriptFor(conversation.system);
    if (script) return script.policy.respond(conversation);
    return {
      ruleId: 'no-agent',
      text: 'This is the Switchboard sandbox. No agent here has a script for this conversation.',
      toolCalls: [],
    };
  }
}

/** Builds the router for a server's agents: each agent's own policy (inline or a JSON file), or a generic one. */
export async function agentPolicyRouter(agents: readonly AgentDefinition[]): Promise<AgentPolicyRouter> {
  const scripts: AgentScript[] = [];
  for (const agent of agents) {
    const { matcher, specificity } = promptMatcher(agent.systemPrompt);
    scripts.push({ agent: agent.name, matcher, specificity, policy: await agentPolicy(agent) });
  }
  return new AgentPolicyRouter(scripts);
}

/** The agent's own sandbox policy, or the generic one made from its greeting and tools. */
export async function agentPolicy(agent: AgentDefinition): Promise<LlmPolicy> {
  const own = agent.sandbox?.policy;
  if (own === undefined) return LlmPolicy.from(genericAgentPolicy(agent));
  if (typeof own === 'string' || own instanceof URL) {
    const text = await readFile(own, 'utf8');
    return LlmPolicy.from(JSON.parse(text) as LlmPolicyInput);
  }
  return LlmPolicy.from(own as LlmPolicyInput);
}

/**
 * A regex matching any rendering of a prompt template: its fixed text in order, anything where a `{{…}}`
 * placeholder stands, whitespace-insensitive.
 */
export function promptMatcher(template: string): { matcher: RegExp; specificity: number } {
  const chunks = template.split(/\{\{[^}]*\}\}/);
  const specificity = chunks.reduce((sum, chunk) => sum + chunk.trim().length, 0);
  const body = chunks
    .map((chunk) =>
      chunk
        .trim()
        .split(/\s+/)
        .filter((word) => word !== '')
        .map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('\\s+'),
    )
    .join('[\\s\\S]*?');
  return { matcher: new RegExp(`^\\s*${body}\\s*$`, 'u'), specificity };
}

const STOP_WORDS = new Set(['the', 'and', 'for', 'with', 'from', 'that', 'this', 'into', 'get', 'set', 'call', 'tool', 'make', 'take']);
/** A caller asking for a person (the generic script calls `transfer_call` on these). */
const TRANSFER_WORDS = ['person', 'human', 'someone', 'representative', 'real agent', 'operator', 'transfer me'];
const GOODBYES = ['bye', 'goodbye', "that's all", "that's it", 'that is all', 'no thanks', 'no thank you', 'nothing else'];

/**
 * The script of an agent that brings none: it opens with the agent's own greeting (placeholders at their
 * fallbacks), acknowledges neutrally, calls a tool when the caller's words name it (`reschedule_delivery` on
 * "can we reschedule?"), transfers to its first `transfer` destination when the caller asks for a person, presses
 * the key an automated menu names for the option its prompt chooses (agents with `sendDtmf`), and says
 * goodbye with `end_call` when the caller does.
 */
export function genericAgentPolicy(agent: AgentDefinition): LlmPolicyInput {
  const tools = toolsOf(agent);
  const greeting = agent.greeting ? renderMetadataTemplate(agent.greeting, {}) : '';
  const rules: Array<Record<string, unknown>> = [{ id: 'after-end-call', when: { afterToolResult: 'end_call' }, reply: '' }];
  for (const tool of tools) {
    rules.push({
      id: `after-${tool.name}`,
      when: { afterToolResult: tool.name },
      reply: 'All right, that is done. Is there anything else I can help you with?',
    });
  }
  const menuChoice = agent.sendDtmf ? menuChoiceOf(agent.systemPrompt) : undefined;
  if (menuChoice) {
    // An automated menu: press the key it names for the agent's choice, then talk once a person (or the
    // department) answers.
    const choice = menuChoice.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    rules.push({ id: 'after-send_dtmf', when: { afterToolResult: 'send_dtmf' }, reply: '' });
    rules.push({
      id: 'menu-choice',
      when: {
        userMatches: [
          `\\bpress\\s+(?<value>[0-9*#])\\s+(?:for|to reach|to get)\\s+(?:the\\s+)?${choice}`,
          `${choice}\\W{0,3}(?:please\\s+)?press\\s+(?<value>[0-9*#])`,
        ],
        toolsNotCalled: ['send_dtmf'],
      },
      reply: '',
      toolCalls: [{ name: 'send_dtmf', args: { digits: '{{userMatch}}' } }],
    });
    rules.push({
      id: 'menu-connected',
      when: { toolsCalled: ['send_dtmf'], userSays: ['connected', 'connecting you', 'how can i help', 'speaking'] },
      reply: `Hello, I'm calling about ${menuChoice}.`,
    });
  }
  const transferTo = agent.transfer?.destinations[0];
  if (transferTo) {
    rules.push({
      id: 'after-transfer_call',
      when: { afterToolResult: 'transfer_call' },
      reply: "I'm sorry, I couldn't put you through just now. Is there anything else I can help you with?",
    });
    rules.push({
      id: 'transfer',
      when: { userSays: TRANSFER_WORDS, toolsNotCalled: ['transfer_call'] },
      reply: "Of course. I'm transferring you now, please hold.",
      toolCalls: [{ name: 'transfer_call', args: { destination: transferTo.name, reason: '{{lastUserMessage}}' } }],
    });
  }
  rules.push({
    id: 'goodbye',
    when: { userSays: GOODBYES },
    reply: 'Thank you for your time. Goodbye!',
    toolCalls: [{ name: 'end_call', args: { reason: 'completed' } }],
  });
  for (const tool of tools) {
    const words = keywords(tool.name);
    if (words.length === 0) continue;
    rules.push({
      id: `use-${tool.name}`,
      when: { userSays: words, toolsNotCalled: [tool.name] },
      reply: 'Sure, one moment.',
      toolCalls: [{ name: tool.name, args: exampleArgs(tool) }],
    });
  }
  if (greeting !== '') {
    const opening = greeting.split(/\s+/).slice(0, 4).join(' ');
    rules.push({
      id: 'after-greeting',
      when: { turn: { max: 1 }, previousAssistantMatches: [opening.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')] },
      reply: 'Thanks. How can I help you today?',
    });
    rules.push({ id: 'greeting', when: { turn: { max: 1 } }, reply: greeting });
  } else {
    rules.push({ id: 'greeting', when: { turn: { max: 1 } }, reply: 'Hello! How can I help you today?' });
  }
  return {
    name: `${agent.name} (generic)`,
    description: `Generated for agent ${agent.name}: its greeting, its tools by name, goodbye with end_call.`,
    rules,
    fallback: { reply: 'I see. Is there anything else I can help you with?' },
  } as LlmPolicyInput;
}

/**
 * The menu option an agent that presses keys is after, from its system prompt ("…choose billing…",
 * "…select the support option…"); undefined when it names none.
 */
function menuChoiceOf(systemPrompt: string): string | undefined {
  const match = /\b(?:choose|select|pick)\s+(?:the\s+)?["“']?(\p{L}[\p{L} ]{1,30}?)["”']?(?:\s+option)?(?=[.,;!]|$)/iu.exec(systemPrompt);
  return match?.[1]?.trim().toLowerCase();
}

function toolsOf(agent: AgentDefinition): AgentTool[] {
  const tools = typeof agent.tools === 'function' ? agent.tools(agent.defaultMetadata ?? {}) : (agent.tools ?? []);
  return tools.filter((tool) => tool.name !== 'end_call');
}

/** The words of a tool's name a caller would say (`reschedule_delivery` → reschedule, delivery). */
function keywords(name: string): string[] {
  return name
    .split(/[_\-\s]+|(?<=[a-z])(?=[A-Z])/)
    .map((word) => word.toLowerCase())
    .filter((word) => word.length >= 4 && !STOP_WORDS.has(word));
}

/** Arguments that satisfy a tool's parameters: strings carry the caller's words, other types a plain value. */
function exampleArgs(tool: AgentTool): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(tool.parameters.shape as Record<string, z.ZodType>)) {
    const value = exampleValue(schema);
    if (value !== undefined) args[key] = value;
  }
  return args;
}

function exampleValue(schema: z.ZodType): unknown {
  const def = (schema as unknown as { def: { type: string; innerType?: z.ZodType; entries?: Record<string, string>; values?: unknown[] } })
    .def;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
      return def.innerType ? exampleValue(def.innerType) : undefined;
    case 'string':
      return '{{lastUserMessage}}';
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'enum':
      return Object.values(def.entries ?? {})[0];
    case 'literal':
      return def.values?.[0];
    default:
      return undefined;
  }
}

/**
 * The sandbox's answer to a handover-summary request (warm transfer): made from the transcript it was given, the
 * way a model would — what the caller said (their words, quoted back), and the reason for the transfer when
 * given. Not a fixed line: a different conversation gives a different summary.
 */
export function handoverSummaryReply(conversation: PolicyConversation): PolicyReply {
  const text = conversation.messages
    .filter((m) => m.role === 'user')
    .map((m) => m.text)
    .join('\n');
  const callerLines = [...text.matchAll(/^Caller:\s*(.+)$/gmu)].map((m) => (m[1] ?? '').trim()).filter((line) => line !== '');
  const reason = /^Reason for the transfer:\s*(.+)$/mu.exec(text)?.[1]?.trim();
  // The caller's last words carry the request; "Hello?" and the like say nothing.
  const meaningful = callerLines.filter((line) => line.split(/\s+/).length > 2);
  const asked = meaningful.at(-1) ?? callerLines.at(-1);
  const sentences = ['Hi, I have a caller for you.'];
  if (asked) sentences.push(`They said: ${asked.replace(/[.?!]*$/u, '')}.`);
  if (meaningful.length > 1) sentences.push(`Earlier they said: ${meaningful.at(-2)?.replace(/[.?!]*$/u, '')}.`);
  if (reason && reason !== asked) sentences.push(`The reason given: ${reason.replace(/[.?!]*$/u, '')}.`);
  if (!asked) sentences.push('They have not said much yet.');
  return { ruleId: 'handover-summary', text: sentences.join(' '), toolCalls: [] };
}
