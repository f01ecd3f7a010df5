/**
 * SIP text ⇄ message objects, through the npm `sip` parser and serialiser. The only place (with
 * `sip-transactions.ts` and `digest.ts`) that touches the package.
 */
import sip, { type LibMessage, type LibNameAddr } from 'sip';
import type { NameAddr, SipMessage, SipUri, ValidSipHeaders } from '../sip-message.ts';

export type ParsedSipMessage = SipMessage & { headers: ValidSipHeaders };

/** Largest header block / body we accept on a stream before dropping the connection as a flood. */
export const MAX_HEADER_BYTES = 16_384;
export const MAX_CONTENT_BYTES = 65_536;

/** Parses one datagram. Returns undefined for anything that is not a usable SIP message. */
export function parseSipDatagram(data: Buffer): ParsedSipMessage | undefined {
  let message: LibMessage | undefined;
  try {
    message = sip.parse(data);
  } catch {
    return undefined;
  }
  if (!message) return undefined;
  return normalize(message, data.toString('latin1'));
}

/**
 * Frames SIP messages on a byte stream (TCP/TLS, RFC 3261 §18.3: Content-Length is mandatory there) and parses
 * each. Calls `onInvalid` for an unusable message (the stream goes on) or with `fatal` for a flood or a broken
 * frame (the caller drops the connection).
 */
export function makeSipStreamParser(
  onMessage: (message: ParsedSipMessage) => void,
  onInvalid: (reason: string, fatal: boolean) => void,
): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      // CRLF keep-alives (RFC 5626) between messages.
      let start = 0;
      while (start < pending.length && (pending[start] === 13 || pending[start] === 10)) start++;
      if (start > 0) pending = pending.subarray(start);
      const headerEnd = pending.indexOf('\r\n\r\n');
      if (headerEnd < 0) {
        if (pending.length > MAX_HEADER_BYTES) {
          pending = Buffer.alloc(0);
          onInvalid('oversized header block', true);
        }
        return;
      }
      const head = pending.subarray(0, headerEnd).toString('latin1');
      const match = /\r\n(?:content-length|l)[ \t]*:[ \t]*(\d+)/i.exec(head);
      const length = match ? Number(match[1]) : 0;
      if (length > MAX_CONTENT_BYTES) {
        pending = Buffer.alloc(0);
        onInvalid('oversized body', true);
        return;
      }
      const total = headerEnd + 4 + length;
      if (pending.length < total) return;
      const frame = pending.subarray(0, total);
      pending = pending.subarray(total);
      const message = parseSipDatagram(frame);
      if (message) onMessage(message);
      else onInvalid('unparseable message', false);
    }
  };
}

export function serializeSipMessage(message: SipMessage): string {
  const { headerNames: _names, ...wire } = message;
  return sip.stringify(wire as LibMessage);
}

export function parseSipUri(uri: string): SipUri | undefined {
  try {
    const parsed = sip.parseUri(uri.trim());
    if (!parsed || !parsed.host) return undefined;
    return { ...parsed, port: parsed.port && Number.isFinite(parsed.port) ? parsed.port : undefined };
  } catch {
    return undefined;
  }
}

export function formatSipUri(uri: SipUri): string {
  const { port, ...rest } = uri;
  return sip.stringifyUri(port ? { ...rest, port } : rest);
}

function uriText(uri: LibNameAddr['uri']): string {
  return typeof uri === 'string' ? uri : sip.stringifyUri(uri);
}

function nameAddr(value: LibNameAddr): NameAddr {
  return { ...(value.name !== undefined ? { name: value.name } : {}), uri: uriText(value.uri), params: value.params ?? {} };
}

/** Checks the mandatory headers and brings the parser's output into our shape (URIs as text). */
function normalize(message: LibMessage, raw: string | undefined): ParsedSipMessage | undefined {
  const h = message.headers;
  if (!message.method && !(typeof message.status === 'number' && message.status >= 100 && message.status <= 699)) return undefined;
  if (!Array.isArray(h.via) || h.via.length === 0 || !h.via[0]?.params) return undefined;
  if (typeof h['call-id'] !== 'string' || !h['call-id'].trim()) return undefined;
  if (!h.to?.uri || !h.from?.uri || !h.cseq || !Number.isFinite(h.cseq.seq) || !h.cseq.method) return undefined;
  if (message.method && (typeof message.uri !== 'string' || !message.uri)) return undefined;
  const headers = h as unknown as ValidSipHeaders;
  headers.to = nameAddr(h.to);
  headers.from = nameAddr(h.from);
  if (Array.isArray(h.contact)) headers.contact = h.contact.map(nameAddr);
  if (Array.isArray(h.route)) headers.route = h.route.map(nameAddr);
  if (Array.isArray(h['record-route'])) headers['record-route'] = h['record-route'].map(nameAddr);
  if (h['refer-to']) headers['refer-to'] = nameAddr(h['refer-to']);
  const out: ParsedSipMessage = { ...(message as SipMessage), headers };
  if (raw) out.headerNames = customHeaderNames(raw);
  return out;
}

/** Original spelling of `X-` header names in the raw header block. */
function customHeaderNames(raw: string): Map<string, string> {
  const names = new Map<string, string>();
  const end = raw.indexOf('\r\n\r\n');
  const block = end < 0 ? raw : raw.slice(0, end);
  for (const match of block.matchAll(/\r\n(X-[^:\s]+)\s*:/gi)) {
    const name = match[1] as string;
    names.set(name.toLowerCase(), name);
  }
  return names;
}

export function newLibBranch(): string {
  return sip.generateBranch();
}
