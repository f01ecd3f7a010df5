/**
 * A local ElevenLabs TTS WebSocket that speaks real audio with the offline eSpeak voice: the single-context
 * `/v1/text-to-speech/{voice_id}/stream-input` and the multi-context `/multi-stream-input`.
 *
 * Protocol as the API reference and the SDK's serialisers describe it: query `model_id`, `output_format`
 * (raw formats produced: `pcm_*`, `ulaw_8000`, `alaw_8000`), `inactivity_timeout` (default 20 s, max 180),
 * `auto_mode`; auth by `xi-api-key` header, `authorization` bearer, or the first message's `xi_api_key`.
 * Client messages are snake_case (`context_id`, `close_context`, `close_socket`, `flush`); replies camelCase
 * (`audio` base64, `alignment`/`normalizedAlignment` with `chars`, `charStartTimesMs`, `charDurationsMs` —
 * times relative to the chunk, `contextId`, `isFinal`), or snake_case with `keyStyle: 'snake_case'` (the
 * spelling some SDK serialisers map; which one the live service sends is not documented). Text is generated when the chunk length schedule
 * ([120, 160, 250, 290] characters) fills, at each sentence end with `auto_mode=true`, on `flush`, and at
 * the end. `close_context` stops a context at once unless it was flushed (then the flushed text is
 * finished first), then sends `isFinal`. More than 5 contexts, an unknown model/voice/format, a bad key or
 * inactivity close the socket with 1008 after an error message, as the real service does.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { getEspeakEngine } from '../../services/tts/offline/espeak-engine.ts';
import type { SpeechOptions } from '../../services/tts/offline/espeak-voice.ts';
import { ElevenLabsContext, type ClientMessage, type ElevenLabsEmulatedSpeech, type Settings } from './elevenlabs-emulator-context.ts';
import {
  checkModel,
  ElevenLabsPolicyError,
  parseOutputFormat,
  replyKeys,
  voiceFor,
  type ElevenLabsKeyStyle,
  type ReplyKeys,
} from './elevenlabs-emulator-wire.ts';
import { createTlsServer } from './tls.ts';

export type { ElevenLabsEmulatedSpeech } from './elevenlabs-emulator-context.ts';

export interface ElevenLabsEmulatorOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** Serve TLS (`wss:`) with a certificate made at start. @default false */
  tls?: boolean;
  /** The only API key accepted; undefined accepts any non-empty key. @default undefined */
  apiKey?: string;
  /** Known voice ids → eSpeak settings; others fail. @default any 20-character id, mapped to built-in voices */
  voices?: Record<string, SpeechOptions>;
  /** Time from the text that starts a generation to its first audio. @default 250 */
  ttfbMs?: number;
  /** Generation speed × real time. @default 4 */
  realtimeFactor?: number;
  /** Audio per message. @default 200 */
  chunkMs?: number;
  /** Simultaneous contexts per multi-context socket. @default 5 */
  maxContexts?: number;
  /** Spelling of the durations field in camelCase alignments (both exist in the wild). @default 'charDurationsMs' */
  durationsKey?: 'charDurationsMs' | 'charsDurationsMs';
  /**
   * Spelling of reply keys: camelCase (`isFinal`, `contextId`, `normalizedAlignment`, `charStartTimesMs`, as the
   * API reference shows) or snake_case (`is_final`, `context_id`, `normalized_alignment`,
   * `char_start_times_ms`, `char_durations_ms`, as some of the SDKs' serialisers map them). Which one the live
   * service sends is not documented, so clients should accept both. @default 'camelCase'
   */
  keyStyle?: ElevenLabsKeyStyle;
  /** Client messages kept in `received` (oldest dropped first). @default 1000 */
  keepMessages?: number;
  /** Sees every synthesised piece of text with its audio exactly as sent (sandbox speech registry). */
  onSpeech?: (speech: ElevenLabsEmulatedSpeech) => void;
}

export interface ElevenLabsEmulatorStats {
  connections: number;
  contexts: number;
  closedContexts: number;
  audioMessages: number;
  /** Sockets the emulator closed with a policy error (1008 and friends). */
  policyCloses: number;
}

export interface ElevenLabsEmulator {
  /** Base URL for clients: `ws://127.0.0.1:<port>` (`wss:` with TLS). */
  url: string;
  port: number;
  /** PEM certificate to trust when `tls` is on. */
  ca: string | undefined;
  stats: ElevenLabsEmulatorStats;
  /** The latest client messages (up to `keepMessages`), parsed, in order (tests). */
  received: unknown[];
  /** Drops every open connection abruptly (tests of reconnection). */
  dropConnections(): void;
  close(): Promise<void>;
}

