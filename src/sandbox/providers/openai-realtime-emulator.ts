/**
 * A local OpenAI Realtime **transcription** server (`GET /v1/realtime?intent=transcription`, WebSocket) that
 * knows what the sandbox's simulated callees say: it finds their registered lines in the audio it receives
 * (see {@link RealtimeAudio}) and transcribes each committed item into those words.
 *
 * Protocol (GA interface; facts and sources in src/services/stt/openai-realtime-protocol.ts):
 * - Handshake: `Authorization: Bearer <key>`; with `apiKey` configured a missing/wrong key gets HTTP 401 and
 *   OpenAI's JSON body `{"error":{"message","type":"invalid_request_error","code":"invalid_api_key","param":null}}`
 *   (`authFailure: 'event'` instead accepts the socket, sends that as an `error` event and closes 1008 — some
 *   clients have reported this behaviour). A `model` query gets an `error` event: transcription sessions take
 *   no model in the URL. Other paths 404.
 * - Events: `session.created` on connect; `session.update` (type `transcription`, validated) → `session.updated`
 *   or `error`; `input_audio_buffer.append` (base64); `.commit` → `input_audio_buffer.committed` or
 *   `input_audio_buffer_commit_empty` under 100 ms; `.clear` → `.cleared`. Server VAD (default; threshold,
 *   prefix padding, silence as configured) sends `speech_started`/`speech_stopped` and commits by itself.
 *   Each committed item is transcribed in commit order: after `ttfbMs`, one
 *   `conversation.item.input_audio_transcription.delta` per word (`whisper-1`: one with the whole text) every
 *   `deltaIntervalMs`, then `.completed` with `usage` (and `logprobs` when `include` asks) — or `.failed` when a
 *   failure was injected. Nothing is transcribed until `audio.input.transcription` names a model.
 *
 * Not emulated: conversation items (`conversation.item.added/done`), noise reduction's effect, session expiry.
 * The server may run over TLS (`tls: true`, self-signed, see tls.ts) to exercise `wss:` clients.
 */
import { randomBytes } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { RealtimeError } from 'openai/resources/realtime/realtime';
import type { Logger } from '../../log.ts';
import { silentLogger } from '../../log.ts';
import type { SpeechRegistry } from '../speech-registry.ts';
import { speechRegistry } from '../speech-registry.ts';
import { RealtimeEmulatorSession, type RealtimeEmulatorConnectionInfo } from './openai-realtime-emulator-session.ts';
import { createTlsServer } from './tls.ts';

export type { RealtimeEmulatorConnectionInfo } from './openai-realtime-emulator-session.ts';

export interface OpenAIRealtimeEmulatorOptions {
  /** Key clients must present; undefined accepts any key, or none. @default undefined */
  apiKey?: string;
  /** How a wrong key is refused: HTTP 401 before the upgrade, or an `error` event then close. @default 'http' */
  authFailure?: 'http' | 'event';
  /** Where spoken lines are looked up. @default the process-wide {@link speechRegistry} */
  registry?: SpeechRegistry;
  /** Time from a commit to the item's first delta (gpt-4o-transcribe answers in a few hundred ms). @default 300 */
  ttfbMs?: number;
  /** Time between deltas, and from the last delta to `completed`. @default 20 */
  deltaIntervalMs?: number;
  /** Frame RMS (16-bit scale) that server VAD counts as speech at threshold 0.5. @default 300 */
  speechRms?: number;
  /** Text for loud audio no registered line accounts for; '' transcribes it as nothing. @default '' */
  unknownSpeechText?: string;
  /** Serve `wss:` with a fresh self-signed certificate ({@link OpenAIRealtimeEmulator.ca}). @default false */
  tls?: boolean;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** @default a silent logger */
  log?: Logger;
}

export interface OpenAIRealtimeEmulator {
  /** Base URL for the client (`…/v1`; the client appends `/realtime?intent=transcription`). */
  readonly baseUrl: string;
  readonly port: number;
  /** PEM certificate to trust when `tls` is on. */
  readonly ca: string | undefined;
  /** Every connection accepted so far, oldest first. */
  readonly connections: readonly RealtimeEmulatorConnectionInfo[];
  readonly openConnections: number;
  /** Drops every open connection without a close frame (clients see 1006). */
  dropConnections(): void;
  /** Drops the first connection whose received audio reaches `sec` seconds (a deterministic mid-utterance drop). */
  dropAtAudioSec(sec: number): void;
  /** Answers the next `count` upgrade requests with HTTP `status`. */
  rejectNextConnections(count?: number, status?: number): void;
  /** Sends an `error` event on every open connection; with `closeCode` the server then closes it. */
  sendError(error: Partial<RealtimeError>, options?: { closeCode?: number }): void;
  /** The next `count` transcriptions end in `.failed` with this error. */
  failNextTranscriptions(count: number, error?: Partial<RealtimeError>): void;
  close(): Promise<void>;
}

