import { createRequire } from 'node:module';
import type { DeepgramClient } from '@deepgram/sdk';
import { ReconnectingSttSession } from './reconnecting-session.ts';
import type { SttInputFormat, SttService, SttSessionOptions, SttWord } from './stt-service.ts';
import {
  deepgramConnectArgs,
  describeConnectionEnd,
  type DeepgramSttOptions,
  type ListenConnectArgs,
  type ResultsMessage,
} from './deepgram-protocol.ts';

export type { DeepgramSttOptions } from './deepgram-protocol.ts';

type ListenSocket = Awaited<ReturnType<DeepgramClient['listen']['v1']['connect']>>;

interface Connection {
  socket: ListenSocket | null;
  attempt: number;
  /** Stream byte position of this connection's time 0. */
  basePos: number;
  /** Stream position up to which audio was sent on this connection. */
  sentPos: number;
  /** Replay is done: new audio goes out as it accumulates. */
  live: boolean;
  opened: boolean;
  openedAt: number;
  gotResults: boolean;
  closeStreamSent: boolean;
  metadata: boolean;
  requestId: string | undefined;
  closeEvent: { code: number; reason: string } | undefined;
  error: Error | undefined;
  ended: boolean;
  /** Stream time previous connections had already reported when this one started replaying. */
  replayHorizonSec: number;
}

const PROVIDER = 'deepgram';

/**
 * Deepgram live transcription (Nova, `/v1/listen`) through the official SDK (`@deepgram/sdk` v5); options,
 * query parameters and error classification are in deepgram-protocol.ts.
 *
 * Audio goes to Deepgram in the call's own format: 8 kHz μ-law is sent as is (`encoding=mulaw&sample_rate=8000`),
 * never decoded or resampled. The SDK's own reconnection is switched off (`reconnectAttempts: 0`); the session
 * reconnects itself so that it can replay audio: it keeps every byte sent since the last final result, and after
 * a drop sends it again to the new connection (plus what arrived while disconnected), then maps the new
 * connection's timestamps back onto the call timeline. Finals are never duplicated (a final that ends at or
 * before the last final's end is dropped), and a pending `Finalize`/`CloseStream` is repeated after the replay.
 */
export class DeepgramSttService implements SttService {
  readonly provider = PROVIDER;
  private clientInstance: DeepgramClient | undefined;

  constructor(readonly options: DeepgramSttOptions = {}) {}

  /**
   * The SDK client, made on the first session: the SDK costs ~30 MB of memory once loaded, which an idle
   * process does not need (loaded with `require`, its CommonJS build, so this stays synchronous).
   */
  private get client(): DeepgramClient {
    if (!this.clientInstance) {
      const { DeepgramClient: Client } = createRequire(import.meta.url)('@deepgram/sdk') as typeof import('@deepgram/sdk');
      const apiKey = this.options.apiKey ?? process.env.DEEPGRAM_API_KEY;
      this.clientInstance = new Client({ apiKey, ...(this.options.baseUrl ? { baseUrl: this.options.baseUrl } : {}) });
    }
    return this.clientInstance;
  }

  /** Deepgram decodes μ-law and linear16 at any rate itself: never convert. */
  inputFormatFor(source: SttInputFormat): SttInputFormat {
    return source;
  }

  createSession(options: SttSessionOptions): DeepgramSttSession {
    return new DeepgramSttSession(this.client, this.options, options);
  }
}

export class DeepgramSttSession extends ReconnectingSttSession<Connection> {
  private readonly connectArgs: ListenConnectArgs;
  private committedPos = 0;
  private finalizePos = -1;
  /** Stream time up to which some connection has reported results or events. */
  private heardUntilSec = 0;
  private lastUtteranceEndSec = -Infinity;

  constructor(
    private readonly client: DeepgramClient,
    private readonly options: DeepgramSttOptions,
    session: SttSessionOptions,
  ) {
    super(session, {
      provider: PROVIDER,
      logName: 'deepgram',
      maxReplaySec: options.maxReplaySec ?? 30,
      sendIntervalMs: options.sendIntervalMs ?? 40,
      keepAliveIntervalMs: options.keepAliveIntervalMs ?? 5000,
      closeTimeoutMs: options.closeTimeoutMs ?? 3000,
      reconnect: options.reconnect,
      flushTimeoutMessage: 'deepgram: final results did not arrive in time; closing',
    });
    this.connectArgs = deepgramConnectArgs(options, session.input);
  }

