/**
 * A tiny stand-in for our server in emulator tests: answers webhooks (recording every request with its raw
 * body and headers) and accepts media WebSockets (recording every message, letting the test send any).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface RecordedRequest {
  method: string;
  path: string;
  /** Full URL as the client requested it (http://127.0.0.1:port/path?query). */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** Body parsed as a form, repeated keys as arrays. */
  form: Record<string, string | string[]>;
  at: number;
}

export interface MediaConnection {
  ws: WebSocket;
  path: string;
  headers: IncomingMessage['headers'];
  /** Parsed JSON messages with arrival time (performance.now()). */
  messages: Array<{ at: number; message: Record<string, unknown> }>;
  closed: Promise<number>;
  send(message: object): void;
  /** Resolves with the first message (received so far or later) matching `predicate`. */
  next(predicate: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export type Responder = (req: RecordedRequest) => { status?: number; body?: string; contentType?: string } | undefined;

export interface FakeAgentServer {
  url: string;
  wsUrl: string;
  requests: RecordedRequest[];
  connections: MediaConnection[];
  /** Sets how a path is answered (default: 200 with an empty body). */
  respond(path: string, responder: Responder): void;
  nextConnection(timeoutMs?: number): Promise<MediaConnection>;
  nextRequest(predicate: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

function parseForm(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const e = out[k];
    out[k] = e === undefined ? v : Array.isArray(e) ? [...e, v] : [e, v];
  }
  return out;
}

function waitFor<T>(find: () => T | undefined, subscribe: (wake: () => void) => () => void, timeoutMs: number, what: string): Promise<T> {
  const found = find();
  if (found !== undefined) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const unsubscribe = subscribe(() => {
      const value = find();
      if (value === undefined) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    });
  });
}

export async function startFakeAgentServer(): Promise<FakeAgentServer> {
  const requests: RecordedRequest[] = [];
  const connections: MediaConnection[] = [];
  const responders = new Map<string, Responder>();
  const wakers = new Set<() => void>();
  const wake = (): void => {
    for (const w of [...wakers]) w();
  };
  const subscribe = (w: () => void): (() => void) => {
    wakers.add(w);
    return () => wakers.delete(w);
  };
  let base = '';

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '/').split('?')[0] as string;
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path,
        url: base + (req.url ?? '/'),
        headers: req.headers,
        body,
        form: parseForm(body),
        at: performance.now(),
      };
      requests.push(recorded);
      const answer = responders.get(path)?.(recorded) ?? {};
      res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType ?? 'text/xml' });
      res.end(answer.body ?? '');
      wake();
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    let resolveClosed!: (code: number) => void;
    const conn: MediaConnection = {
      ws,
      path: req.url ?? '/',
      headers: req.headers,
      messages: [],
      closed: new Promise((r) => (resolveClosed = r)),
      send: (m) => ws.send(JSON.stringify(m)),
      next: (predicate, timeoutMs = 5000) =>
        waitFor(() => conn.messages.find((m) => predicate(m.message))?.message, subscribe, timeoutMs, 'a media message'),
    };
    ws.on('message', (data) => {
      conn.messages.push({ at: performance.now(), message: JSON.parse(String(data)) as Record<string, unknown> });
      wake();
    });
    ws.on('close', (code) => {
      resolveClosed(code);
      wake();
    });
    connections.push(conn);
    wake();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    wsUrl: `ws://127.0.0.1:${port}`,
    requests,
    connections,
    respond: (path, responder) => responders.set(path, responder),
    nextConnection: (timeoutMs = 10_000) => {
      const seen = connections.length;
      return waitFor(() => connections[seen], subscribe, timeoutMs, 'a media connection');
    },
    nextRequest: (predicate, timeoutMs = 10_000) => waitFor(() => requests.find(predicate), subscribe, timeoutMs, 'a webhook request'),
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
