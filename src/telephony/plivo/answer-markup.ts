import plivo from 'plivo';
import { assertStreamUrl, type StreamUrlOptions } from '../stream-url.ts';
import { PLIVO_STREAM_CONTENT_TYPE, type PlivoStreamContentType } from './stream-content-type.ts';

/**
 * The parts of plivo-node's XML builder we use. Its bundled typings omit `addStream` and misname `callerId`, so the
 * builder is typed here from the SDK source (`lib/utils/plivoxml.js`).
 */
interface PlivoXmlElement {
  addStream(body: string, attributes: Record<string, string>): PlivoXmlElement;
  addDial(attributes: Record<string, string>): PlivoXmlElement;
  addUser(body: string, attributes: Record<string, string>): PlivoXmlElement;
  addSpeak(body: string, attributes: Record<string, string>): PlivoXmlElement;
  addHangup(attributes: Record<string, string>): PlivoXmlElement;
  toXML(): string;
}

// The SDK declares `Response` as a plain function; at run time it is a constructor.
const PlivoResponse = plivo.Response as unknown as new () => PlivoXmlElement;

function newResponse(): PlivoXmlElement {
  return new PlivoResponse();
}

/**
 * plivo-node's `toXML()` turns every `&quot;` back into `"`, which would break an attribute holding a quote, so such
 * values are refused up front.
 */
function attributes(values: Record<string, string | number | boolean | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const text = String(value);
    if (text.includes('"')) throw new TypeError(`Plivo XML attribute ${key} must not contain a double quote`);
    result[key] = text;
  }
  return result;
}

/** Plivo's `extraHeaders` / `sipHeaders` charset: keys and values of letters and digits only. */
const PLIVO_HEADER_TOKEN = /^[A-Za-z0-9]+$/;

/** `k=v,k2=v2` for Plivo `extraHeaders`/`sipHeaders`; throws if a key or value breaks Plivo's limits. */
export function plivoHeaderList(headers: Record<string, string>, maxBytes = 512): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (!PLIVO_HEADER_TOKEN.test(key) || !PLIVO_HEADER_TOKEN.test(value)) {
      throw new TypeError(`Plivo header ${JSON.stringify(key)}=${JSON.stringify(value)}: only [A-Za-z0-9] is allowed`);
    }
    pairs.push(`${key}=${value}`);
  }
  const list = pairs.join(',');
  if (Buffer.byteLength(list) > maxBytes)
    throw new TypeError(`Plivo header list is ${Buffer.byteLength(list)} bytes; the limit is ${maxBytes}`);
  return list;
}

export type { PlivoStreamContentType } from './stream-content-type.ts';

export interface PlivoStreamXmlOptions extends StreamUrlOptions {
  /** `wss://host/ws/<media token>`: the call id travels in the token, as `extraHeaders` cannot hold `-` or `_`. */
  streamUrl: string;
  /** Arrive as `extra_headers` in the start message. Keys and values `[A-Za-z0-9]` only, ≤ 512 bytes. @default none */
  extraHeaders?: Record<string, string>;
  /** Audio both ways at the carrier's rate, no resampling for µ-law pipelines. @default 'audio/x-mulaw;rate=8000' */
  contentType?: PlivoStreamContentType;
  /** `StartStream`/`StopStream`/`DroppedStream`/`DegradedStream` events. @default none */
  statusCallbackUrl?: string;
  /** @default 'POST' */
  statusCallbackMethod?: 'GET' | 'POST';
  /** Seconds before Plivo ends the stream. @default Plivo's 86400 (attribute omitted) */
  streamTimeoutSec?: number;
}

/**
 * Answer markup that streams the call's audio both ways to our media socket and keeps the call up while the socket
 * is open: `<Response><Stream bidirectional="true" keepCallAlive="true" contentType="…">wss://…</Stream></Response>`.
 */
export function plivoStreamXml(options: PlivoStreamXmlOptions): string {
  assertStreamUrl(options.streamUrl, options);
  const response = newResponse();
  response.addStream(
    options.streamUrl,
    attributes({
      bidirectional: 'true',
      keepCallAlive: 'true',
      contentType: options.contentType ?? PLIVO_STREAM_CONTENT_TYPE,
      streamTimeout: options.streamTimeoutSec,
      statusCallbackUrl: options.statusCallbackUrl,
      statusCallbackMethod: options.statusCallbackUrl ? (options.statusCallbackMethod ?? 'POST') : undefined,
      extraHeaders:
        options.extraHeaders && Object.keys(options.extraHeaders).length > 0 ? plivoHeaderList(options.extraHeaders) : undefined,
    }),
  );
  return response.toXML();
}

export interface PlivoSpeakOptions {
  /** `WOMAN`, `MAN` or `Polly.<Voice>`. @default Plivo's default (WOMAN) */
  voice?: string;
  /** e.g. `en-US`. @default Plivo's default */
  language?: string;
}

/** `<Response><Speak>text</Speak><Hangup/></Response>`: used when we cannot serve a call. */
export function plivoSpeakAndHangupXml(text: string, options: PlivoSpeakOptions = {}): string {
  const response = newResponse();
  response.addSpeak(text, attributes({ voice: options.voice, language: options.language }));
  response.addHangup({});
  return response.toXML();
}

/** `<Response><Hangup/></Response>`; `reason` `rejected`/`busy` rejects an inbound call with that signal. */
export function plivoHangupXml(options: { reason?: 'rejected' | 'busy' } = {}): string {
  const response = newResponse();
  response.addHangup(attributes({ reason: options.reason }));
  return response.toXML();
}

export interface PlivoDialSipOptions {
  /** `sip:user@host`. */
  sipUri: string;
  /** Caller id shown to the SIP endpoint. @default the call's caller id */
  callerId?: string;
  /** Seconds to ring. @default Plivo's default */
  timeoutSec?: number;
  /** URL Plivo calls when the dial ends. @default none */
  action?: string;
  /** Sent as `X-PH-<key>` SIP headers; `[A-Za-z0-9]` only. @default none */
  sipHeaders?: Record<string, string>;
}

/** `<Response><Dial><User>sip:…</User></Dial></Response>`: bridge the call to a SIP endpoint (Plivo → SIP flow). */
export function plivoDialSipXml(options: PlivoDialSipOptions): string {
  if (!/^sips?:[^\s<>"]+@[^\s<>"]+$/.test(options.sipUri)) throw new TypeError(`not a SIP URI: ${options.sipUri}`);
  const response = newResponse();
  const dial = response.addDial(
    attributes({
      callerId: options.callerId,
      timeout: options.timeoutSec,
      action: options.action,
    }),
  );
  dial.addUser(
    options.sipUri,
    attributes({
      sipHeaders: options.sipHeaders && Object.keys(options.sipHeaders).length > 0 ? plivoHeaderList(options.sipHeaders) : undefined,
    }),
  );
  return response.toXML();
}

/**
 * A cold transfer's XML: `<Response><Dial><Number>1555…</Number></Dial></Response>`, or `<User>` for a SIP URI.
 * Plivo numbers are written without the `+`.
 */
export function plivoDialXml(destination: string): string {
  const response = newResponse();
  const dial = response.addDial({}) as PlivoXmlElement & { addNumber(body: string, attributes: Record<string, string>): PlivoXmlElement };
  if (/^sips?:/i.test(destination)) dial.addUser(destination, {});
  else dial.addNumber(destination.startsWith('+') ? destination.slice(1) : destination, {});
  return response.toXML();
}