function refuse(socket: Duplex, status: number, error: Partial<RealtimeError>): void {
  const json = JSON.stringify({
    error: { message: error.message ?? '', type: error.type ?? 'invalid_request_error', code: error.code ?? null, param: null },
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
  );
}

function bearer(req: IncomingMessage): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
}

const invalidKey = (key: string | undefined): Partial<RealtimeError> => ({
  type: 'invalid_request_error',
  code: 'invalid_api_key',
  message: key ? `Incorrect API key provided: ${key.slice(0, 3)}***${key.slice(-4)}.` : "You didn't provide an API key.",
});

/** Starts the emulator on 127.0.0.1 (port 0 by default). */
export async function startOpenAIRealtimeEmulator(options: OpenAIRealtimeEmulatorOptions = {}): Promise<OpenAIRealtimeEmulator> {
  const log = options.log ?? silentLogger();
  const failures: Array<Partial<RealtimeError>> = [];
  const sessionOptions = {
    registry: options.registry ?? speechRegistry,
    ttfbMs: options.ttfbMs ?? 300,
    deltaIntervalMs: options.deltaIntervalMs ?? 20,
    unknownSpeechText: options.unknownSpeechText ?? '',
    speechRms: options.speechRms ?? 300,
    failures,
  };
  const connections: RealtimeEmulatorConnectionInfo[] = [];
  const open = new Set<RealtimeEmulatorSession>();
  let rejections = { count: 0, status: 503 };
  let dropAtSec: number | undefined;
  let nextId = 1;

  let server: Server;
  let ca: string | undefined;
  if (options.tls) {
    const tls = await createTlsServer();
    server = tls.server;
    ca = tls.certificate.cert;
  } else {
    server = createServer();
  }
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('request', (_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        error: { message: 'Use a WebSocket upgrade on /v1/realtime.', type: 'invalid_request_error', code: null, param: null },
      }),
    );
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const path = url.pathname.replace(/\/{2,}/g, '/').replace(/\/$/, '');
    if (path !== '/v1/realtime') return refuse(socket, 404, { message: `Invalid URL (GET ${path})`, code: 'unknown_url' });
    if (rejections.count > 0) {
      rejections.count--;
      return refuse(socket, rejections.status, { type: 'server_error', message: `Injected HTTP ${rejections.status}.` });
    }
    const key = bearer(req);
    const badKey = options.apiKey !== undefined && key !== options.apiKey;
    if (badKey && (options.authFailure ?? 'http') === 'http') return refuse(socket, 401, invalidKey(key));
    wss.handleUpgrade(req, socket, head, (ws) => {
      const info: RealtimeEmulatorConnectionInfo = {
        id: nextId++,
        sessionId: `sess_${randomBytes(12).toString('hex')}`,
        url: req.url ?? '',
        sessionUpdates: [],
        appends: 0,
        audioBytes: 0,
        commits: 0,
        pings: 0,
        sent: {},
        closed: null,
      };
      connections.push(info);
      if (badKey) {
        // The other refusal: the socket opens, OpenAI says why in an error event and hangs up.
        ws.send(
          JSON.stringify({
            type: 'error',
            event_id: `event_${randomBytes(10).toString('hex')}`,
            error: { ...invalidKey(key), param: null, event_id: null },
          }),
        );
        ws.close(1008, 'invalid_api_key');
        return;
      }
      const session = new RealtimeEmulatorSession(ws, info, sessionOptions, () => {
        if (dropAtSec !== undefined && session.audioSec >= dropAtSec) {
          dropAtSec = undefined;
          log.info({ sessionId: info.sessionId, atSec: session.audioSec }, 'openai realtime emulator: dropping connection');
          ws.terminate();
        }
      });
      open.add(session);
      ws.on('close', () => open.delete(session));
      if (url.searchParams.has('model')) {
        session.sendError({ message: 'You must not provide a model parameter for transcription sessions.', param: 'model' });
      }
      log.debug({ sessionId: info.sessionId, url: req.url }, 'openai realtime emulator: connection');
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('openai realtime emulator: no TCP address');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const dropAll = () => {
    for (const client of wss.clients) client.terminate();
  };

  return {
    baseUrl: `${options.tls ? 'wss' : 'ws'}://${host}:${address.port}/v1`,
    port: address.port,
    ca,
    connections,
    get openConnections() {
      return open.size;
    },
    dropConnections: dropAll,
    dropAtAudioSec(sec: number) {
      dropAtSec = sec;
    },
    rejectNextConnections(count = 1, status = 503) {
      rejections = { count, status };
    },
    sendError(error, sendOptions = {}) {
      for (const session of open) {
        session.sendError(error);
        if (sendOptions.closeCode !== undefined) session.close(sendOptions.closeCode, error.code ?? '');
      }
    },
    failNextTranscriptions(count, error = {}) {
      for (let i = 0; i < count; i++) failures.push(error);
    },
    async close() {
      for (const session of open) session.dispose();
      dropAll();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