  protected get requestId(): string | undefined {
    return this.conn?.requestId;
  }

  /** Sends the audio this connection has not had yet as one message (it is live, i.e. caught up after replay). */
  protected sendPending(conn: Connection): void {
    const socket = conn.socket;
    if (this.state !== 'open' || !socket || !conn.live || conn.sentPos >= this.audio.end) return;
    try {
      this.audio.forEach(conn.sentPos, Infinity, (piece) => socket.sendMedia(piece));
      conn.sentPos = this.audio.end;
      this.activity = true;
    } catch {
      // The socket is closing; its close event triggers a reconnect that replays this audio.
    }
  }

  finalize(): void {
    if (this.finished) return;
    this.finalizePos = this.audio.end;
    if (this.conn) this.sendPending(this.conn);
    const socket = this.conn?.socket;
    if (this.state === 'open' && socket) this.trySend(() => socket.sendFinalize({ type: 'Finalize' }));
  }

  keepAlive(): void {
    const socket = this.conn?.socket;
    if (this.state !== 'open' || !socket) return;
    if (this.conn) this.sendPending(this.conn);
    this.trySend(() => socket.sendKeepAlive({ type: 'KeepAlive' }));
    this.activity = true;
  }

  // ── connections ─────────────────────────────────────────────────────────────────────────────────

  protected async openConnection(attempt: number): Promise<void> {
    this.state = 'connecting';
    const conn: Connection = {
      socket: null,
      attempt,
      basePos: 0,
      sentPos: 0,
      live: false,
      opened: false,
      openedAt: 0,
      gotResults: false,
      closeStreamSent: false,
      metadata: false,
      requestId: undefined,
      closeEvent: undefined,
      error: undefined,
      ended: false,
      replayHorizonSec: 0,
    };
    this.conn = conn;
    let socket: ListenSocket;
    try {
      socket = await this.client.listen.v1.connect(this.connectArgs);
    } catch (error) {
      conn.error = error instanceof Error ? error : new Error(String(error));
      this.onConnectionEnd(conn, true);
      return;
    }
    if (this.conn !== conn || this.finished) return;
    conn.socket = socket;
    socket.on('open', () => this.onOpen(conn));
    socket.on('message', (message) => this.onMessage(conn, message));
    // The SDK reports a failed handshake as a synthetic close followed by an error (same tick): look at both.
    socket.on('close', (event) => {
      conn.closeEvent ??= { code: event.code, reason: String(event.reason ?? '') };
      setImmediate(() => this.onConnectionEnd(conn, false));
    });
    socket.on('error', (error) => {
      conn.error ??= error;
      setImmediate(() => this.onConnectionEnd(conn, false));
    });
    socket.connect();
  }

  private onOpen(conn: Connection): void {
    if (conn !== this.conn || conn.ended || !conn.socket) return;
    conn.opened = true;
    conn.openedAt = performance.now();
    conn.basePos = Math.max(this.committedPos, this.audio.start);
    conn.sentPos = conn.basePos;
    conn.replayHorizonSec = this.heardUntilSec;
    const replayedSec = (this.audio.end - conn.basePos) / this.audio.bytesPerSec;
    const socket = conn.socket;
    this.state = 'open';
    try {
      this.audio.forEach(conn.basePos, this.audio.replayPiece, (piece) => socket.sendMedia(piece));
      conn.sentPos = this.audio.end;
      conn.live = true;
      this.activity = true;
      if (this.finalizePos > this.committedPos) socket.sendFinalize({ type: 'Finalize' });
    } catch {
      return; // closed while replaying; the close event reconnects
    }
    if (this.closeRequested) this.sendCloseStream(conn);
    this.announceOpen(conn, replayedSec);
  }

  protected startFlush(conn: Connection): void {
    this.sendCloseStream(conn);
  }

  private sendCloseStream(conn: Connection): void {
    if (conn.closeStreamSent || !conn.socket) return;
    this.sendPending(conn);
    const socket = conn.socket;
    if (this.trySend(() => socket.sendCloseStream({ type: 'CloseStream' }))) conn.closeStreamSent = true;
  }

