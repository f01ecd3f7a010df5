import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import {
  llmPolicySchema,
  renderTemplate,
  type LlmPolicyData,
  type LlmPolicyInput,
  type PolicyCondition,
  type PolicyRule,
  type PolicyToolCall,
} from './llm-policy-schema.ts';

export * from './llm-policy-schema.ts';

/** One message of the conversation an emulator received, reduced to what a policy looks at. */
export interface PolicyMessage {
  role: 'user' | 'assistant' | 'tool';
  /** The text (user/assistant), or the tool result serialised as text (tool). */
  text: string;
  /** Tool calls the assistant made in this message. */
  toolCalls?: Array<{ name: string; args: unknown }>;
  /** Which tool this result belongs to (tool messages). */
  toolName?: string;
}

/** The provider-neutral view of a request: each emulator converts its wire format into this. */
export interface PolicyConversation {
  /** System prompt / instructions, joined. */
  system: string;
  messages: PolicyMessage[];
  /** Names of the tools the request offers. */
  tools: string[];
}

/** What the model "says": text first, then tool calls, in one response. */
export interface PolicyReply {
  /** The rule that answered, or "fallback". */
  ruleId: string;
  text: string;
  toolCalls: Array<{ name: string; args: Record<string, unknown> }>;
}

interface CompiledRule {
  rule: PolicyRule;
  userPatterns: RegExp[];
  previousAssistantPatterns: RegExp[];
}

/** Where the conversation stands, computed once per request. */
interface ConversationState {
  mode: 'user' | 'tool-result' | 'other';
  lastUserText: string;
  previousAssistantText: string;
  turn: number;
  toolResultNames: Set<string>;
  calledTools: Set<string>;
  offeredTools: Set<string>;
}

/**
 * A scripted stand-in for an LLM: answers a conversation by the first matching rule of a validated policy.
 * Deterministic, so demos and tests can walk a whole call.
 */
export class LlmPolicy {
  readonly data: LlmPolicyData;
  private readonly rules: CompiledRule[];
  private readonly variablePatterns: Array<[string, RegExp[], string]>;

  private constructor(data: LlmPolicyData) {
    this.data = data;
    this.rules = data.rules.map((rule) => ({
      rule,
      userPatterns: compileUserPatterns(rule.when),
      previousAssistantPatterns: (rule.when.previousAssistantMatches ?? []).map((source) => new RegExp(source, 'iu')),
    }));
    this.variablePatterns = Object.entries(data.variables).map(([name, variable]) => [
      name,
      variable.patterns.map((source) => new RegExp(source, 'iu')),
      variable.default,
    ]);
  }

  /** Validates `input` and compiles it; throws an error listing each problem with its path. */
  static from(input: LlmPolicyInput): LlmPolicy {
    const parsed = llmPolicySchema.safeParse(input);
    if (!parsed.success) {
      const name = typeof (input as { name?: unknown })?.name === 'string' ? ` "${(input as { name: string }).name}"` : '';
      throw new Error(`invalid LLM policy${name}:\n${z.prettifyError(parsed.error)}`, { cause: parsed.error });
    }
    return new LlmPolicy(parsed.data);
  }

  get name(): string {
    return this.data.name;
  }

  /** The policy's variables as read from a system prompt (defaults where no pattern matches). */
  variables(system: string): Record<string, string> {
    const values: Record<string, string> = {};
    for (const [name, patterns, fallback] of this.variablePatterns) {
      values[name] = fallback;
      for (const pattern of patterns) {
        const match = pattern.exec(system);
        const value = match ? (match.groups?.value ?? match[1] ?? match[0]) : undefined;
        if (value !== undefined && value.trim() !== '') {
          values[name] = value.trim();
          break;
        }
      }
    }
    return values;
  }

  /** Answers one request. */
  respond(conversation: PolicyConversation): PolicyReply {
    const state = readState(conversation);
    const variables = {
      ...this.variables(conversation.system),
      lastUserMessage: state.lastUserText,
      turn: String(state.turn),
    };
    for (const compiled of this.rules) {
      if (!ruleMatches(compiled, state)) continue;
      const userMatch = userMatchOf(compiled.rule.when.userMatches ?? [], state.lastUserText);
      return render(compiled.rule.id, compiled.rule.reply, compiled.rule.toolCalls, { ...variables, userMatch });
    }
    const offered = this.data.fallback.toolCalls.filter((call) => state.offeredTools.has(call.name));
    return render('fallback', this.data.fallback.reply, offered, { ...variables, userMatch: '' });
  }
}

/** What the first of `sources` that matches `text` captured (`value` group, else group 1, else the match). */
function userMatchOf(sources: readonly string[], text: string): string {
  for (const source of sources) {
    const match = new RegExp(source, 'iu').exec(text);
    if (match) return (match.groups?.value ?? match[1] ?? match[0]).trim();
  }
  return '';
}

