import { randomBytes } from 'node:crypto';
import { splitIntoTokens, type LlmEmulatorErrorSpec } from './llm-emulator-server.ts';
import type { PolicyConversation, PolicyMessage, PolicyReply } from './llm-policy.ts';

/** OpenAI request parsing and error shapes shared by the Chat Completions and Responses routes. */

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** A request the API would reject: status + OpenAI error body. */
export class OpenAIRequestError extends Error {
  constructor(
    readonly status: number,
    readonly body: OpenAIErrorBody,
  ) {
    super(body.error.message);
  }
}

export function openAIError(
  message: string,
  options: { type?: string; param?: string | null; code?: string | null } = {},
): OpenAIErrorBody {
  return {
    error: {
      message,
      type: options.type ?? 'invalid_request_error',
      param: options.param ?? null,
      code: options.code ?? null,
    },
  };
}

function invalid(message: string, param: string | null = null, code: string | null = null): OpenAIRequestError {
  return new OpenAIRequestError(400, openAIError(message, { param, code }));
}

/** The body OpenAI sends for an HTTP error of this status (fields in `spec` override the usual wording). */
export function openAIErrorForStatus(spec: LlmEmulatorErrorSpec, model: string): OpenAIErrorBody {
  const status = spec.status ?? 500;
  const defaults: Record<number, { message: string; type: string; code: string | null }> = {
    400: { message: 'Invalid request.', type: 'invalid_request_error', code: null },
    401: {
      message: 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
      type: 'invalid_request_error',
      code: 'invalid_api_key',
    },
    403: { message: 'You are not allowed to sample from this model', type: 'invalid_request_error', code: null },
    404: {
      message: `The model \`${model}\` does not exist or you do not have access to it.`,
      type: 'invalid_request_error',
      code: 'model_not_found',
    },
    429: {
      message: `Rate limit reached for ${model} in organization org-emulator on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
      type: 'requests',
      code: 'rate_limit_exceeded',
    },
    500: {
      message: 'The server had an error while processing your request. Sorry about that!',
      type: 'server_error',
      code: null,
    },
    503: {
      message: 'The server is overloaded or not ready yet.',
      type: 'server_error',
      code: null,
    },
  };
  const base = defaults[status] ?? {
    message: status >= 500 ? 'The server had an error processing your request.' : 'Request failed.',
    type: status >= 500 ? 'server_error' : 'invalid_request_error',
    code: null,
  };
  return openAIError(spec.message ?? base.message, { type: spec.type ?? base.type, code: spec.code ?? base.code });
}

/** OpenAI's 401 bodies: no key, or a wrong one (shown masked like the real API does). */
export function openAIAuthError(presented: string | undefined): OpenAIErrorBody {
  if (!presented) {
    return openAIError(
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
    );
  }
  const masked =
    presented.length > 12
      ? `${presented.slice(0, 8)}${'*'.repeat(presented.length - 12)}${presented.slice(-4)}`
      : '*'.repeat(presented.length);
  return openAIError(`Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`, {
    code: 'invalid_api_key',
  });
}

/** `prefix` + n random base62 characters, like OpenAI's ids. */
export function openAIId(prefix: string, length = 24): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let id = prefix;
  for (const byte of bytes) id += alphabet[byte % alphabet.length];
  return id;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Text of a message `content`: a string, null, or an array of text parts. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('');
  }
  return '';
}

function parseArgs(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Checks `model`; returns it. */
export function requireModel(body: Record<string, unknown>): string {
  if (typeof body.model !== 'string' || body.model === '') throw invalid('you must provide a model parameter');
  return body.model;
}

/** Names of function tools in a Chat Completions `tools` array, validated like the API does. */
export function chatToolNames(tools: unknown): string[] {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) throw invalid("Invalid type for 'tools': expected an array.", 'tools', 'invalid_type');
  return tools.map((tool, i) => {
    const fn = isRecord(tool) && isRecord(tool.function) ? tool.function : undefined;
    const name = fn?.name;
    if (typeof name !== 'string') {
      throw invalid(`Missing required parameter: 'tools[${i}].function.name'.`, `tools[${i}].function.name`, 'missing_required_parameter');
    }
    checkToolName(name, `tools[${i}].function.name`);
    return name;
  });
}

/** Names of function tools in a Responses `tools` array. */
export function responsesToolNames(tools: unknown): string[] {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) throw invalid("Invalid type for 'tools': expected an array.", 'tools', 'invalid_type');
  return tools.flatMap((tool, i) => {
    if (!isRecord(tool) || tool.type !== 'function') return [];
    if (typeof tool.name !== 'string') {
      throw invalid(`Missing required parameter: 'tools[${i}].name'.`, `tools[${i}].name`, 'missing_required_parameter');
    }
    checkToolName(tool.name, `tools[${i}].name`);
    return [tool.name];
  });
}

function checkToolName(name: string, param: string): void {
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(name)) {
    throw invalid(
      `Invalid '${param}': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
      param,
      'invalid_value',
    );
  }
}

/**
 * Chat Completions `messages` → policy conversation, rejecting what the API rejects: tool messages that
 * answer no earlier tool call, and tool calls left without a tool message.
 */
