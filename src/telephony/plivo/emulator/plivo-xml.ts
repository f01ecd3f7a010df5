/**
 * Plivo XML the emulator executes. `<Stream>` is the media element (the stream URL is the element's text);
 * with `keepCallAlive="true"` nothing after it runs until the stream disconnects, otherwise the next element
 * runs at once and the stream continues in the background — and if nothing follows, the call ends, as on
 * Plivo. `<Speak>` is timed as silence; `<Wait>`, `<Hangup>`, `<Redirect>` behave as on Plivo; `<Dial>` rings the
 * persona registered for its `<Number>` (or `<User>`) and bridges the two parties until one hangs up; other
 * elements are recorded as unsupported and skipped.
 */
import { parseXml, XmlParseError, type XmlElement } from '../../../sandbox/carriers/shared/xml.ts';

export type PlivoContentType = 'audio/x-l16;rate=8000' | 'audio/x-l16;rate=16000' | 'audio/x-mulaw;rate=8000';

export interface PlivoStreamSpec {
  url: string;
  bidirectional: boolean;
  keepCallAlive: boolean;
  audioTrack: 'inbound' | 'outbound' | 'both';
  contentType: PlivoContentType;
  streamTimeoutSec: number;
  statusCallbackUrl: string | null;
  statusCallbackMethod: 'GET' | 'POST';
  /** `k=v,k2=v2` as written in the XML. */
  extraHeaders: string;
}

export type PlivoElement =
  | ({ element: 'Stream' } & PlivoStreamSpec)
  | { element: 'Speak'; text: string; loop: number }
  | { element: 'Wait'; lengthSec: number }
  | { element: 'Hangup'; reason: string | null; scheduleSec: number }
  | { element: 'Redirect'; url: string; method: 'GET' | 'POST' }
  | ({ element: 'Dial' } & PlivoDialSpec)
  | { element: 'Unsupported'; name: string };

/** `<Dial>`: connects the caller to the first of its `<User>` (SIP URI) / `<Number>` destinations to answer. */
export interface PlivoDialSpec {
  /** `<User>sip:…</User>` destinations. */
  users: string[];
  /** `<Number>` destinations (not emulated: there is no second phone network here). */
  numbers: string[];
  /** Ring time per attempt. @default 120 */
  timeoutSec: number;
  callerId: string | null;
}

export class PlivoXmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlivoXmlError';
  }
}

const CONTENT_TYPES = new Set<string>(['audio/x-l16;rate=8000', 'audio/x-l16;rate=16000', 'audio/x-mulaw;rate=8000']);

function bool(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new PlivoXmlError(`"${value}" is not true or false`);
}

function positiveInt(value: string | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new PlivoXmlError(`${what} "${value}" is not a whole number`);
  return n;
}

function method(value: string | undefined): 'GET' | 'POST' {
  return value?.toUpperCase() === 'GET' ? 'GET' : 'POST';
}

function parseStream(el: XmlElement): PlivoElement {
  const url = el.text.trim();
  if (!/^wss?:\/\//i.test(url)) throw new PlivoXmlError(`<Stream> body must be a ws:// or wss:// URL, got "${url}"`);
  const bidirectional = bool(el.attributes.bidirectional, false);
  const audioTrack = el.attributes.audioTrack ?? 'inbound';
  if (audioTrack !== 'inbound' && audioTrack !== 'outbound' && audioTrack !== 'both') {
    throw new PlivoXmlError(`<Stream audioTrack="${audioTrack}"> must be inbound, outbound or both`);
  }
  if (bidirectional && audioTrack !== 'inbound') throw new PlivoXmlError('a bidirectional <Stream> must use audioTrack="inbound"');
  const contentType = (el.attributes.contentType ?? 'audio/x-l16;rate=8000').replace(/\s+/g, '');
  if (!CONTENT_TYPES.has(contentType)) throw new PlivoXmlError(`<Stream contentType="${contentType}"> is not supported`);
  const extraHeaders = el.attributes.extraHeaders ?? '';
  if (Buffer.byteLength(extraHeaders) > 512) throw new PlivoXmlError('extraHeaders exceeds 512 bytes');
  return {
    element: 'Stream',
    url,
    bidirectional,
    keepCallAlive: bool(el.attributes.keepCallAlive, false),
    audioTrack,
    contentType: contentType as PlivoContentType,
    streamTimeoutSec: positiveInt(el.attributes.streamTimeout, 86_400, 'streamTimeout'),
    statusCallbackUrl: el.attributes.statusCallbackUrl ?? null,
    statusCallbackMethod: method(el.attributes.statusCallbackMethod),
    extraHeaders,
  };
}

function parseElement(el: XmlElement): PlivoElement {
  switch (el.name) {
    case 'Stream':
      return parseStream(el);
    case 'Speak':
      return { element: 'Speak', text: el.text.trim(), loop: positiveInt(el.attributes.loop, 1, 'loop') };
    case 'Wait':
      return { element: 'Wait', lengthSec: positiveInt(el.attributes.length, 1, 'length') };
    case 'Hangup':
      return { element: 'Hangup', reason: el.attributes.reason ?? null, scheduleSec: positiveInt(el.attributes.schedule, 0, 'schedule') };
    case 'Redirect': {
      const url = el.text.trim();
      if (!url) throw new PlivoXmlError('<Redirect> requires a URL');
      return { element: 'Redirect', url, method: method(el.attributes.method) };
    }
    case 'Dial': {
      const users = el.children.filter((c) => c.name === 'User').map((c) => c.text.trim());
      const numbers = el.children.filter((c) => c.name === 'Number').map((c) => c.text.trim());
      for (const user of users)
        if (!/^sips?:[^\s@]+@[^\s]+$/.test(user)) throw new PlivoXmlError(`<User> must be a sip: URI, got "${user}"`);
      if (users.length + numbers.length === 0) throw new PlivoXmlError('<Dial> needs a <User> or <Number>');
      return {
        element: 'Dial',
        users,
        numbers,
        timeoutSec: positiveInt(el.attributes.timeout, 120, 'timeout'),
        callerId: el.attributes.callerId ?? null,
      };
    }
    default:
      return { element: 'Unsupported', name: el.name };
  }
}

/** Parses answer XML into the elements to run, in order. */
export function parsePlivoXml(source: string): PlivoElement[] {
  let root: XmlElement;
  try {
    root = parseXml(source);
  } catch (error) {
    if (error instanceof XmlParseError) throw new PlivoXmlError(`invalid XML: ${error.message}`);
    throw error;
  }
  if (root.name !== 'Response') throw new PlivoXmlError(`root element is <${root.name}>, expected <Response>`);
  return root.children.map(parseElement);
}

/** `k=v,k2=v2` (XML attribute) → `k=v;k2=v2` (the `extra_headers` string of stream messages). */
export function extraHeadersString(attribute: string): string {
  return attribute
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .join(';');
}