function compileUserPatterns(when: PolicyCondition): RegExp[] {
  const patterns: RegExp[] = [];
  for (const phrase of when.userSays ?? []) {
    const body = normaliseText(phrase)
      .split(/\s+/)
      .map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('\\s+');
    patterns.push(new RegExp(`(?<![\\p{L}\\p{N}'])${body}(?![\\p{L}\\p{N}'])`, 'iu'));
  }
  for (const source of when.userMatches ?? []) patterns.push(new RegExp(source, 'iu'));
  if (when.dtmf && when.dtmf.length > 0) {
    const digits = when.dtmf.map((d) => d.replace(/[*#]/g, '\\$&')).join('|');
    patterns.push(new RegExp(`^\\W*dtmf\\W*(?:${digits})\\W*$`, 'iu'));
  }
  return patterns;
}

/** STT and keyboards disagree on apostrophes; policies are written with '. */
function normaliseText(text: string): string {
  return text.replace(/[\u2018\u2019\u02bc]/g, "'").trim();
}

function readState(conversation: PolicyConversation): ConversationState {
  const { messages } = conversation;
  const calledTools = new Set<string>();
  let turn = 0;
  let lastUserText = '';
  for (const message of messages) {
    if (message.role === 'user') {
      turn++;
      lastUserText = normaliseText(message.text);
    }
    for (const call of message.toolCalls ?? []) calledTools.add(call.name);
  }
  // The message being answered: the trailing tool results, or the last user message.
  let end = messages.length;
  const toolResultNames = new Set<string>();
  while (end > 0 && messages[end - 1]?.role === 'tool') {
    end--;
    const name = messages[end]?.toolName;
    if (name) toolResultNames.add(name);
  }
  const last = messages[messages.length - 1];
  let mode: ConversationState['mode'];
  if (toolResultNames.size > 0 || last?.role === 'tool') mode = 'tool-result';
  else if (!last || last.role === 'user') mode = 'user';
  else mode = 'other';
  // Skip back over the user messages being answered, then find the last thing the assistant said.
  let index = mode === 'user' ? messages.length - 1 : end - 1;
  while (mode === 'user' && index >= 0 && messages[index]?.role === 'user') index--;
  let previousAssistantText = '';
  for (; index >= 0; index--) {
    const message = messages[index];
    if (message?.role === 'assistant' && message.text.trim() !== '') {
      previousAssistantText = normaliseText(message.text);
      break;
    }
  }
  return {
    mode,
    lastUserText,
    previousAssistantText,
    turn,
    toolResultNames,
    calledTools,
    offeredTools: new Set(conversation.tools),
  };
}

function ruleMatches({ rule, userPatterns, previousAssistantPatterns }: CompiledRule, state: ConversationState): boolean {
  const when = rule.when;
  if (when.afterToolResult !== undefined) {
    if (state.mode !== 'tool-result' || !state.toolResultNames.has(when.afterToolResult)) return false;
  } else if (state.mode !== 'user') {
    return false;
  }
  if (rule.toolCalls.some((call) => !state.offeredTools.has(call.name))) return false;
  if (userPatterns.length > 0 && !userPatterns.some((pattern) => pattern.test(state.lastUserText))) return false;
  if (when.turn !== undefined) {
    const { min, max } = typeof when.turn === 'number' ? { min: when.turn, max: when.turn } : when.turn;
    if ((min !== undefined && state.turn < min) || (max !== undefined && state.turn > max)) return false;
  }
  if (previousAssistantPatterns.length > 0 && !previousAssistantPatterns.some((pattern) => pattern.test(state.previousAssistantText))) {
    return false;
  }
  if (when.toolsCalled && !when.toolsCalled.some((name) => state.calledTools.has(name))) return false;
  if (when.toolsNotCalled && when.toolsNotCalled.some((name) => state.calledTools.has(name))) return false;
  return true;
}

function render(ruleId: string, reply: string, toolCalls: PolicyToolCall[], variables: Record<string, string>): PolicyReply {
  return {
    ruleId,
    text: renderTemplate(reply, variables),
    toolCalls: toolCalls.map((call) => ({
      name: call.name,
      args: renderDeep(call.args, variables) as Record<string, unknown>,
    })),
  };
}

function renderDeep(value: unknown, variables: Record<string, string>): unknown {
  if (typeof value === 'string') return renderTemplate(value, variables);
  if (Array.isArray(value)) return value.map((item) => renderDeep(item, variables));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderDeep(item, variables)]));
  }
  return value;
}

/** Where the bundled policies live (`src/sandbox/policies/<name>.json`). */
export const bundledPoliciesDir = new URL('../policies/', import.meta.url);

/** Reads and validates a policy JSON file. */
export async function loadLlmPolicyFile(path: string | URL): Promise<LlmPolicy> {
  return LlmPolicy.from(JSON.parse(await readFile(path, 'utf8')) as LlmPolicyInput);
}

let defaultPolicy: LlmPolicy | undefined;

/**
 * The default policy: a short appointment-reminder call (`src/sandbox/policies/appointment-reminder.json`),
 * matching the sandbox agent's system prompt ("You are Sam … calling on behalf of <clinic> … calling
 * <first name> to remind them of their appointment with <provider> on <date> at <time>.").
 */
export function defaultLlmPolicy(): LlmPolicy {
  defaultPolicy ??= LlmPolicy.from(
    JSON.parse(readFileSync(new URL('appointment-reminder.json', bundledPoliciesDir), 'utf8')) as LlmPolicyInput,
  );
  return defaultPolicy;
}
