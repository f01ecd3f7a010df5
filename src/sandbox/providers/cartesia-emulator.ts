/**
 * A local Cartesia TTS WebSocket (`/tts/websocket`) that speaks real audio with the offline eSpeak voice.
 *
 * Protocol as the official SDK (`@cartesia/cartesia-js` 4.x) and the API reference describe it: generation
 * requests per `context_id` with `continue` (transcripts concatenated verbatim), `flush` → `flush_done`
 * with increasing `flush_id`, `continue: false` → remaining audio then `done`, `cancel` → silence for that
 * context (no acknowledgement), `add_timestamps` → `timestamps` events with `word_timestamps` in seconds
 * from the context's start, base64 `chunk` events in the requested raw encoding and rate, and Cartesia's
 * error events (invalid model / voice / output format; 2026-03 shape with `error_code`, `title`, `message`).
 * Text waits in the context's buffer until a sentence is complete, a flush, the end, or
 * `max_buffer_delay_ms` (default 3000; 0 generates every piece at once).
 *
 * Contexts expire 1 s after their last audio went out (documented: "Contexts automatically expire 1 second
 * after the last audio output is streamed out. Attempting to send another input on the same context ID
 * after expiry is not supported."). What the service answers to such an input is not documented; the
 * emulator's answer is a guess, chosen by `expiredContextInput`: an `error` event (default) or a fresh
 * context under the same id (its timestamps start at 0 again). Nothing is sent when a context expires (also
 * a guess).
 *
 * The SDK forces `wss:`, so the emulator serves TLS with a certificate made at start; clients trust it by
 * passing {@link CartesiaEmulator.ca} (or `rejectUnauthorized: false`) in their WebSocket options.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { SpeechOptions } from '../../services/tts/offline/espeak-voice.ts';
import { getEspeakEngine } from '../../services/tts/offline/espeak-engine.ts';
import {
  CartesiaRequestError,
  errorEvent,
  parseContextConfig,
  type CartesiaContextConfig,
  type CartesiaGenerationRequest,
} from './cartesia-emulator-wire.ts';
import { CartesiaContext, type CartesiaEmulatedSpeech } from './cartesia-emulator-context.ts';
import { createSpeechCache, type SpeechCache, type SpeechCacheStats } from './speech-cache.ts';
import { createTlsServer } from './tls.ts';

export type { CartesiaEmulatedSpeech } from './cartesia-emulator-context.ts';

export interface CartesiaEmulatorOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** Serve TLS (the SDK always connects with `wss:`). @default true */
  tls?: boolean;
  /** The only API key accepted; undefined accepts any non-empty key. @default undefined */
  apiKey?: string;
  /** Known voice ids → eSpeak settings; unknown ids fail with `voice_not_found`. @default any UUID, mapped to built-in voices */
  voices?: Record<string, SpeechOptions>;
  /** Time from a request that starts generation to its first chunk. @default 200 */
  ttfbMs?: number;
  /** Generation speed × real time. @default 4 */
  realtimeFactor?: number;
  /** Audio per `chunk` event. @default 40 */
  chunkMs?: number;
  /**
   * A context with nothing left to say expires this long after its last audio chunk (or its last input, if
   * later): Cartesia documents 1 s. `Infinity` keeps contexts until `done` or `cancel`. @default 1000
   */
  contextExpiryMs?: number;
  /**
   * The answer to an input on an expired context, which Cartesia documents only as "not supported" (so
   * either is a guess): `'error'` sends an error event (`error_code: 'context_expired'`, status 400) and
   * drops the input; `'new-context'` starts a fresh context under the same id. @default 'error'
   */
  expiredContextInput?: 'error' | 'new-context';
  /** A connection with no message for this long is closed (Cartesia's idle close). @default 300_000 */
  idleTimeoutMs?: number;
  /** Client messages kept in `received` (oldest dropped first). @default 1000 */
  keepMessages?: number;
  /** Sees every synthesised piece of text with its audio exactly as sent (sandbox speech registry). */
  onSpeech?: (speech: CartesiaEmulatedSpeech) => void;
  /**
   * Distinct (text, voice) syntheses kept for reuse; 0 synthesises every piece anew. eSpeak blocks the event
   * loop while it runs, and a bot repeats itself, so caching keeps a shared process (the carrier emulator's
   * media clock) on time under load. @default 500
   */
  speechCacheEntries?: number;
}

