import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ConversationPolicy } from '../agent-policies.ts';
import { LlmPolicy, defaultLlmPolicy, type LlmPolicyInput, type PolicyReply } from './llm-policy.ts';
import { abortableSleep } from '../../util/abortable-sleep.ts';

/**
 * What the OpenAI and Gemini emulators share: an HTTP server on 127.0.0.1, a request log, fault injection,
 * realistic pacing and the scripted policy. The wire formats live in the emulators themselves.
 */

/** How fast the emulated model answers. */
export interface LlmEmulatorTiming {
  /** Delay from receiving the request to the first token (0 for benchmarks). */
  ttftMs: number;
  /** Generation speed after the first token; 0 or Infinity sends everything at once. */
  tokensPerSecond: number;
}

/** The error a fault makes the emulator return; unset fields get the provider's usual wording. */
export interface LlmEmulatorErrorSpec {
  /** HTTP status (or, mid-stream, the status the error stands for). @default 500 */
  status?: number;
  /** Provider error code (OpenAI `code`, Google `status`). */
  code?: string;
  message?: string;
  /** OpenAI error `type`. */
  type?: string;
  /**
   * The retry delay an HTTP error asks for: OpenAI sends `retry-after-ms` and `retry-after` headers, Gemini a
   * `google.rpc.RetryInfo` entry (`retryDelay: "1.5s"`) in the 429 body's `error.details`.
   */
  retryAfterMs?: number;
}

export type LlmEmulatorFault =
  /** Answer with an HTTP error instead of generating. */
  | ({ kind: 'http-error' } & LlmEmulatorErrorSpec)
  /** Start streaming normally, then send the provider's in-stream error after `afterTokens` tokens and end. */
  | ({ kind: 'mid-stream-error'; afterTokens: number } & LlmEmulatorErrorSpec)
  /**
   * Stop answering: before the response headers (`afterTokens` unset) or after streaming `afterTokens`
   * tokens. The connection stays open until the client gives up.
   */
  | { kind: 'hang'; afterTokens?: number };

export type LlmEmulatorOutcome = 'pending' | 'completed' | 'aborted' | 'failed';

/** One request the emulator received, as the tests and the sandbox UI see it. */
export interface LlmEmulatorRequest {
  /** 0-based position in {@link LlmEmulatorHandle.requests}. */
  index: number;
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  /** Request headers with credentials redacted. */
  headers: Record<string, string>;
  /** Result of the credential check ("not-required" when the emulator has no key configured). */
  auth: 'not-required' | 'ok' | 'missing' | 'invalid';
  /** Parsed JSON body (undefined for GET or unparsable bodies). */
  body: unknown;
  /** `performance.now()` when the request arrived. */
  receivedAt: number;
  /** `performance.now()` when the first token was written. */
  firstTokenAt?: number;
  /** SSE events written so far (shows how far a stream got before an abort). */
  eventsSent: number;
  /** `performance.now()` when the response ended or the client went away. */
  endedAt?: number;
  status?: number;
  stream: boolean;
  model?: string;
  /** What the policy answered (generation endpoints only). */
  reply?: PolicyReply;
  fault?: LlmEmulatorFault['kind'];
  /** "aborted": the client disconnected before the response was complete. */
  outcome: LlmEmulatorOutcome;
}