/** The inactivity message the real service closes with (close reasons are cut to 123 bytes). */
function inactivityMessage(seconds: number): string {
  return `Have not received a new text input within the timeout of ${seconds} seconds. Streaming input terminated. Please make sure to either feed the input in the timely manner, or to send the end of input text (empty string "") when done.`;
}

function closeReason(message: string): string {
  const bytes = Buffer.from(message);
  return bytes.length <= 123
    ? message
    : bytes
        .subarray(0, 120)
        .toString('utf8')
        .replace(/\uFFFD+$/, '') + '...';
}

class ElevenLabsConnection {
  private readonly contexts = new Map<string | undefined, ElevenLabsContext>();
  private inactivityTimer: ReturnType<typeof setTimeout> | undefined;
  private authenticated: boolean;
  private closingSocket = false;
  private closed = false;
  private readonly keys: ReplyKeys;

  constructor(
    private readonly socket: WebSocket,
    private readonly settings: Settings,
    private readonly options: ElevenLabsEmulatorOptions,
    readonly stats: ElevenLabsEmulatorStats,
    private readonly received: unknown[],
    headerKey: string | undefined,
  ) {
    this.authenticated = headerKey !== undefined;
    this.keys = replyKeys(options.keyStyle ?? 'camelCase', options.durationsKey);
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('close', () => this.dispose());
    socket.on('error', () => this.dispose());
    this.touch();
  }

  send(message: object): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }

  sendAudio(context: ElevenLabsContext, audio: string, alignment: object | null): void {
    this.stats.audioMessages++;
    const contextId = this.settings.multi ? { [this.keys.contextId]: context.id } : {};
    this.send({ audio, [this.keys.normalizedAlignment]: alignment, alignment, ...contextId });
  }

  contextEnded(context: ElevenLabsContext): void {
    this.contexts.delete(context.id);
    this.stats.closedContexts++;
    if (this.settings.multi) {
      this.send({ [this.keys.isFinal]: true, [this.keys.contextId]: context.id });
      if (this.closingSocket && ![...this.contexts.values()].some((c) => c.hasFlush)) this.socket.close(1000);
    } else {
      this.send({ audio: null, [this.keys.isFinal]: true });
      this.socket.close(1000);
    }
  }

  /** Sends the error message and closes, like the service's policy closes. */
  policyClose(error: ElevenLabsPolicyError): void {
    if (this.closed) return;
    this.stats.policyCloses++;
    this.send({ message: error.message, error: error.error, code: error.closeCode });
    this.socket.close(error.closeCode, closeReason(error.message));
    this.dispose();
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.inactivityTimer);
    for (const context of this.contexts.values()) context.abort();
    this.contexts.clear();
  }

  private touch(): void {
    clearTimeout(this.inactivityTimer);
    const seconds = this.settings.inactivitySec;
    this.inactivityTimer = setTimeout(() => {
      this.policyClose(new ElevenLabsPolicyError(1008, 'input_timeout_exceeded', inactivityMessage(seconds)));
    }, seconds * 1000);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    this.touch();
    let message: ClientMessage;
    try {
      if (isBinary) throw new Error('binary');
      message = JSON.parse(data.toString()) as ClientMessage;
      if (typeof message !== 'object' || message === null) throw new Error('not an object');
    } catch {
      this.policyClose(new ElevenLabsPolicyError(1003, 'invalid_message', 'Messages must be JSON objects.'));
      return;
    }
    this.received.push(message);
    if (this.received.length > (this.options.keepMessages ?? 1000)) this.received.shift();
    if (!this.authenticated) {
      const key = message.xi_api_key ?? message['xi-api-key'] ?? message.authorization;
      if (
        typeof key !== 'string' ||
        !key ||
        (this.options.apiKey !== undefined && key.replace(/^Bearer\s+/i, '') !== this.options.apiKey)
      ) {
        this.policyClose(new ElevenLabsPolicyError(1008, 'invalid_api_key', 'Invalid API key.'));
        return;
      }
      this.authenticated = true;
    }
    if (this.settings.multi) this.onMultiMessage(message);
    else this.onSingleMessage(message);
  }

  private onSingleMessage(message: ClientMessage): void {
    let context = this.contexts.get(undefined);
    if (!context) {
      context = this.open(undefined, message);
      if (!context) return;
    }
    if (message.text === '') return context.finishInput();
    if (typeof message.text === 'string') context.addText(message.text);
    if (message.flush === true) context.flush();
  }

  private onMultiMessage(message: ClientMessage): void {
    if (message.close_socket === true) {
      this.closingSocket = true;
      for (const context of [...this.contexts.values()]) if (!context.hasFlush) context.close();
      if (this.contexts.size === 0) this.socket.close(1000);
      return;
    }
    const contextId = typeof message.context_id === 'string' && message.context_id ? message.context_id : 'default';
    let context = this.contexts.get(contextId);
    if (message.close_context === true) {
      context?.close();
      return;
    }
    if (!context) {
      if (message.text === '' && message.context_id === undefined) return; // connection keep-alive
      context = this.open(contextId, message);
      if (!context) return;
    } else if (message.text === '') {
      return; // keeps this context alive
    }
    if (typeof message.text === 'string') context.addText(message.text);
    if (message.flush === true) context.flush();
  }

  private open(contextId: string | undefined, message: ClientMessage): ElevenLabsContext | undefined {
    const limit = this.options.maxContexts ?? 5;
    if (this.settings.multi && this.contexts.size >= limit) {
      this.policyClose(
        new ElevenLabsPolicyError(
          1008,
          'max_active_conversations',
          `Maximum simultaneous contexts per WebSocket connection exceeded (${limit}). Please close unused contexts before opening new ones.`,
        ),
      );
      return undefined;
    }
    const context = new ElevenLabsContext(contextId, this, this.settings, this.options);
    context.configure(message);
    this.contexts.set(contextId, context);
    this.stats.contexts++;
    return context;
  }
}