export interface CartesiaEmulatorStats {
  connections: number;
  /** Contexts ever opened. */
  contexts: number;
  cancels: number;
  chunks: number;
  errors: number;
  /** Contexts that expired (idle for `contextExpiryMs` after their last audio). */
  expiredContexts: number;
}

export interface CartesiaEmulator {
  /** Base URL for the SDK (`new Cartesia({ baseURL })`): `https://127.0.0.1:<port>`. */
  url: string;
  /** The WebSocket endpoint itself. */
  wsUrl: string;
  port: number;
  /** PEM certificate to trust (`ca` in the client's WebSocket options); undefined without TLS. */
  ca: string | undefined;
  stats: CartesiaEmulatorStats;
  /** The latest client messages (up to `keepMessages`), parsed, in order (tests). */
  received: unknown[];
  /** Synthesis cache counters (all zero with `speechCacheEntries: 0`). */
  speechCache(): SpeechCacheStats;
  /** Drops every open connection abruptly (tests of reconnection). */
  dropConnections(): void;
  close(): Promise<void>;
}

const API_VERSION = '2026-03-01';

/** Ids of expired contexts remembered per connection (oldest forgotten first). */
const EXPIRED_IDS_KEPT = 1000;

class CartesiaConnection {
  private readonly contexts = new Map<string, CartesiaContext>();
  /** Ids of contexts that expired; inputs on them are answered per `expiredContextInput`. */
  private readonly expired = new Set<string>();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  readonly contextExpiryMs: number;

  constructor(
    private readonly socket: WebSocket,
    private readonly options: CartesiaEmulatorOptions,
    readonly stats: CartesiaEmulatorStats,
    private readonly received: unknown[],
    private readonly speechCache: SpeechCache | undefined,
  ) {
    this.contextExpiryMs = options.contextExpiryMs ?? 1000;
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('close', () => this.dispose());
    socket.on('error', () => this.dispose());
    this.touch();
  }

  send(event: object): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(event));
  }

  sendError(error: CartesiaRequestError, contextId: string | undefined): void {
    this.stats.errors++;
    this.send(errorEvent(error, randomUUID(), contextId));
  }

  forget(context: CartesiaContext): void {
    if (this.contexts.get(context.id) === context) this.contexts.delete(context.id);
  }

  /** The context sat idle past its expiry: forget it, remember its id. */
  expire(context: CartesiaContext): void {
    if (this.contexts.get(context.id) !== context) return;
    this.contexts.delete(context.id);
    context.cancel();
    this.stats.expiredContexts++;
    this.expired.add(context.id);
    if (this.expired.size > EXPIRED_IDS_KEPT) this.expired.delete(this.expired.values().next().value as string);
  }

  dispose(): void {
    clearTimeout(this.idleTimer);
    for (const context of this.contexts.values()) context.cancel();
    this.contexts.clear();
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.socket.close(1000, 'idle timeout'), this.options.idleTimeoutMs ?? 300_000);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    this.touch();
    let request: CartesiaGenerationRequest;
    try {
      if (isBinary) throw new Error('binary');
      request = JSON.parse(data.toString()) as CartesiaGenerationRequest;
      if (typeof request !== 'object' || request === null) throw new Error('not an object');
    } catch {
      this.sendError(new CartesiaRequestError(400, 'invalid_request', 'Invalid request', 'Messages must be JSON objects.'), undefined);
      return;
    }
    this.received.push(request);
    if (this.received.length > (this.options.keepMessages ?? 1000)) this.received.shift();
    const contextId = typeof request.context_id === 'string' && request.context_id ? request.context_id : undefined;
    if (request.cancel === true) {
      if (contextId === undefined || this.expired.has(contextId)) return;
      this.stats.cancels++;
      const context = this.contexts.get(contextId);
      context?.cancel();
      if (context) this.forget(context);
      return;
    }
    if (contextId !== undefined && this.expired.has(contextId)) {
      if ((this.options.expiredContextInput ?? 'error') === 'error') {
        this.sendError(
          new CartesiaRequestError(
            400,
            'context_expired',
            'Context expired',
            `Context ${contextId} expired 1 second after its last audio; inputs on an expired context are not supported. Use a new context_id.`,
          ),
          contextId,
        );
        return;
      }
      this.expired.delete(contextId); // 'new-context': the id starts over
    }
    let context = contextId === undefined ? undefined : this.contexts.get(contextId);
    if (context?.inputClosed) {
      this.sendError(
        new CartesiaRequestError(400, 'invalid_request', 'Invalid context', `Context ${contextId} is no longer accepting inputs.`),
        contextId,
      );
      return;
    }
    if (!context) {
      const id = contextId ?? randomUUID();
      let config: CartesiaContextConfig;
      try {
        config = parseContextConfig(request, this.options.voices);
      } catch (error) {
        if (!(error instanceof CartesiaRequestError)) throw error;
        this.sendError(error, id);
        return;
      }
      context = new CartesiaContext(id, config, this, this.options, this.speechCache);
      this.contexts.set(id, context);
      this.stats.contexts++;
    }
    context.accept(request);
  }
}

