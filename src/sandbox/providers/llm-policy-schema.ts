import { z } from 'zod';

/**
 * The data format of a scripted LLM policy (what the OpenAI and Gemini emulators answer with). Policies are
 * plain JSON under `src/sandbox/policies/`; {@link llmPolicySchema} validates them. Regexes are JavaScript
 * regex sources compiled with the `iu` flags (case-insensitive, Unicode), so `\p{L}` works and `\'` does not.
 */

function isValidRegex(source: string): boolean {
  try {
    new RegExp(source, 'iu');
    return true;
  } catch {
    return false;
  }
}

const regexSource = z.string().min(1).refine(isValidRegex, { message: 'not a valid regex (compiled with flags "iu")' });

/** One tool call a rule makes. String values in `args` (at any depth) are templates. */
export const policyToolCallSchema = z
  .object({
    name: z.string().min(1),
    /** @default {} */
    args: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

/**
 * When a rule applies. Every condition given must hold. The user conditions (`userSays`, `userMatches`,
 * `dtmf`) are alternatives: if any of them is given, at least one must match the last user message.
 */
export const policyConditionSchema = z
  .object({
    /** Words or phrases, matched as whole words, case-insensitive (’ is read as '). */
    userSays: z.array(z.string().min(1)).optional(),
    /** Regexes tested against the last user message. */
    userMatches: z.array(regexSource).optional(),
    /** DTMF digits: matches a last user message like "DTMF: 1". */
    dtmf: z.array(z.string().regex(/^[0-9*#A-D]+$/)).optional(),
    /** The user turn being answered (1 = the first user message), exactly or as a range. */
    turn: z
      .union([
        z.number().int().min(0),
        z.object({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() }).strict(),
      ])
      .optional(),
    /**
     * The conversation ends with a result of this tool. Rules without it only answer a user message; rules
     * with it only answer tool results.
     */
    afterToolResult: z.string().min(1).optional(),
    /** Regexes tested against the text of the last assistant message before the message being answered. */
    previousAssistantMatches: z.array(regexSource).optional(),
    /** At least one of these tools was called earlier in the conversation. */
    toolsCalled: z.array(z.string().min(1)).optional(),
    /** None of these tools was called earlier in the conversation. */
    toolsNotCalled: z.array(z.string().min(1)).optional(),
  })
  .strict();

/** What a rule (or the fallback) answers: reply text and/or tool calls, in that order in the response. */
const policyResponseFields = {
  /** Reply text, a template (`{{firstName}}`). @default '' (no text) */
  reply: z.string().default(''),
  /** @default [] */
  toolCalls: z.array(policyToolCallSchema).default([]),
};

export const policyRuleSchema = z
  .object({
    /** Names the rule in request logs and test failures. */
    id: z.string().min(1),
    /** @default {} (matches any user message) */
    when: policyConditionSchema.default({}),
    ...policyResponseFields,
  })
  .strict();

/** A value read from the system prompt: the first pattern that matches wins; its `value` group (or group 1). */
export const policyVariableSchema = z
  .object({
    patterns: z.array(regexSource).min(1),
    /** Used when no pattern matches. */
    default: z.string(),
  })
  .strict();

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'variable names are identifiers');

/**
 * Template variables every policy can use without declaring them. `userMatch`: what the rule's first matching
 * `userMatches` regex captured (its `value` group, else group 1, else the whole match); '' otherwise.
 */
export const builtinPolicyVariables = ['lastUserMessage', 'turn', 'userMatch'] as const;

export const llmPolicySchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    /** @default {} */
    variables: z.record(identifier, policyVariableSchema).default({}),
    /** Tried in order; the first rule whose conditions hold (and whose tools the request offers) answers. */
    rules: z.array(policyRuleSchema),
    /** Answers when no rule matches. Tool calls the request does not offer are dropped. */
    fallback: z.object(policyResponseFields).strict(),
  })
  .strict()
  .superRefine((policy, ctx) => {
    const known = new Set<string>([...Object.keys(policy.variables), ...builtinPolicyVariables]);
    const seenIds = new Set<string>();
    const checkTemplate = (value: unknown, path: (string | number)[]): void => {
      if (typeof value === 'string') {
        for (const name of templateVariableNames(value)) {
          if (!known.has(name)) ctx.addIssue({ code: 'custom', message: `unknown template variable {{${name}}}`, path });
        }
      } else if (Array.isArray(value)) {
        value.forEach((item, i) => checkTemplate(item, [...path, i]));
      } else if (value !== null && typeof value === 'object') {
        for (const [key, item] of Object.entries(value)) checkTemplate(item, [...path, key]);
      }
    };
    policy.rules.forEach((rule, i) => {
      if (seenIds.has(rule.id)) ctx.addIssue({ code: 'custom', message: `duplicate rule id "${rule.id}"`, path: ['rules', i, 'id'] });
      seenIds.add(rule.id);
      checkTemplate(rule.reply, ['rules', i, 'reply']);
      checkTemplate(rule.toolCalls, ['rules', i, 'toolCalls']);
    });
    checkTemplate(policy.fallback.reply, ['fallback', 'reply']);
    checkTemplate(policy.fallback.toolCalls, ['fallback', 'toolCalls']);
  });

/** A policy as written (defaults may be omitted). */
export type LlmPolicyInput = z.input<typeof llmPolicySchema>;
/** A validated policy with defaults filled in. */
export type LlmPolicyData = z.output<typeof llmPolicySchema>;
export type PolicyRule = z.output<typeof policyRuleSchema>;
export type PolicyCondition = z.output<typeof policyConditionSchema>;
export type PolicyToolCall = z.output<typeof policyToolCallSchema>;

// `{{name}}` or `{{name|fallback}}`: the fallback is said when the variable came out empty.
const templatePattern = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|([^}]*))?\}\}/g;

export function templateVariableNames(template: string): string[] {
  return [...template.matchAll(templatePattern)].map((match) => match[1] as string);
}

/**
 * Replaces `{{name}}` with its value, or with the fallback of `{{name|fallback}}` when the value is empty
 * (unknown names become empty: validation has already caught them).
 */
export function renderTemplate(template: string, variables: Record<string, string>): string {
  return template.replace(templatePattern, (_whole, name: string, fallback?: string) => {
    const value = variables[name] ?? '';
    return value === '' ? (fallback?.trim() ?? '') : value;
  });
}
