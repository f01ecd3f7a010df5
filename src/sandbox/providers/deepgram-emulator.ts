import { createServer, STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Logger } from '../../log.ts';
import { silentLogger } from '../../log.ts';
import type { SpeechRegistry } from '../speech-registry.ts';
import { speechRegistry } from '../speech-registry.ts';
import { ListenParamError, parseListenQuery, type ListenParams } from './deepgram-emulator-params.ts';
import { ListenRecognizer, type RecognizerOptions, type ServerMessage } from './deepgram-emulator-stream.ts';

/**
 * A local Deepgram live-transcription server (`/v1/listen`) speaking the real wire protocol, so the official
 * SDK and our STT service run against it unchanged (point the SDK's `baseUrl` at {@link DeepgramEmulator.url}).
 *
 * Handshake: `Authorization: Token|Bearer <key>` or `Sec-WebSocket-Protocol: token, <key>` (the chosen
 * subprotocol is echoed); with `apiKey` configured a missing/wrong key gets HTTP 401 before the upgrade; bad
 * query parameters get HTTP 400 (JSON `err_code`/`err_msg`, plus `dg-error` header); unknown paths 404. The
 * upgrade response carries `dg-request-id`.
 *
 * Session: binary frames are audio (an empty binary frame acts like CloseStream, as Deepgram's legacy close
 * signal); text frames are `KeepAlive` (no reply), `Finalize` (flush, `from_finalize:true`), `CloseStream`
 * (final results, `Metadata`, close 1000); other text is ignored. No audio and no KeepAlive for
 * `idleTimeoutMs` → close 1011 `NET-0001`. Undecodable audio (no `encoding` and not a known container) →
 * close 1008 `DATA-0000` (Deepgram's code for this is documented inconsistently as 1002/1008).
 * What the recogniser returns is described in {@link ListenRecognizer}.
 */
export interface DeepgramEmulatorOptions {
  /** Key clients must present; undefined accepts any key, or none. @default undefined */
  apiKey?: string;
  /** Where spoken lines are looked up. @default the process-wide {@link speechRegistry} */
  registry?: SpeechRegistry;
  /** Delay added before every message the server sends (network + inference). @default 0 */
  latencyMs?: number;
  /** Close 1011 NET-0001 after this long without audio or KeepAlive. @default 10_000 (Deepgram's value) */
  idleTimeoutMs?: number;
  /** Recogniser tuning (VAD threshold, unknown-speech text, segment length, interim rate). @default see RecognizerOptions */
  recognizer?: Omit<RecognizerOptions, 'registry'>;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** @default a silent logger */
  log?: Logger;
}

/** What the emulator saw on one connection (kept for every connection, for tests and the sandbox UI). */
export interface EmulatorConnectionInfo {
  readonly id: number;
  readonly requestId: string;
  /** Request path and query exactly as received. */
  readonly url: string;
  readonly params: ListenParams;
  readonly auth: 'header' | 'subprotocol' | 'none';
  audioBytes: number;
  /** Binary (audio) messages received. */
  audioMessages: number;
  keepAlives: number;
  finalizes: number;
  closeStreams: number;
  /** Messages sent to the client, by `type`. */
  sent: Record<string, number>;
  /** Set when the socket closed; `code` 1006 means dropped without a close frame. */
  closed: { code: number; reason: string } | null;
}

export interface DeepgramEmulator {
  /** Base URL for the SDK (`new DeepgramClient({ baseUrl })`), e.g. `ws://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  /** Every connection accepted so far, oldest first. */
  readonly connections: readonly EmulatorConnectionInfo[];
  /** Connections currently open. */
  readonly openConnections: number;
  /** Drops every open connection at once without a close frame (clients see 1006). */
  dropConnections(): void;
  /** Drops every connection open `ms` from now; returns a function that cancels it. */
  dropConnectionsAfter(ms: number): () => void;
  /** Drops the first connection whose received audio reaches `sec` seconds (deterministic mid-utterance drop). */
  dropAtAudioSec(sec: number): void;
  /** Answers the next `count` upgrade requests with HTTP `status` instead of accepting them. */
  rejectNextConnections(count?: number, status?: number): void;
  /** Closes every open connection with 1011 NET-0001, as if they had gone idle. */
  forceIdleTimeout(): void;
  /** Stops the server and terminates every connection. */
  close(): Promise<void>;
}

