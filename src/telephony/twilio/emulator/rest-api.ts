/**
 * The slice of Twilio's REST API (2010-04-01) that places and controls calls, as the official SDK calls it:
 *
 * - `POST /2010-04-01/Accounts/{AccountSid}/Calls.json` → 201 + Call JSON
 * - `GET  /2010-04-01/Accounts/{AccountSid}/Calls.json` → a page of calls
 * - `GET  /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` → Call JSON
 * - `POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` → 200 + Call JSON (hang up / redirect)
 *
 * HTTP Basic auth `AccountSid:AuthToken`; form-encoded bodies with repeated keys; errors as
 * `{code, message, more_info, status}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  allValues,
  firstValue,
  isHttpUrl,
  parseBasicAuth,
  parseForm,
  readBody,
  safeEqual,
  sendJson,
  type FormFields,
} from '../../../sandbox/carriers/shared/http-util.ts';
import { authenticationError, methodNotAllowedError, notFoundError, twilioError, type TwilioRestError } from './rest-errors.ts';
import type { TwilioCall, TwilioStatusEvent } from './twilio-call.ts';
import type { HttpMethod } from './twiml.ts';

/** Validated parameters of a create-call request. */
export interface CreateCallParams {
  to: string;
  from: string;
  url: string | null;
  method: HttpMethod;
  twiml: string | null;
  fallbackUrl: string | null;
  fallbackMethod: HttpMethod;
  statusCallback: string | null;
  statusCallbackMethod: HttpMethod;
  statusCallbackEvents: Set<TwilioStatusEvent>;
  timeoutSec: number;
  machineDetection: boolean;
  asyncAmdStatusCallback: string | null;
  asyncAmdStatusCallbackMethod: HttpMethod;
}

export interface TwilioRestBackend {
  accountSid: string;
  authToken: string;
  createCall(params: CreateCallParams): TwilioCall;
  getCall(sid: string): TwilioCall | undefined;
  listCalls(): TwilioCall[];
}

const PHONE = /^\+?[1-9]\d{1,14}$/;
const STATUS_EVENTS = new Set<TwilioStatusEvent>(['initiated', 'ringing', 'answered', 'completed']);

function isAddress(value: string): boolean {
  return PHONE.test(value) || /^(sip|client):\S+$/i.test(value);
}

function httpMethod(value: string | undefined): HttpMethod {
  return value?.toUpperCase() === 'GET' ? 'GET' : 'POST';
}

/** Validates create-call form fields in the order Twilio reports problems. */
export function validateCreateCall(fields: FormFields): CreateCallParams | TwilioRestError {
  const to = firstValue(fields, 'To');
  const from = firstValue(fields, 'From');
  const url = firstValue(fields, 'Url') ?? null;
  const twiml = firstValue(fields, 'Twiml') ?? null;
  if (!to) return twilioError(400, 21201, "No 'To' number is specified");
  if (!from) return twilioError(400, 21213, "No 'From' number is specified");
  if (!isAddress(to)) return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
  if (!isAddress(from)) {
    return twilioError(400, 21212, `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`);
  }
  if (firstValue(fields, 'ApplicationSid') && !url && !twiml) {
    return twilioError(400, 21218, 'Invalid ApplicationSid (the emulator has no applications; pass Url or Twiml)');
  }
  if (!url && !twiml) return twilioError(400, 21205, 'Url parameter is required (or Twiml, or ApplicationSid).');
  for (const key of ['Url', 'FallbackUrl', 'StatusCallback', 'AsyncAmdStatusCallback']) {
    const value = firstValue(fields, key);
    if (value !== undefined && !isHttpUrl(value)) return twilioError(400, 21205, `${key} is not a valid URL: ${value}`);
  }
  const events = new Set<TwilioStatusEvent>();
  for (const value of allValues(fields, 'StatusCallbackEvent')) {
    for (const event of value.split(/[\s,]+/).filter(Boolean)) {
      if (!STATUS_EVENTS.has(event as TwilioStatusEvent)) {
        return twilioError(400, 21626, `StatusCallbackEvent ${event} is not one of initiated, ringing, answered, completed`);
      }
      events.add(event as TwilioStatusEvent);
    }
  }
  if (events.size === 0) events.add('completed');
  const timeout = Number.parseInt(firstValue(fields, 'Timeout') ?? '60', 10);
  const machineDetection = firstValue(fields, 'MachineDetection');
  const asyncAmd = firstValue(fields, 'AsyncAmd') === 'true';
  return {
    to,
    from,
    url,
    method: httpMethod(firstValue(fields, 'Method')),
    // "If both twiml and url are provided then twiml is ignored."
    twiml: url ? null : twiml,
    fallbackUrl: firstValue(fields, 'FallbackUrl') ?? null,
    fallbackMethod: httpMethod(firstValue(fields, 'FallbackMethod')),
    statusCallback: firstValue(fields, 'StatusCallback') ?? null,
    statusCallbackMethod: httpMethod(firstValue(fields, 'StatusCallbackMethod')),
    statusCallbackEvents: events,
    timeoutSec: Number.isFinite(timeout) ? Math.min(600, Math.max(1, timeout)) : 60,
    machineDetection: machineDetection === 'Enable' || machineDetection === 'DetectMessageEnd',
    asyncAmdStatusCallback: asyncAmd ? (firstValue(fields, 'AsyncAmdStatusCallback') ?? null) : null,
    asyncAmdStatusCallbackMethod: httpMethod(firstValue(fields, 'AsyncAmdStatusCallbackMethod')),
  };
}