/** Controls common to both LLM emulators. */
export interface LlmEmulatorHandle {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** What to give the SDK as `baseURL` (url + the API's version prefix). */
  readonly baseURL: string;
  /** Every request received, in order. */
  readonly requests: readonly LlmEmulatorRequest[];
  /** The next `count` generation requests fail with this HTTP error. */
  failNext(count: number, error?: LlmEmulatorErrorSpec): void;
  /** The next `count` generation requests break off with an in-stream error after `afterTokens` tokens. */
  errorMidStream(count: number, options?: { afterTokens?: number } & LlmEmulatorErrorSpec): void;
  /** The next `count` generation requests hang (see {@link LlmEmulatorFault}). */
  hangNext(count: number, options?: { afterTokens?: number }): void;
  /** Queues an arbitrary fault for the next generation request. */
  injectFault(fault: LlmEmulatorFault): void;
  /** Resolves when the request at `index` (default: the latest so far) has completed, failed or been aborted. */
  settled(index?: number): Promise<LlmEmulatorRequest>;
  /** Resolves when `count` requests have been received (default: one more than now). */
  waitForRequests(count?: number): Promise<void>;
  setTiming(timing: Partial<LlmEmulatorTiming>): void;
  readonly timing: Readonly<LlmEmulatorTiming>;
  setPolicy(policy: ConversationPolicy | LlmPolicyInput): void;
  readonly policy: ConversationPolicy;
  /** Stops the server, dropping open connections. */
  close(): Promise<void>;
}

/** Options common to both emulators. */
export interface LlmEmulatorOptions {
  /** The API key clients must send; unset accepts any or none. @default undefined */
  apiKey?: string;
  /** How replies are chosen. @default defaultLlmPolicy() (the appointment reminder) */
  policy?: ConversationPolicy | LlmPolicyInput;
  /** @default per emulator (OpenAI 350 ms / 80 tok/s, Gemini 400 ms / 150 tok/s) */
  timing?: Partial<LlmEmulatorTiming>;
  /** Port to bind on 127.0.0.1. @default 0 (any free port) */
  port?: number;
}

/** What a route handler gets for one request. */
export interface EmulatorExchange {
  readonly request: LlmEmulatorRequest;
  readonly res: ServerResponse;
  /** Aborted when the client disconnects (or the server closes). */
  readonly signal: AbortSignal;
  readonly timing: LlmEmulatorTiming;
  readonly policy: ConversationPolicy;
  /** The request had a body that is not JSON. */
  readonly invalidJson: boolean;
  /** Takes the next queued fault (generation endpoints call this once). */
  takeFault(): LlmEmulatorFault | undefined;
  /** Writes a JSON response and ends it. */
  sendJson(status: number, body: unknown, headers?: Record<string, string>): void;
  /** Sends 200 + SSE headers. */
  startEventStream(): void;
  /** Writes one SSE event; `delimiter` is the blank line after it. */
  writeEvent(data: string, options?: { event?: string; delimiter?: string }): void;
  /**
   * Waits for token `tokenIndex`'s slot: `ttftMs` after the request arrived for the first token asked for,
   * then `1 / tokensPerSecond` per token after the previous one. False if the client left.
   */
  waitForToken(tokenIndex: number): Promise<boolean>;
  /** Waits until the client disconnects (hang faults). */
  waitForDisconnect(): Promise<void>;
  /** Marks the response complete and ends it. */
  end(): void;
}

export type EmulatorRoute = (exchange: EmulatorExchange) => Promise<void>;

interface PendingExchange {
  record: LlmEmulatorRequest;
  settled: Promise<LlmEmulatorRequest>;
}

const maxBodyBytes = 20 * 1024 * 1024;

/** The shared server. Emulators supply `route` (dispatch by path) and `checkAuth`. */
export async function startLlmEmulatorServer(
  options: LlmEmulatorOptions & {
    defaultTiming: LlmEmulatorTiming;
    basePath: string;
    /** Redacts credentials from logged headers and returns the auth verdict. */
    checkAuth: (req: IncomingMessage, url: URL) => LlmEmulatorRequest['auth'];
    route: EmulatorRoute;
  },
): Promise<LlmEmulatorHandle> {
  let timing: LlmEmulatorTiming = { ...options.defaultTiming, ...options.timing };
  let policy = toPolicy(options.policy);
  const faults: LlmEmulatorFault[] = [];
  const requests: LlmEmulatorRequest[] = [];
  const pending: PendingExchange[] = [];
  const requestWaiters: Array<{ count: number; resolve: () => void }> = [];

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record: LlmEmulatorRequest = {
      index: requests.length,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: {},
      auth: options.checkAuth(req, url),
      body: undefined,
      receivedAt: performance.now(),
      stream: false,
      eventsSent: 0,
      outcome: 'pending',
    };
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      record.headers[name] = /authorization|api-key|x-goog-api-key/i.test(name) ? '[redacted]' : String(value);
    }
    if ('key' in record.query) record.query.key = '[redacted]';
    requests.push(record);
    for (const waiter of requestWaiters.splice(0)) {
      if (requests.length >= waiter.count) waiter.resolve();
      else requestWaiters.push(waiter);
    }

    const controller = new AbortController();
    let resolveSettled!: (record: LlmEmulatorRequest) => void;
    const settled = new Promise<LlmEmulatorRequest>((resolve) => (resolveSettled = resolve));
    pending[record.index] = { record, settled };
    res.on('close', () => {
      record.endedAt ??= performance.now();
      if (record.outcome === 'pending') record.outcome = res.writableFinished ? 'completed' : 'aborted';
      controller.abort();
      resolveSettled(record);
    });

