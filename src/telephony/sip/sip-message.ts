/**
 * SIP messages as plain objects (the shape the `sip` parser produces: lower-case header names, structured
 * Via/To/From/Contact/Route/CSeq/auth headers, other headers as strings) and the helpers the dialog layer
 * builds them with.
 */
import { randomBytes } from 'node:crypto';

export interface SipUri {
  schema: string;
  user?: string;
  password?: string;
  host: string;
  port?: number;
  params: Record<string, string | null>;
  headers: Record<string, string>;
}

/** `"Name" <uri>;params` (From, To, Contact, Route, Record-Route, Refer-To). */
export interface NameAddr {
  name?: string;
  uri: string;
  params: Record<string, string | null>;
}

export interface Via {
  version?: string;
  protocol?: string;
  host?: string;
  port?: number;
  params: Record<string, string | number | null>;
}

export interface CSeq {
  seq: number;
  method: string;
}

export type AuthHeader = Record<string, string | undefined> & { scheme?: string };

export interface SipHeaders {
  via?: Via[];
  to?: NameAddr;
  from?: NameAddr;
  'call-id'?: string;
  cseq?: CSeq;
  contact?: NameAddr[] | '*';
  route?: NameAddr[];
  'record-route'?: NameAddr[];
  'www-authenticate'?: AuthHeader[];
  'proxy-authenticate'?: AuthHeader[];
  authorization?: AuthHeader[];
  'proxy-authorization'?: AuthHeader[];
  'refer-to'?: NameAddr;
  [name: string]: unknown;
}

export interface SipMessage {
  method?: string;
  uri?: string;
  version?: string;
  status?: number;
  reason?: string;
  headers: SipHeaders;
  content?: string;
  /** Original spelling of header names that the parser lower-cased (`x-customer-id` → `X-Customer-ID`). */
  headerNames?: Map<string, string>;
}

export interface SipRequest extends SipMessage {
  method: string;
  uri: string;
}

export interface SipResponse extends SipMessage {
  status: number;
  reason: string;
}

/** A message that parsed and has what every SIP message needs (RFC 3261 §8.1.1). */
export interface ValidSipHeaders extends SipHeaders {
  via: Via[];
  to: NameAddr;
  from: NameAddr;
  'call-id': string;
  cseq: CSeq;
}

export function isRequest(message: SipMessage): message is SipRequest {
  return typeof message.method === 'string';
}

/** A header the parser kept as text (unknown headers, `Supported`, `Session-Expires`, `X-…`). */
export function headerText(message: SipMessage, name: string): string | undefined {
  const value = message.headers[name.toLowerCase()];
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** Comma-separated option tags / methods of a header, lower-cased (`Supported: timer, replaces`). */
export function headerTokens(message: SipMessage, name: string): string[] {
  const text = headerText(message, name);
  if (!text) return [];
  return text
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter(Boolean);
}

/** `value;param=x` → value and lower-cased params (Session-Expires, Event, Subscription-State, Content-Type). */
export function parseParamHeader(text: string): { value: string; params: Record<string, string> } {
  const [value = '', ...rest] = text.split(';');
  const params: Record<string, string> = {};
  for (const part of rest) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (key) params[key] = eq < 0 ? '' : part.slice(eq + 1).trim();
  }
  return { value: value.trim(), params };
}

/** The media type of the body, lower-cased, without parameters. */
export function contentType(message: SipMessage): string | undefined {
  const text = headerText(message, 'content-type');
  return text ? parseParamHeader(text).value.toLowerCase() : undefined;
}

export function randomToken(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}

/** RFC 3261 magic-cookie branch with 64 random bits. */
export function newBranch(): string {
  return `z9hG4bK${randomToken(8)}`;
}

export function newTag(): string {
  return randomToken(6);
}

export function newCallId(host: string): string {
  return `${randomToken(12)}@${host}`;
}

/** Tag of a From/To header, if any. */
export function tagOf(nameAddr: NameAddr | undefined): string | undefined {
  const tag = nameAddr?.params.tag;
  return typeof tag === 'string' ? tag : undefined;
}

const REASONS: Record<number, string> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  200: 'OK',
  202: 'Accepted',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  415: 'Unsupported Media Type',
  420: 'Bad Extension',
  422: 'Session Interval Too Small',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  491: 'Request Pending',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  600: 'Busy Everywhere',
  603: 'Decline',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status < 300 ? 'OK' : 'Error');
}

export interface ResponseExtras {
  reason?: string;
  /** Tag to add to `To` when the request's `To` has none (the dialog's local tag). */
  toTag?: string;
  headers?: Record<string, unknown>;
  content?: string;
}

/** A response to `request` (RFC 3261 §8.2.6): Via, From, Call-ID and CSeq copied, To copied plus our tag. */
export function makeResponse(request: SipRequest, status: number, extras: ResponseExtras = {}): SipResponse {
  const h = request.headers;
  const to = h.to ? { ...h.to, params: { ...h.to.params } } : undefined;
  if (to && extras.toTag && to.params.tag === undefined && status > 100) to.params.tag = extras.toTag;
  const headers: SipHeaders = { via: h.via, to, from: h.from, 'call-id': h['call-id'], cseq: h.cseq };
  // Keys keep their spelling: structured headers (contact, www-authenticate) are given lower-case, others as sent.
  for (const [name, value] of Object.entries(extras.headers ?? {})) headers[name] = value;
  if (extras.content !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/sdp';
  return {
    status,
    reason: extras.reason ?? reasonPhrase(status),
    version: '2.0',
    headers,
    ...(extras.content !== undefined ? { content: extras.content } : {}),
  };
}

/** `X-…` headers of a message with their original spelling. */
export function customHeaders(message: SipMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (!name.startsWith('x-') || typeof value !== 'string') continue;
    out[message.headerNames?.get(name) ?? name] = value;
  }
  return out;
}

/** Header names that must not be set from user-supplied extra headers (the dialog layer owns them). */
const RESERVED_HEADERS = new Set([
  'via',
  'to',
  'from',
  'call-id',
  'cseq',
  'contact',
  'route',
  'record-route',
  'content-length',
  'content-type',
  'max-forwards',
  'authorization',
  'proxy-authorization',
]);

/** Validates user-supplied headers: a token name, no CR/LF in the value, none the dialog layer owns. */
export function checkExtraHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!/^[A-Za-z0-9!%*_+`'~.-]+$/.test(name)) throw new Error(`invalid SIP header name: ${JSON.stringify(name)}`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw new Error(`header ${name} is set by the SIP stack`);
    if (/[\r\n]/.test(value)) throw new Error(`header ${name} contains a line break`);
    out[name] = value; // the encoder keeps a name's spelling (it only capitalises word starts)
  }
  return out;
}

/** Display names are sent as UTF-8 bytes; the wire encoder writes one byte per char (latin1). */
export function utf8ForWire(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** A display name received from the wire, decoded from UTF-8 (the parser reads bytes as latin1). */
export function utf8FromWire(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const unquoted = text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
  return Buffer.from(unquoted, 'latin1').toString('utf8');
}