export function chatConversation(body: Record<string, unknown>, tools: string[]): PolicyConversation {
  const { messages } = body;
  if (messages === undefined) {
    throw invalid("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  }
  if (!Array.isArray(messages)) throw invalid("Invalid type for 'messages': expected an array.", 'messages', 'invalid_type');
  if (messages.length === 0) {
    throw invalid(
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'messages',
      'empty_array',
    );
  }
  const system: string[] = [];
  const out: PolicyMessage[] = [];
  const callNames = new Map<string, string>();
  let openCalls: { index: number; ids: Set<string> } | undefined;
  messages.forEach((message, i) => {
    if (!isRecord(message) || typeof message.role !== 'string') {
      throw invalid(`Missing required parameter: 'messages[${i}].role'.`, `messages[${i}].role`, 'missing_required_parameter');
    }
    if (openCalls && message.role !== 'tool' && openCalls.ids.size > 0) {
      throw missingToolResponses(openCalls.index, openCalls.ids);
    }
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(contentText(message.content));
        break;
      case 'user':
        out.push({ role: 'user', text: contentText(message.content) });
        break;
      case 'assistant': {
        const toolCalls: Array<{ name: string; args: unknown }> = [];
        const ids = new Set<string>();
        for (const call of Array.isArray(message.tool_calls) ? message.tool_calls : []) {
          if (!isRecord(call) || !isRecord(call.function) || typeof call.id !== 'string') continue;
          const name = String(call.function.name);
          callNames.set(call.id, name);
          ids.add(call.id);
          toolCalls.push({ name, args: parseArgs(call.function.arguments) });
        }
        openCalls = ids.size > 0 ? { index: i, ids } : undefined;
        out.push({ role: 'assistant', text: contentText(message.content), ...(toolCalls.length ? { toolCalls } : {}) });
        break;
      }
      case 'tool': {
        const id = message.tool_call_id;
        if (!openCalls || typeof id !== 'string' || !openCalls.ids.has(id)) {
          throw invalid(
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
            `messages.[${i}].role`,
          );
        }
        openCalls.ids.delete(id);
        out.push({ role: 'tool', text: contentText(message.content), toolName: callNames.get(id) ?? '' });
        break;
      }
      default:
        throw invalid(
          `Invalid value: '${message.role}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
          `messages[${i}].role`,
          'invalid_value',
        );
    }
  });
  if (openCalls && openCalls.ids.size > 0) throw missingToolResponses(openCalls.index, openCalls.ids);
  return { system: system.join('\n'), messages: out, tools };
}

function missingToolResponses(index: number, ids: Set<string>): OpenAIRequestError {
  return invalid(
    `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...ids].join(', ')}`,
    `messages.[${index}].role`,
  );
}

/**
 * Responses `instructions` + `input` → policy conversation. Function call outputs must answer a function
 * call in the input, and every function call needs an output. `item_reference`s cannot be resolved: this
 * emulator stores nothing (clients should send `store: false`).
 */
export function responsesConversation(body: Record<string, unknown>, tools: string[]): PolicyConversation {
  const system: string[] = typeof body.instructions === 'string' ? [body.instructions] : [];
  const out: PolicyMessage[] = [];
  const input = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
  if (!Array.isArray(input)) throw invalid("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
  const callNames = new Map<string, string>();
  const unanswered = new Set<string>();
  for (const item of input) {
    if (!isRecord(item)) continue;
    const type = typeof item.type === 'string' ? item.type : 'message';
    if (type === 'message') {
      const role = item.role;
      const text = contentText(item.content);
      if (role === 'system' || role === 'developer') system.push(text);
      else if (role === 'user') out.push({ role: 'user', text });
      else if (role === 'assistant') out.push({ role: 'assistant', text });
    } else if (type === 'function_call') {
      const callId = String(item.call_id);
      const name = String(item.name);
      callNames.set(callId, name);
      unanswered.add(callId);
      const call = { name, args: parseArgs(item.arguments) };
      const last = out[out.length - 1];
      if (last?.role === 'assistant') (last.toolCalls ??= []).push(call);
      else out.push({ role: 'assistant', text: '', toolCalls: [call] });
    } else if (type === 'function_call_output') {
      const callId = String(item.call_id);
      const name = callNames.get(callId);
      if (name === undefined) throw invalid(`No tool call found for function call output with call_id ${callId}.`, 'input');
      unanswered.delete(callId);
      out.push({ role: 'tool', text: contentText(item.output), toolName: name });
    } else if (type === 'item_reference') {
      throw new OpenAIRequestError(
        404,
        openAIError(`Item with id '${String(item.id)}' not found. Items are not persisted when \`store\` is set to false.`, {
          param: 'input',
        }),
      );
    }
  }
  const [missing] = unanswered;
  if (missing !== undefined) throw invalid(`No tool output found for function call ${missing}.`, 'input');
  return { system: system.join('\n'), messages: out, tools };
}

/** A reply cut into what the model emits: text tokens, then each tool call's argument pieces. */
export interface PlannedReply {
  textTokens: string[];
  truncated: boolean;
  toolCalls: Array<{ id: string; name: string; arguments: string; argumentPieces: string[] }>;
  completionTokens: number;
}

export function planReply(reply: PolicyReply, maxTokens: number | undefined, idPrefix = 'call_'): PlannedReply {
  let textTokens = splitIntoTokens(reply.text);
  const truncated = maxTokens !== undefined && textTokens.length > maxTokens;
  if (truncated) textTokens = textTokens.slice(0, maxTokens);
  const toolCalls = truncated
    ? []
    : reply.toolCalls.map((call) => {
        const args = JSON.stringify(call.args);
        const argumentPieces: string[] = [];
        for (let i = 0; i < args.length; i += 5) argumentPieces.push(args.slice(i, i + 5));
        return { id: openAIId(idPrefix), name: call.name, arguments: args, argumentPieces };
      });
  const completionTokens = textTokens.length + toolCalls.reduce((sum, call) => sum + 3 + call.argumentPieces.length, 0);
  return { textTokens, truncated, toolCalls, completionTokens: Math.max(1, completionTokens) };
}