function presentedKey(req: IncomingMessage, url: URL): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const header = req.headers['x-api-key'];
  return (
    bearer?.trim() ||
    (typeof header === 'string' ? header : undefined) ||
    url.searchParams.get('api_key') ||
    url.searchParams.get('access_token') ||
    undefined
  );
}

function reject(socket: Duplex, status: number, reason: string, body: object): void {
  const json = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
  );
}

/** Starts the emulator on 127.0.0.1 (port 0 unless `port` is given). */
export async function startCartesiaEmulator(options: CartesiaEmulatorOptions = {}): Promise<CartesiaEmulator> {
  const useTls = options.tls ?? true;
  await getEspeakEngine(); // started now so the first request's time to first byte is the configured one
  let server: Server;
  let ca: string | undefined;
  if (useTls) {
    const tls = await createTlsServer();
    server = tls.server;
    ca = tls.certificate.cert;
  } else {
    server = createHttpServer();
  }
  const stats: CartesiaEmulatorStats = { connections: 0, contexts: 0, cancels: 0, chunks: 0, errors: 0, expiredContexts: 0 };
  const received: unknown[] = [];
  const connections = new Set<CartesiaConnection>();
  const cacheEntries = options.speechCacheEntries ?? 500;
  const speechCache = cacheEntries > 0 ? createSpeechCache({ maxEntries: cacheEntries }) : undefined;
  const wss = new WebSocketServer({ noServer: true });

  server.on('request', (req, res) => {
    // GET / answers like the real gateway; everything else is not emulated.
    const status = req.url === '/' ? 200 : 404;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        status === 200 ? { ok: true, version: API_VERSION } : { error_code: 'not_found', title: 'Not found', message: 'Not emulated.' },
      ),
    );
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    if (url.pathname.replace(/\/+$/, '') !== '/tts/websocket') {
      reject(socket, 404, 'Not Found', { error_code: 'not_found', title: 'Not found', message: `No WebSocket at ${url.pathname}` });
      return;
    }
    const key = presentedKey(req, url);
    if (!key || (options.apiKey !== undefined && key !== options.apiKey)) {
      stats.errors++;
      reject(socket, 401, 'Unauthorized', {
        error_code: 'unauthorized',
        title: 'Unauthorized',
        message: key ? 'Invalid API key.' : 'Missing API key: send Authorization: Bearer <key>.',
        request_id: randomUUID(),
      });
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      stats.connections++;
      const connection = new CartesiaConnection(ws, options, stats, received, speechCache);
      connections.add(connection);
      ws.on('close', () => connections.delete(connection));
    });
  });

  await new Promise<void>((resolve, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const host = options.host ?? '127.0.0.1';
  const scheme = useTls ? 'https' : 'http';
  return {
    url: `${scheme}://${host}:${port}`,
    wsUrl: `${useTls ? 'wss' : 'ws'}://${host}:${port}/tts/websocket`,
    port,
    ca,
    stats,
    received,
    speechCache: () => speechCache?.stats() ?? { hits: 0, misses: 0, entries: 0 },
    dropConnections: () => {
      for (const client of wss.clients) client.terminate();
    },
    close: async () => {
      for (const connection of connections) connection.dispose();
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