function headerKey(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers['xi-api-key'];
  if (typeof header === 'string' && header) return header;
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? url.searchParams.get('authorization') ?? '')?.[1];
  return bearer?.trim() || undefined;
}

function rejectUpgrade(socket: Duplex, status: number, reason: string, detail: object): void {
  const json = JSON.stringify({ detail });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
  );
}

/** Starts the emulator on 127.0.0.1 (port 0 unless `port` is given). */
export async function startElevenLabsEmulator(options: ElevenLabsEmulatorOptions = {}): Promise<ElevenLabsEmulator> {
  await getEspeakEngine(); // started now so the first request's time to first byte is the configured one
  const useTls = options.tls ?? false;
  let server: Server;
  let ca: string | undefined;
  if (useTls) {
    const tls = await createTlsServer();
    server = tls.server;
    ca = tls.certificate.cert;
  } else {
    server = createHttpServer();
  }
  const stats: ElevenLabsEmulatorStats = { connections: 0, contexts: 0, closedContexts: 0, audioMessages: 0, policyCloses: 0 };
  const received: unknown[] = [];
  const wss = new WebSocketServer({ noServer: true });

  server.on('request', (_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ detail: { status: 'not_found', message: 'Only the TTS WebSockets are emulated.' } }));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const route = /^\/v1\/text-to-speech\/([^/]+)\/(stream-input|multi-stream-input)\/?$/.exec(url.pathname);
    if (!route) {
      rejectUpgrade(socket, 404, 'Not Found', { status: 'not_found', message: `No WebSocket at ${url.pathname}` });
      return;
    }
    const key = headerKey(req, url);
    if (key !== undefined && options.apiKey !== undefined && key !== options.apiKey) {
      rejectUpgrade(socket, 401, 'Unauthorized', { status: 'invalid_api_key', message: 'Invalid API key' });
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      stats.connections++;
      let settings: Settings;
      try {
        checkModel(url.searchParams.get('model_id'));
        const outputFormat = url.searchParams.get('output_format') ?? 'mp3_44100_128';
        const format = parseOutputFormat(outputFormat);
        const inactivity = Number(url.searchParams.get('inactivity_timeout') ?? 20);
        if (!Number.isFinite(inactivity) || inactivity < 1 || inactivity > 180) {
          throw new ElevenLabsPolicyError(1008, 'invalid_inactivity_timeout', 'inactivity_timeout must be between 1 and 180 seconds.');
        }
        settings = {
          voice: voiceFor(decodeURIComponent(route[1] as string), options.voices),
          format,
          outputFormat,
          autoMode: url.searchParams.get('auto_mode') === 'true',
          inactivitySec: inactivity,
          multi: route[2] === 'multi-stream-input',
        };
      } catch (error) {
        if (!(error instanceof ElevenLabsPolicyError)) throw error;
        stats.policyCloses++;
        ws.send(JSON.stringify({ message: error.message, error: error.error, code: error.closeCode }));
        ws.close(error.closeCode, closeReason(error.message));
        return;
      }
      new ElevenLabsConnection(ws, settings, options, stats, received, key);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `${useTls ? 'wss' : 'ws'}://${host}:${port}`,
    port,
    ca,
    stats,
    received,
    dropConnections: () => {
      for (const client of wss.clients) client.terminate();
    },
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
