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
 * The SDK forces `wss:`, so the emulator serves TLS with a certificate made at start; clients trust it by
 * passing {@link CartesiaEmulator.ca} (or `rejectUnauthorized: false`) in their WebSocket options.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { SpeechOptions } from '../../services/tts/offline/espeak-voice.ts';
import { getEspeakEngine } from '../../services/tts/offline/espeak-engine.ts';
import { SpeechGenerator } from '../../services/tts/offline/speech-generator.ts';
import type { WordTiming } from '../../services/tts/offline/word-timing.ts';
import {
  CartesiaRequestError,
  encodeCartesiaAudio,
  errorEvent,
  parseContextConfig,
  type CartesiaContextConfig,
  type CartesiaGenerationRequest,
} from './cartesia-emulator-wire.ts';
import { createSpeechCache, type SpeechCache, type SpeechCacheStats } from './speech-cache.ts';
import { createTlsServer } from './tls.ts';

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

export interface CartesiaEmulatedSpeech {
  contextId: string;
  text: string;
  encoding: string;
  sampleRate: number;
  /** The piece's audio bytes as sent, in order. */
  audio: Uint8Array;
  /** Word timings from the start of this piece's audio. */
  words: WordTiming[];
}

export interface CartesiaEmulatorStats {
  connections: number;
  /** Contexts ever opened. */
  contexts: number;
  cancels: number;
  chunks: number;
  errors: number;
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

interface ChunkTag {
  flushId: number;
  /** An empty marker segment: after everything before it, send `flush_done` or `done`. */
  marker?: 'flush' | 'done';
}

class CartesiaContext {
  private pending = '';
  private flushId = 1;
  private bufferTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly generator: SpeechGenerator<ChunkTag>;
  inputClosed = false;

  constructor(
    readonly id: string,
    readonly config: CartesiaContextConfig,
    private readonly connection: CartesiaConnection,
    options: CartesiaEmulatorOptions,
    speechCache: SpeechCache | undefined,
  ) {
    const realtimeFactor = options.realtimeFactor ?? 4;
    const chunkMs = options.chunkMs ?? 40;
    this.generator = new SpeechGenerator<ChunkTag>(
      {
        sampleRate: config.sampleRate,
        speech: config.speech,
        chunkMs,
        firstChunkDelayMs: options.ttfbMs ?? 200,
        realtimeFactor,
        ...(speechCache ? { synthesize: speechCache.synthesize } : {}),
      },
      {
        onSegmentStart: (segment, pcm) => {
          if (!options.onSpeech || pcm.length === 0) return;
          options.onSpeech({
            contextId: id,
            text: segment.text,
            encoding: config.encoding,
            sampleRate: config.sampleRate,
            audio: encodeCartesiaAudio(pcm, config.encoding),
            words: segment.words.map((w) => ({
              ...w,
              startSec: round(w.startSec - segment.startSec),
              endSec: round(w.endSec - segment.startSec),
            })),
          });
        },
        onChunk: (chunk) => {
          const data = Buffer.from(encodeCartesiaAudio(chunk.pcm, config.encoding)).toString('base64');
          const stepTime = Number.isFinite(realtimeFactor) ? Math.round((chunk.durationSec * 1000) / realtimeFactor) : 1;
          this.connection.stats.chunks++;
          this.connection.send({
            type: 'chunk',
            data,
            done: false,
            status_code: 206,
            step_time: stepTime,
            context_id: id,
            flush_id: chunk.segment.tag.flushId,
          });
          if (config.addTimestamps && chunk.words.length > 0) {
            this.connection.send({
              type: 'timestamps',
              done: false,
              status_code: 206,
              context_id: id,
              flush_id: chunk.segment.tag.flushId,
              word_timestamps: {
                words: chunk.words.map((w) => w.word),
                start: chunk.words.map((w) => w.startSec),
                end: chunk.words.map((w) => w.endSec),
              },
            });
          }
        },
        onSegmentEnd: (segment) => {
          if (segment.tag.marker === 'flush') {
            this.connection.send({
              type: 'flush_done',
              done: false,
              flush_done: true,
              flush_id: segment.tag.flushId,
              status_code: 206,
              context_id: id,
            });
          } else if (segment.tag.marker === 'done') {
            this.connection.send({ type: 'done', done: true, status_code: 206, context_id: id });
            this.connection.forget(this);
          }
        },
        onError: (error) => {
          this.connection.sendError(new CartesiaRequestError(500, 'internal_error', 'Generation failed', error.message), id);
          this.connection.forget(this);
        },
      },
    );
  }

  /** Applies one generation request (transcript, continue, flush). */
  accept(request: CartesiaGenerationRequest): void {
    if (typeof request.transcript === 'string') this.pending += request.transcript;
    if (request.continue !== true) {
      // No `continue` (a one-shot request) or `continue: false`: speak everything, then `done`.
      this.inputClosed = true;
      this.release(this.pending);
      this.generator.enqueue('', { flushId: this.flushId, marker: 'done' });
      return;
    }
    if (request.flush === true) {
      this.release(this.pending);
      this.generator.enqueue('', { flushId: this.flushId, marker: 'flush' });
      this.flushId++;
      return;
    }
    if (this.config.maxBufferDelayMs === 0) return this.release(this.pending);
    // Whole sentences go now; an unfinished one waits for more text or the buffer delay.
    const match = /^[\s\S]*[.!?…]["')\]]*\s+/.exec(this.pending);
    if (match) this.release(match[0]);
    if (this.pending.trim() && !this.bufferTimer) {
      this.bufferTimer = setTimeout(() => {
        this.bufferTimer = undefined;
        this.release(this.pending);
      }, this.config.maxBufferDelayMs);
    }
  }

  cancel(): void {
    this.generator.cancel();
    clearTimeout(this.bufferTimer);
    this.bufferTimer = undefined;
    this.pending = '';
  }

  private release(text: string): void {
    clearTimeout(this.bufferTimer);
    this.bufferTimer = undefined;
    this.pending = this.pending.slice(text.length);
    if (text.trim()) this.generator.enqueue(text, { flushId: this.flushId });
  }
}

class CartesiaConnection {
  private readonly contexts = new Map<string, CartesiaContext>();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly options: CartesiaEmulatorOptions,
    readonly stats: CartesiaEmulatorStats,
    private readonly received: unknown[],
    private readonly speechCache: SpeechCache | undefined,
  ) {
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
      if (contextId === undefined) return;
      this.stats.cancels++;
      const context = this.contexts.get(contextId);
      context?.cancel();
      if (context) this.forget(context);
      return;
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

function round(sec: number): number {
  return Math.round(sec * 1000) / 1000;
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
  const stats: CartesiaEmulatorStats = { connections: 0, contexts: 0, cancels: 0, chunks: 0, errors: 0 };
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