function rejectUpgrade(socket: Duplex, status: number, body: Record<string, unknown>, requestId: string): void {
  const json = JSON.stringify({ ...body, request_id: requestId });
  const headers = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(json)}`,
    `dg-request-id: ${requestId}`,
    ...(typeof body.err_msg === 'string' ? [`dg-error: ${body.err_msg.replace(/[\r\n]/g, ' ')}`] : []),
    'Connection: close',
  ];
  socket.end(`${headers.join('\r\n')}\r\n\r\n${json}`);
}

/** Reads credentials the way Deepgram does: header first, then the `token`/`bearer` subprotocol pair. */
function credentials(req: IncomingMessage): { key: string | undefined; via: EmulatorConnectionInfo['auth'] } {
  const header = req.headers.authorization;
  const m = header ? /^(?:token|bearer)\s+(.+)$/i.exec(header.trim()) : null;
  if (m) return { key: m[1], via: 'header' };
  const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const i = protocols.findIndex((p) => p === 'token' || p === 'bearer');
  if (i >= 0 && protocols[i + 1]) return { key: protocols[i + 1], via: 'subprotocol' };
  return { key: undefined, via: 'none' };
}

class EmulatorConnection {
  private readonly recognizer: ListenRecognizer;
  private readonly outbox: Array<{ due: number; message: ServerMessage | { close: [number, string] } }> = [];
  private outboxTimer: ReturnType<typeof setTimeout> | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private lastActivity = performance.now();
  private closing = false;

  constructor(
    readonly ws: WebSocket,
    readonly info: EmulatorConnectionInfo,
    private readonly options: Required<Pick<DeepgramEmulatorOptions, 'latencyMs' | 'idleTimeoutMs'>> & {
      registry: SpeechRegistry;
      recognizer: Omit<RecognizerOptions, 'registry'>;
    },
    private readonly onAudio: (conn: EmulatorConnection) => void,
  ) {
    this.recognizer = new ListenRecognizer(
      info.params,
      { ...options.recognizer, registry: options.registry, requestId: info.requestId },
      (m) => this.send(m),
    );
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', (code, reason) => {
      info.closed = { code, reason: reason.toString() };
      clearTimeout(this.idleTimer);
      clearTimeout(this.outboxTimer);
    });
    ws.on('error', () => {});
    this.armIdle(options.idleTimeoutMs);
  }

  get audioSec(): number {
    return this.recognizer.durationSec;
  }

  /** Closes with a code after everything already queued has been sent. */
  closeWith(code: number, reason: string): void {
    this.closing = true;
    this.enqueue({ close: [code, reason] });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closing) return;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (isBinary) {
      if (bytes.length === 0) return this.closeStream();
      this.info.audioBytes += bytes.length;
      this.info.audioMessages++;
      this.lastActivity = performance.now();
      if (!this.recognizer.audio(bytes)) return this.closeWith(1008, 'DATA-0000');
      this.onAudio(this);
      return;
    }
    let type: unknown;
    try {
      type = (JSON.parse(bytes.toString('utf8')) as { type?: unknown }).type;
    } catch {
      return;
    }
    if (type === 'KeepAlive') {
      this.info.keepAlives++;
      this.lastActivity = performance.now();
    } else if (type === 'Finalize') {
      this.info.finalizes++;
      this.recognizer.finalize();
    } else if (type === 'CloseStream') {
      this.closeStream();
    }
  }

  private closeStream(): void {
    this.info.closeStreams++;
    this.recognizer.closeStream();
    this.send(this.recognizer.metadata());
    this.closeWith(1000, '');
  }

  private send(message: ServerMessage): void {
    this.enqueue(message);
  }

  private enqueue(message: ServerMessage | { close: [number, string] }): void {
    if (this.options.latencyMs <= 0 && this.outbox.length === 0) return this.deliver(message);
    this.outbox.push({ due: performance.now() + this.options.latencyMs, message });
    if (this.outboxTimer === undefined) this.scheduleOutbox();
  }

  private scheduleOutbox(): void {
    const head = this.outbox[0];
    if (!head) {
      this.outboxTimer = undefined;
      return;
    }
    this.outboxTimer = setTimeout(
      () => {
        const now = performance.now();
        while (this.outbox.length > 0 && (this.outbox[0] as { due: number }).due <= now + 1) {
          this.deliver((this.outbox.shift() as { message: ServerMessage | { close: [number, string] } }).message);
        }
        this.scheduleOutbox();
      },
      Math.max(0, head.due - performance.now()),
    );
  }

  private deliver(message: ServerMessage | { close: [number, string] }): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if ('close' in message && Array.isArray(message.close)) {
      const [code, reason] = message.close as [number, string];
      this.ws.close(code, reason);
      return;
    }
    const type = String((message as ServerMessage).type);
    this.info.sent[type] = (this.info.sent[type] ?? 0) + 1;
    this.ws.send(JSON.stringify(message));
  }

  private armIdle(ms: number): void {
    this.idleTimer = setTimeout(() => {
      const idle = performance.now() - this.lastActivity;
      if (idle >= this.options.idleTimeoutMs - 1) this.closeWith(1011, 'NET-0001');
      else this.armIdle(this.options.idleTimeoutMs - idle);
    }, ms);
  }
}

/** Starts an emulator on 127.0.0.1 (port 0 by default). */
export async function startDeepgramEmulator(options: DeepgramEmulatorOptions = {}): Promise<DeepgramEmulator> {
  const log = options.log ?? silentLogger();
  const settings = {
    latencyMs: options.latencyMs ?? 0,
    idleTimeoutMs: options.idleTimeoutMs ?? 10_000,
    registry: options.registry ?? speechRegistry,
    recognizer: options.recognizer ?? {},
  };
  const connections: EmulatorConnectionInfo[] = [];
  const open = new Set<EmulatorConnection>();
  const dropTimers = new Set<ReturnType<typeof setTimeout>>();
  let rejections: { count: number; status: number } = { count: 0, status: 503 };
  let dropAtSec: number | undefined;
  let nextId = 1;

  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has('token') ? 'token' : protocols.has('bearer') ? 'bearer' : false),
  });
  const server = createServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ err_code: 'NOT_FOUND', err_msg: 'Use a WebSocket upgrade on /v1/listen.' }));
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', 'http://emulator');
    const path = url.pathname.replace(/\/{2,}/g, '/');
    if (path !== '/v1/listen') {
      return rejectUpgrade(socket, 404, { err_code: 'NOT_FOUND', err_msg: `No route for ${path}.` }, requestId);
    }
    if (rejections.count > 0) {
      rejections.count--;
      const status = rejections.status;
      return rejectUpgrade(socket, status, { err_code: 'INJECTED_FAILURE', err_msg: `Injected HTTP ${status}.` }, requestId);
    }
    const auth = credentials(req);
    if (options.apiKey !== undefined && auth.key !== options.apiKey) {
      return rejectUpgrade(socket, 401, { err_code: 'INVALID_AUTH', err_msg: 'Invalid credentials.' }, requestId);
    }
    let params: ListenParams;
    try {
      params = parseListenQuery(url.searchParams);
    } catch (error) {
      if (!(error instanceof ListenParamError)) throw error;
      return rejectUpgrade(socket, 400, { err_code: error.errCode, err_msg: error.message }, requestId);
    }
    const onHeaders = (headers: string[]) => headers.push(`dg-request-id: ${requestId}`);
    wss.once('headers', onHeaders);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const info: EmulatorConnectionInfo = {
        id: nextId++,
        requestId,
        url: req.url ?? '',
        params,
        auth: auth.via,
        audioBytes: 0,
        audioMessages: 0,
        keepAlives: 0,
        finalizes: 0,
        closeStreams: 0,
        sent: {},
        closed: null,
      };
      connections.push(info);
      const conn = new EmulatorConnection(ws, info, settings, (c) => {
        if (dropAtSec !== undefined && c.audioSec >= dropAtSec) {
          dropAtSec = undefined;
          log.info({ requestId: c.info.requestId, atSec: c.audioSec }, 'deepgram emulator: dropping connection');
          c.ws.terminate();
        }
      });
      open.add(conn);
      ws.on('close', () => open.delete(conn));
      log.debug({ requestId, url: req.url }, 'deepgram emulator: connection');
    });
    wss.off('headers', onHeaders); // handleUpgrade emits 'headers' synchronously (no verifyClient)
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('deepgram emulator: no TCP address');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  const dropAll = () => {
    for (const conn of open) conn.ws.terminate();
  };

  return {
    url: `ws://${host}:${address.port}`,
    port: address.port,
    connections,
    get openConnections() {
      return open.size;
    },
    dropConnections: dropAll,
    dropConnectionsAfter(ms: number) {
      const timer = setTimeout(() => {
        dropTimers.delete(timer);
        dropAll();
      }, ms);
      dropTimers.add(timer);
      return () => {
        clearTimeout(timer);
        dropTimers.delete(timer);
      };
    },
    dropAtAudioSec(sec: number) {
      dropAtSec = sec;
    },
    rejectNextConnections(count = 1, status = 503) {
      rejections = { count, status };
    },
    forceIdleTimeout() {
      for (const conn of open) conn.closeWith(1011, 'NET-0001');
    },
    async close() {
      for (const timer of dropTimers) clearTimeout(timer);
      dropTimers.clear();
      dropAll();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
