import type { LlmEmulatorErrorSpec } from './llm-emulator-server.ts';
import type { PolicyConversation, PolicyMessage } from './llm-policy.ts';

/** Gemini (`generativelanguage.googleapis.com/v1beta`) request parsing and error shapes. */

export interface GoogleErrorBody {
  error: { code: number; message: string; status: string; details?: unknown[] };
}

/** A request the API would reject. */
export class GoogleRequestError extends Error {
  constructor(readonly body: GoogleErrorBody) {
    super(body.error.message);
  }
  get status(): number {
    return this.body.error.code;
  }
}

const canonicalStatus: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const usualMessage: Record<number, string> = {
  400: 'Request contains an invalid argument.',
  403: 'The caller does not have permission',
  404: 'Requested entity was not found.',
  429: 'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
  504: 'Deadline expired before operation could complete.',
};

export function googleError(code: number, message: string, status?: string, details?: unknown[]): GoogleErrorBody {
  return {
    error: {
      code,
      message,
      status: status ?? canonicalStatus[code] ?? (code >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT'),
      ...(details ? { details } : {}),
    },
  };
}

/**
 * The body Google sends for an error of this HTTP status (`spec.code` is the `status` string). A 429 carries
 * the `details` real quota errors carry (as quoted in public reports of Gemini API responses): a
 * `google.rpc.QuotaFailure` naming the per-minute quota, a `google.rpc.Help` link, and — when the fault has
 * `retryAfterMs` — a `google.rpc.RetryInfo` whose `retryDelay` is a protobuf Duration in JSON form (`"1.5s"`).
 */
export function googleErrorForStatus(spec: LlmEmulatorErrorSpec, model = 'gemini-2.0-flash'): GoogleErrorBody {
  const code = spec.status ?? 500;
  const message = spec.message ?? usualMessage[code] ?? 'Request failed.';
  if (code !== 429) return googleError(code, message, spec.code);
  const details: unknown[] = [
    {
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: [
        {
          quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
          quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
          quotaDimensions: { location: 'global', model },
          quotaValue: '15',
        },
      ],
    },
    {
      '@type': 'type.googleapis.com/google.rpc.Help',
      links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
    },
  ];
  if (spec.retryAfterMs !== undefined) {
    details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: protobufDuration(spec.retryAfterMs) });
  }
  return googleError(code, message, spec.code, details);
}

/** A `google.protobuf.Duration` in its JSON form: seconds with up to nine decimals and an `s` (`"1.5s"`). */
export function protobufDuration(ms: number): string {
  const seconds = (Math.max(0, ms) / 1000).toFixed(9).replace(/\.?0+$/, '');
  return `${seconds}s`;
}

export function googleAuthError(presented: boolean): GoogleErrorBody {
  if (!presented) {
    return googleError(
      403,
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
    );
  }
  return googleError(400, 'API key not valid. Please pass a valid API key.', 'INVALID_ARGUMENT', [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
  ]);
}

function invalid(message: string): GoogleRequestError {
  return new GoogleRequestError(googleError(400, message));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function partsOf(content: unknown): Record<string, unknown>[] {
  return isRecord(content) && Array.isArray(content.parts) ? content.parts.filter(isRecord) : [];
}

/** Function names declared in `tools[].functionDeclarations`. */
export function geminiToolNames(tools: unknown): string[] {
  if (!Array.isArray(tools)) return [];
  return tools.flatMap((tool) =>
    isRecord(tool) && Array.isArray(tool.functionDeclarations)
      ? tool.functionDeclarations.filter(isRecord).map((fn) => String(fn.name))
      : [],
  );
}

/** Thought signatures the emulator accepts without having issued them (Google documents these as skips). */
const skipSignatures = new Set(['skip_thought_signature_validator', 'context_engineering_is_the_way_to_go']);

/**
 * `systemInstruction` + `contents` → policy conversation, with Gemini's ordering checks: a function call
 * turn follows a user or function response turn, and a function response turn immediately follows a function
 * call turn with as many parts. With `issuedSignatures`, the first function call of each model step in the
 * current turn must carry a thought signature this emulator issued (Gemini 3 behaviour).
 */
export function geminiConversation(
  body: Record<string, unknown>,
  tools: string[],
  issuedSignatures?: ReadonlySet<string>,
): PolicyConversation {
  const system = partsOf(body.systemInstruction)
    .map((part) => (typeof part.text === 'string' ? part.text : ''))
    .join('\n');
  const contents = Array.isArray(body.contents) ? body.contents.filter(isRecord) : [];
  if (contents.length === 0) throw invalid('* GenerateContentRequest.contents: contents is not specified\n');

  const messages: PolicyMessage[] = [];
  let previous: 'user' | 'call' | 'response' | 'model' | undefined;
  let pendingCalls = 0;
  // Where the current turn (since the last user text) starts, for the signature check.
  let currentTurnStart = 0;
  contents.forEach((content, index) => {
    const parts = partsOf(content);
    const role = content.role === 'model' ? 'model' : 'user';
    if (role === 'model') {
      const calls = parts.filter((part) => isRecord(part.functionCall));
      if (calls.length > 0 && previous !== 'user' && previous !== 'response') {
        throw invalid('Please ensure that function call turn comes immediately after a user turn or after a function response turn.');
      }
      const text = parts
        .filter((part) => typeof part.text === 'string' && part.thought !== true)
        .map((part) => part.text as string)
        .join('');
      messages.push({
        role: 'assistant',
        text,
        ...(calls.length > 0
          ? {
              toolCalls: calls.map((part) => {
                const call = part.functionCall as Record<string, unknown>;
                return { name: String(call.name), args: call.args ?? {} };
              }),
            }
          : {}),
      });
      pendingCalls = calls.length;
      previous = calls.length > 0 ? 'call' : 'model';
      return;
    }
    const responses = parts.filter((part) => isRecord(part.functionResponse));
    if (responses.length > 0) {
      if (previous !== 'call') {
        throw invalid('Please ensure that function response turn comes immediately after a function call turn.');
      }
      if (responses.length !== pendingCalls) {
        throw invalid(
          'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.',
        );
      }
      for (const part of responses) {
        const response = part.functionResponse as Record<string, unknown>;
        messages.push({ role: 'tool', text: JSON.stringify(response.response ?? {}), toolName: String(response.name) });
      }
      previous = 'response';
    }
    const text = parts
      .filter((part) => typeof part.text === 'string')
      .map((part) => part.text as string)
      .join('');
    if (text !== '' || responses.length === 0) {
      messages.push({ role: 'user', text });
      previous = 'user';
      currentTurnStart = index;
    }
    pendingCalls = 0;
  });

  if (issuedSignatures) {
    contents.slice(currentTurnStart).forEach((content, offset) => {
      if (content.role !== 'model') return;
      const parts = partsOf(content);
      const position = parts.findIndex((part) => isRecord(part.functionCall));
      if (position < 0) return;
      const first = parts[position] as Record<string, unknown>;
      const signature = first.thoughtSignature;
      if (typeof signature === 'string' && (issuedSignatures.has(signature) || skipSignatures.has(signature))) return;
      if (typeof signature === 'string') throw invalid('Corrupted thought signature.');
      const name = String((first.functionCall as Record<string, unknown>).name);
      throw invalid(
        `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${name}\` , position ${currentTurnStart + offset + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`,
      );
    });
  }
  return { system, messages, tools };
}
