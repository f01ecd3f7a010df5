/**
 * The slice of Plivo's Voice REST API that places and controls calls, as the official SDK calls it:
 *
 * - `POST   /v1/Account/{auth_id}/Call/` (JSON) → 201 `{api_id, message: "call fired", request_uuid}`
 * - `GET    /v1/Account/{auth_id}/Call/?status=live` → `{api_id, calls: [uuid…]}`
 * - `GET    /v1/Account/{auth_id}/Call/{uuid}/?status=live` → live call; without `status` → CDR of an ended call
 * - `DELETE /v1/Account/{auth_id}/Call/{uuid}/` → 204 (404 if the call is not live)
 * - `DELETE /v1/Account/{auth_id}/Request/{request_uuid}/` → 204 (cancels a call not yet answered)
 *
 * HTTP Basic auth `auth_id:auth_token`; errors as `{api_id, error}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  isHttpUrl,
  parseBasicAuth,
  parseForm,
  readBody,
  safeEqual,
  sendEmpty,
  sendJson,
} from '../../../sandbox/carriers/shared/http-util.ts';
import { uuid } from '../../../sandbox/carriers/shared/ids.ts';
import type { WebhookMethod } from '../../../sandbox/carriers/shared/webhook.ts';
import type { PlivoCall } from './plivo-call.ts';

export interface CreatePlivoCallParams {
  from: string;
  /** One or more destinations (`<`-separated in the request). */
  to: string[];
  answerUrl: string;
  answerMethod: WebhookMethod;
  ringUrl: string | null;
  ringMethod: WebhookMethod;
  hangupUrl: string | null;
  hangupMethod: WebhookMethod;
  fallbackUrl: string | null;
  fallbackMethod: WebhookMethod;
  ringTimeoutSec: number;
  timeLimitSec: number;
  machineDetectionUrl: string | null;
  machineDetectionMethod: WebhookMethod;
}

export interface PlivoRestBackend {
  authId: string;
  authToken: string;
  /** Creates one call per destination, all sharing `requestUuid`. */
  createCalls(params: CreatePlivoCallParams, requestUuid: string): PlivoCall[];
  /** By CallUUID. */
  getCall(callUuid: string): PlivoCall | undefined;
  /** Calls created by a request. */
  callsByRequest(requestUuid: string): PlivoCall[];
  liveCalls(): PlivoCall[];
}

export interface PlivoRestError {
  status: number;
  error: string;
}

const NUMBER = /^\+?[1-9]\d{1,14}$/;

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function method(value: unknown, name: string): WebhookMethod | PlivoRestError {
  const v = str(value);
  if (v === undefined) return 'POST';
  const upper = v.toUpperCase();
  if (upper === 'GET' || upper === 'POST') return upper;
  return { status: 400, error: `${name} must be GET or POST` };
}

function seconds(value: unknown, fallback: number, name: string): number | PlivoRestError {
  const v = str(value);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) return { status: 400, error: `${name} must be a positive integer` };
  return n;
}

/** Validates a create-call body. */
export function validateCreatePlivoCall(body: Record<string, unknown>): CreatePlivoCallParams | PlivoRestError {
  const missing = ['from', 'to', 'answer_url'].filter((key) => !str(body[key]));
  if (missing.length > 0) return { status: 400, error: `Missing mandatory parameter(s): ${missing.join(', ')}` };
  const from = str(body.from) as string;
  const to = (str(body.to) as string).split('<').map((t) => t.trim());
  if (!NUMBER.test(from) && !/^sip:\S+$/i.test(from)) return { status: 400, error: `from: ${from} is not a valid phone number` };
  for (const destination of to) {
    if (!NUMBER.test(destination) && !/^sip:\S+$/i.test(destination)) {
      return { status: 400, error: `to: ${destination} is not a valid phone number or SIP URI` };
    }
  }
  const urls: Record<string, string | null> = {};
  for (const key of ['answer_url', 'ring_url', 'hangup_url', 'fallback_url', 'machine_detection_url']) {
    const value = str(body[key]);
    if (value !== undefined && !isHttpUrl(value)) return { status: 400, error: `${key}: ${value} is not a valid URL` };
    urls[key] = value ?? null;
  }
  const methods: Record<string, WebhookMethod> = {};
  for (const key of ['answer_method', 'ring_method', 'hangup_method', 'fallback_method', 'machine_detection_method']) {
    const m = method(body[key], key);
    if (typeof m !== 'string') return m;
    methods[key] = m;
  }
  const ringTimeout = seconds(body.ring_timeout, 120, 'ring_timeout');
  if (typeof ringTimeout !== 'number') return ringTimeout;
  const timeLimit = seconds(body.time_limit, 14_400, 'time_limit');
  if (typeof timeLimit !== 'number') return timeLimit;
  const machineDetection = str(body.machine_detection);
  return {
    from,
    to,
    answerUrl: urls.answer_url as string,
    answerMethod: methods.answer_method as WebhookMethod,
    ringUrl: urls.ring_url ?? null,
    ringMethod: methods.ring_method as WebhookMethod,
    hangupUrl: urls.hangup_url ?? null,
    hangupMethod: methods.hangup_method as WebhookMethod,
    fallbackUrl: urls.fallback_url ?? null,
    fallbackMethod: methods.fallback_method as WebhookMethod,
    ringTimeoutSec: ringTimeout,
    timeLimitSec: timeLimit,
    machineDetectionUrl: machineDetection === 'true' || machineDetection === 'hangup' ? (urls.machine_detection_url ?? null) : null,
    machineDetectionMethod: methods.machine_detection_method as WebhookMethod,
  };
}