    const raw = await readBody(req);
    if (raw.length > 0) {
      try {
        record.body = JSON.parse(raw.toString('utf8'));
      } catch {
        record.body = undefined;
      }
    }
    const exchange = createExchange(record, res, controller.signal, raw.length > 0 && record.body === undefined);
    try {
      await options.route(exchange);
    } catch (error) {
      if (!res.headersSent) {
        exchange.sendJson(500, { error: { message: `emulator error: ${(error as Error).message}` } });
      } else {
        res.destroy();
      }
    }
  }

  function createExchange(record: LlmEmulatorRequest, res: ServerResponse, signal: AbortSignal, invalidJson: boolean): EmulatorExchange {
    const currentTiming = timing;
    const currentPolicy = policy;
    let pacing: { index: number; at: number } | undefined;
    const write = (chunk: string): void => {
      if (!res.writableEnded && !res.destroyed) res.write(chunk);
    };
    return {
      request: record,
      res,
      signal,
      timing: currentTiming,
      policy: currentPolicy,
      invalidJson,
      takeFault: () => {
        const fault = faults.shift();
        if (fault) record.fault = fault.kind;
        return fault;
      },
      sendJson(status, body, headers = {}) {
        record.status = status;
        if (status >= 400) record.outcome = 'failed';
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
        res.end(text);
        record.endedAt = performance.now();
      },
      startEventStream() {
        record.status = 200;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
        });
        res.flushHeaders();
      },
      writeEvent(data, { event, delimiter = '\n\n' } = {}) {
        record.firstTokenAt ??= performance.now();
        record.eventsSent++;
        write(`${event ? `event: ${event}\n` : ''}data: ${data}${delimiter}`);
      },
      async waitForToken(tokenIndex) {
        const perToken =
          currentTiming.tokensPerSecond > 0 && Number.isFinite(currentTiming.tokensPerSecond) ? 1000 / currentTiming.tokensPerSecond : 0;
        // Paced from the previous token actually sent, so a late token (busy event loop) delays the rest
        // instead of letting them burst out to catch up.
        const due = pacing
          ? pacing.at + (tokenIndex - pacing.index) * perToken
          : record.receivedAt + currentTiming.ttftMs + tokenIndex * perToken;
        const wait = due - performance.now();
        if (wait > 1) await abortableSleep(wait, signal);
        pacing = { index: tokenIndex, at: Math.max(due, performance.now() - perToken / 2) };
        return !signal.aborted;
      },
      waitForDisconnect() {
        return new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          else signal.addEventListener('abort', () => resolve(), { once: true });
        });
      },
      end() {
        if (record.outcome === 'pending' && !res.destroyed) record.outcome = 'completed';
        record.endedAt = performance.now();
        if (!res.writableEnded) res.end();
      },
    };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    baseURL: `${url}${options.basePath}`,
    requests,
    failNext(count, error = {}) {
      for (let i = 0; i < count; i++) faults.push({ kind: 'http-error', ...error });
    },
    errorMidStream(count, { afterTokens = 3, ...error } = {}) {
      for (let i = 0; i < count; i++) faults.push({ kind: 'mid-stream-error', afterTokens, ...error });
    },
    hangNext(count, { afterTokens } = {}) {
      for (let i = 0; i < count; i++) faults.push({ kind: 'hang', ...(afterTokens === undefined ? {} : { afterTokens }) });
    },
    injectFault(fault) {
      faults.push(fault);
    },
    settled(index = requests.length - 1) {
      const entry = pending[index];
      if (!entry) return Promise.reject(new Error(`no request #${index} received yet`));
      return entry.settled;
    },
    waitForRequests(count = requests.length + 1) {
      if (requests.length >= count) return Promise.resolve();
      return new Promise<void>((resolve) => requestWaiters.push({ count, resolve }));
    },
    setTiming(next) {
      timing = { ...timing, ...next };
    },
    get timing() {
      return timing;
    },
    setPolicy(next) {
      policy = toPolicy(next);
    },
    get policy() {
      return policy;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function toPolicy(policy: ConversationPolicy | LlmPolicyInput | undefined): ConversationPolicy {
  if (policy === undefined) return defaultLlmPolicy();
  if (policy instanceof LlmPolicy || typeof (policy as Partial<ConversationPolicy>).respond === 'function')
    return policy as ConversationPolicy;
  return LlmPolicy.from(policy as LlmPolicyInput);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Splits text into pieces the size of BPE tokens: a word with its leading space, punctuation on its own,
 * long words in parts. Joining the pieces gives back the text exactly.
 */
export function splitIntoTokens(text: string): string[] {
  const pieces: string[] = [];
  for (const match of text.matchAll(/\s*[\p{L}\p{N}'’]+|\s*[^\s\p{L}\p{N}'’]|\s+/gu)) {
    const piece = match[0];
    if (piece.length <= 9) {
      pieces.push(piece);
      continue;
    }
    for (let i = 0; i < piece.length; i += 6) pieces.push(piece.slice(i, i + 6));
  }
  return pieces;
}

/** A rough token count (≈ 4 characters per token) for usage figures. */
export function approxTokenCount(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