  private onConnectionEnd(conn: Connection, sdkRejected: boolean): void {
    if (conn.ended) return;
    conn.ended = true;
    if (conn !== this.conn || this.finished) return;
    if (conn.closeStreamSent && !conn.error && (conn.metadata || conn.closeEvent?.code === 1000)) {
      // Graceful end after CloseStream: Deepgram sent its last results and Metadata, then closed 1000.
      this.finish(true);
      return;
    }
    // Anything else — even while closing — is a drop: reconnect, replay and repeat CloseStream (the close()
    // timeout still bounds the whole flush).
    const cause = describeConnectionEnd(
      { opened: conn.opened, sdkRejected, error: conn.error, closeEvent: conn.closeEvent },
      { callId: this.callId, provider: PROVIDER, connectTimeoutMs: this.options.connectTimeoutMs ?? 5000 },
    );
    this.reconnectOrFail(cause, { ready: conn.opened, gotResults: conn.gotResults, openedAt: conn.openedAt });
  }

  protected closeSocket(conn: Connection): void {
    try {
      conn.socket?.close();
    } catch {
      // already closed
    }
  }

  private trySend(send: () => void): boolean {
    try {
      send();
      return true;
    } catch {
      return false; // not open: the close event that follows reconnects and repeats what is pending
    }
  }

  // ── messages ────────────────────────────────────────────────────────────────────────────────────

  private onMessage(conn: Connection, message: unknown): void {
    if (conn !== this.conn || conn.ended || typeof message !== 'object' || message === null) return;
    const type = (message as { type?: unknown }).type;
    const base = conn.basePos / this.audio.bytesPerSec;
    if (type === 'Results') {
      this.onResults(conn, message as ResultsMessage, base);
    } else if (type === 'SpeechStarted') {
      const sec = base + Number((message as { timestamp?: unknown }).timestamp ?? 0);
      // Audio a previous connection already heard was replayed: its speech start was reported then.
      if (sec < conn.replayHorizonSec) return;
      this.heardUntilSec = Math.max(this.heardUntilSec, sec);
      this.events.emit('speechStarted', { atSec: this.audio.callSecOfStreamSec(sec) });
    } else if (type === 'UtteranceEnd') {
      const sec = base + Number((message as { last_word_end?: unknown }).last_word_end ?? 0);
      if (sec <= this.lastUtteranceEndSec + 0.01) return;
      this.lastUtteranceEndSec = sec;
      this.events.emit('utteranceEnd', { lastWordEndSec: this.audio.callSecOfStreamSec(sec) });
    } else if (type === 'Metadata') {
      conn.metadata = true;
      const requestId = (message as { request_id?: unknown }).request_id;
      if (typeof requestId === 'string') conn.requestId = requestId;
    }
  }

  private onResults(conn: Connection, r: ResultsMessage, base: number): void {
    conn.gotResults = true;
    conn.requestId ??= r.metadata?.request_id;
    const startSec = base + (r.start ?? 0);
    const endSec = startSec + (r.duration ?? 0);
    if (endSec > this.heardUntilSec) this.heardUntilSec = endSec;
    const final = r.is_final === true;
    if (r.from_finalize) this.finalizePos = -1;
    if (final) {
      const committedSec = this.committedPos / this.audio.bytesPerSec;
      if (this.committedPos > 0 && endSec <= committedSec + 0.0005) return; // already finalised (replayed audio)
      const pos = Math.floor((endSec * this.audio.bytesPerSec) / this.audio.sampleBytes) * this.audio.sampleBytes;
      if (pos > this.committedPos) this.committedPos = pos;
      if (this.committedPos >= this.finalizePos) this.finalizePos = -1;
      this.audio.dropBefore(Math.min(this.committedPos, conn.sentPos));
    }
    const alt = r.channel?.alternatives?.[0];
    const words: SttWord[] = (alt?.words ?? []).map((w) => ({
      word: w.word,
      punctuated: w.punctuated_word ?? w.word,
      startSec: this.audio.callSecOfStreamSec(base + w.start),
      endSec: this.audio.callSecOfStreamSec(base + w.end),
      confidence: w.confidence,
    }));
    const language = alt?.languages?.[0];
    this.events.emit('transcript', {
      text: alt?.transcript ?? '',
      final,
      speechFinal: r.speech_final === true,
      fromFinalize: r.from_finalize === true,
      confidence: alt?.confidence ?? 0,
      ...(language ? { language } : {}),
      startSec: this.audio.callSecOfStreamSec(startSec),
      endSec: this.audio.callSecOfStreamSec(endSec),
      words,
    });
  }
}