function sendError(res: ServerResponse, error: PlivoRestError): void {
  sendJson(res, error.status, { api_id: uuid(), error: error.error });
}

const CALLS = /^\/v1\/Account\/([^/]+)\/Call\/?$/;
const CALL = /^\/v1\/Account\/([^/]+)\/Call\/([^/]+)\/?$/;
const REQUEST = /^\/v1\/Account\/([^/]+)\/Request\/([^/]+)\/?$/;

async function readJsonBody(req: IncomingMessage): Promise<{ body: Record<string, unknown> } | { error: PlivoRestError }> {
  const text = await readBody(req);
  if (!text.trim()) return { body: {} };
  if ((req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
    return { body: parseForm(text) as Record<string, unknown> };
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return { body: parsed as Record<string, unknown> };
  } catch {
    // reported below
  }
  return { error: { status: 400, error: 'request body is not a JSON object' } };
}

export async function handlePlivoRest(backend: PlivoRestBackend, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const path = url.pathname;
  const match = CALLS.exec(path) ?? CALL.exec(path) ?? REQUEST.exec(path);
  if (!match) return sendError(res, { status: 404, error: 'not found' });
  const credentials = parseBasicAuth(req.headers.authorization);
  if (!credentials || !safeEqual(credentials.username, backend.authId) || !safeEqual(credentials.password, backend.authToken)) {
    res.setHeader('www-authenticate', 'Basic realm="Plivo API"');
    return sendError(res, { status: 401, error: 'Authentication failed: invalid auth_id or auth_token' });
  }
  if (decodeURIComponent(match[1] as string) !== backend.authId) return sendError(res, { status: 404, error: 'not found' });
  const method = req.method ?? 'GET';
  const id = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
  const live = url.searchParams.get('status') === 'live';

  if (REQUEST.test(path)) {
    if (method !== 'DELETE') return sendError(res, { status: 405, error: `method ${method} not allowed` });
    const pending = backend.callsByRequest(id as string).filter((c) => !c.ended && c.record.answeredAt === null);
    if (pending.length === 0) return sendError(res, { status: 404, error: 'not found' });
    for (const call of pending) call.hangUpByApi();
    return sendEmpty(res, 204);
  }

  if (id === undefined) {
    if (method === 'POST') {
      const read = await readJsonBody(req);
      if ('error' in read) return sendError(res, read.error);
      const params = validateCreatePlivoCall(read.body);
      if ('error' in params) return sendError(res, params);
      const requestUuid = uuid();
      backend.createCalls(params, requestUuid);
      return sendJson(res, 201, { api_id: uuid(), message: 'call fired', request_uuid: requestUuid });
    }
    if (method === 'GET' && live) return sendJson(res, 200, { api_id: uuid(), calls: backend.liveCalls().map((c) => c.id) });
    return sendError(res, { status: 405, error: `method ${method} not allowed` });
  }

  const call = backend.getCall(id);
  if (method === 'POST') {
    // Transfer: `legs` (aleg here), `aleg_url`, `aleg_method`. Only the A leg is emulated (a call has no B leg here).
    const read = await readJsonBody(req);
    if ('error' in read) return sendError(res, read.error);
    const field = (snake: string, camel: string) => {
      const value = read.body[snake] ?? read.body[camel];
      return typeof value === 'string' ? value : undefined;
    };
    const legs = field('legs', 'legs');
    const alegUrl = field('aleg_url', 'alegUrl');
    if (legs !== 'aleg' && legs !== 'both')
      return sendError(res, { status: 400, error: 'legs must be aleg or both (bleg is not emulated)' });
    if (!alegUrl || !/^https?:\/\//.test(alegUrl)) return sendError(res, { status: 400, error: 'aleg_url must be an http(s) URL' });
    if (!call || !call.transfer(alegUrl, field('aleg_method', 'alegMethod')?.toUpperCase() === 'GET' ? 'GET' : 'POST')) {
      return sendError(res, { status: 404, error: 'not found' });
    }
    return sendJson(res, 202, { api_id: uuid(), message: 'call transferred' });
  }
  if (method === 'DELETE') {
    if (!call || call.ended) return sendError(res, { status: 404, error: 'not found' });
    call.hangUpByApi();
    return sendEmpty(res, 204);
  }
  if (method === 'GET') {
    if (live) {
      if (!call || call.ended) return sendError(res, { status: 404, error: 'not found' });
      return sendJson(res, 200, call.liveResource(uuid()));
    }
    if (!call || !call.ended) return sendError(res, { status: 404, error: 'not found' });
    return sendJson(res, 200, call.cdr(uuid()));
  }
  return sendError(res, { status: 405, error: `method ${method} not allowed` });
}
