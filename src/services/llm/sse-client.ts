/**
 * A small server-sent-events client over `node:http(s)`: POST a JSON body, then read `data:` events as they
 * arrive. It exists because the generic path (fetch → web streams → an SSE transform stream → a schema check
 * per chunk) costs several times the CPU of the work itself for a phone call's many small token chunks
 * (bench/RESULTS.md, "LLM streaming CPU").
 */
import http from 'node:http';
import https from 'node:https';
import { isRetryableHttpStatus, SwitchboardError } from '../../errors.ts';

/** One event: its `event:` name, if any, and its `data:` lines joined with `\n`. */
export interface SseEvent {
  event: string | undefined;
  data: string;
}

/** A non-2xx answer, with what is needed to map it to a provider error. */
export class HttpStatusError extends SwitchboardError {
  constructor(
    readonly status: number,
    readonly headers: http.IncomingHttpHeaders,
    readonly body: string,
  ) {
    super(`HTTP ${status}`, { code: 'http_status', httpStatus: status, retryable: isRetryableHttpStatus(status) });
  }
}

/** Connection reuse per client: one keep-alive agent per protocol. */
export interface SseAgents {
  http: http.Agent;
  https: https.Agent;
}

export function createSseAgents(): SseAgents {
  return { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
}

export interface SseRequest {
  url: URL;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
  agents: SseAgents;
}

/** Most of an error body kept for the error message (a body is a few hundred bytes in practice). */
const MAX_ERROR_BODY = 64 * 1024;
/** Longest event accepted: a token chunk is well under 1 KB; a stream without line breaks is not SSE. */
const MAX_EVENT_CHARS = 1024 * 1024;

/**
 * POSTs and yields the response's events. Throws {@link HttpStatusError} for a non-2xx status, the socket
 * error (`code` ECONNREFUSED, ECONNRESET, …) for network failures, and an `AbortError` once `signal`
 * aborts. Stopping the iteration early cancels the request.
 */
export async function* postForEvents(request: SseRequest): AsyncGenerator<SseEvent> {
  const { url, signal } = request;
  if (signal.aborted) throw abortError(signal);
  const secure = url.protocol === 'https:';
  const client = secure ? https : http;
  const req = client.request(url, {
    method: 'POST',
    agent: secure ? request.agents.https : request.agents.http,
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...request.headers },
  });
  const onAbort = (): void => {
    req.destroy(abortError(signal));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  let completed = false;
  try {
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
      req.end(request.body);
    });
    // A failure while reading the body is reported by the response stream (and the request, ignored here).
    req.on('error', () => undefined);
    response.setEncoding('utf8');
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) {
      let body = '';
      for await (const chunk of response as AsyncIterable<string>) if (body.length < MAX_ERROR_BODY) body += chunk;
      completed = true;
      throw new HttpStatusError(status, response.headers, body);
    }
    const parser = new SseParser();
    for await (const chunk of response as AsyncIterable<string>) {
      for (const event of parser.push(chunk)) yield event;
    }
    for (const event of parser.end()) yield event;
    completed = true;
  } catch (error) {
    if (signal.aborted) throw abortError(signal);
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (!completed) req.destroy();
  }
}

function abortError(signal: AbortSignal): Error {
  const error = new Error('The request was aborted', { cause: signal.reason });
  error.name = 'AbortError';
  return error;
}

/** Incremental `text/event-stream` parsing (lines end in `\n`, `\r\n` or `\r`; a blank line ends an event). */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event: string | undefined;

  push(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    const buffer = this.buffer + text;
    let position = 0;
    for (;;) {
      const lf = buffer.indexOf('\n', position);
      const cr = buffer.indexOf('\r', position);
      if (lf < 0 && cr < 0) break;
      let end: number;
      let next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        if (cr === buffer.length - 1) break; // maybe the first half of \r\n
        end = cr;
        next = buffer.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
      } else {
        end = lf;
        next = lf + 1;
      }
      this.line(buffer.slice(position, end), events);
      position = next;
    }
    this.buffer = position === 0 ? buffer : buffer.slice(position);
    if (this.buffer.length + this.data.reduce((sum, line) => sum + line.length, 0) > MAX_EVENT_CHARS) {
      throw Object.assign(new Error(`server-sent event longer than ${MAX_EVENT_CHARS} characters`), { name: 'SseEventTooLarge' });
    }
    return events;
  }

  /** The stream ended: an event still missing its blank line is delivered too. */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    if (this.buffer !== '') this.line(this.buffer, events);
    this.buffer = '';
    this.line('', events);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) events.push({ event: this.event, data: this.data.join('\n') });
      this.data = [];
      this.event = undefined;
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }
}