function sendError(res: ServerResponse, error: TwilioRestError): void {
  const headers: Record<string, string> = error.status === 401 ? { 'www-authenticate': 'Basic realm="Twilio API"' } : {};
  sendJson(res, error.status, error.body, headers);
}

const CALLS = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\.json$/;
const CALL = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\/([^/]+)\.json$/;

/** Handles one REST request against `backend`. */
export async function handleTwilioRest(backend: TwilioRestBackend, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const path = url.pathname;
  const listMatch = CALLS.exec(path);
  const callMatch = CALL.exec(path);
  if (!listMatch && !callMatch) return sendError(res, notFoundError(path));
  const credentials = parseBasicAuth(req.headers.authorization);
  if (!credentials || !safeEqual(credentials.username, backend.accountSid) || !safeEqual(credentials.password, backend.authToken)) {
    return sendError(res, authenticationError());
  }
  const pathAccount = decodeURIComponent(((listMatch ?? callMatch) as RegExpExecArray)[1] as string);
  if (pathAccount !== backend.accountSid) return sendError(res, notFoundError(path));
  const method = req.method ?? 'GET';
  const fields = method === 'POST' ? parseForm(await readBody(req)) : {};

  if (listMatch) {
    if (method === 'POST') {
      const params = validateCreateCall(fields);
      if ('status' in params) return sendError(res, params);
      return sendJson(res, 201, backend.createCall(params).resource());
    }
    if (method === 'GET') {
      const pageSize = Math.min(1000, Math.max(1, Number.parseInt(url.searchParams.get('PageSize') ?? '50', 10) || 50));
      const calls = backend.listCalls().slice(-pageSize).reverse();
      const uri = `${path}?PageSize=${pageSize}&Page=0`;
      return sendJson(res, 200, {
        calls: calls.map((c) => c.resource()),
        end: Math.max(0, calls.length - 1),
        first_page_uri: uri,
        next_page_uri: null,
        page: 0,
        page_size: pageSize,
        previous_page_uri: null,
        start: 0,
        uri,
      });
    }
    return sendError(res, methodNotAllowedError(method));
  }

  const call = backend.getCall(decodeURIComponent((callMatch as RegExpExecArray)[2] as string));
  if (!call) return sendError(res, notFoundError(path));
  if (method === 'GET') return sendJson(res, 200, call.resource());
  if (method !== 'POST') return sendError(res, methodNotAllowedError(method));
  for (const key of ['Url', 'FallbackUrl', 'StatusCallback']) {
    const value = firstValue(fields, key);
    if (value !== undefined && !isHttpUrl(value)) return sendError(res, twilioError(400, 21205, `${key} is not a valid URL: ${value}`));
  }
  const url_ = firstValue(fields, 'Url');
  const failure = call.update({
    status: firstValue(fields, 'Status'),
    url: url_,
    method: url_ !== undefined ? httpMethod(firstValue(fields, 'Method')) : undefined,
    twiml: url_ === undefined ? firstValue(fields, 'Twiml') : undefined,
    statusCallback: firstValue(fields, 'StatusCallback'),
    statusCallbackMethod:
      firstValue(fields, 'StatusCallbackMethod') !== undefined ? httpMethod(firstValue(fields, 'StatusCallbackMethod')) : undefined,
  });
  if (failure) return sendError(res, twilioError(400, failure.code, failure.message));
  return sendJson(res, 200, call.resource());
}
