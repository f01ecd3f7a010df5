import { DeepgramClient } from '@deepgram/sdk';
import type { Logger } from '../../log.ts';
import { silentLogger } from '../../log.ts';
import { ReplayBuffer } from './replay-buffer.ts';
import type {
  SttCloseResult,
  SttEventName,
  SttInputFormat,
  SttListener,
  SttService,
  SttSession,
  SttSessionOptions,
  SttWord,
} from './stt-service.ts';
import { SttError, SttEvents } from './stt-service.ts';
import { CallTimeline } from './call-timeline.ts';
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
  private readonly client: DeepgramClient;

  constructor(readonly options: DeepgramSttOptions = {}) {
    const apiKey = options.apiKey ?? process.env.DEEPGRAM_API_KEY;
    this.client = new DeepgramClient({ apiKey, ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}) });
  }

  /** Deepgram decodes μ-law and linear16 at any rate itself: never convert. */
  inputFormatFor(source: SttInputFormat): SttInputFormat {
    return source;
  }

  createSession(options: SttSessionOptions): DeepgramSttSession {
    return new DeepgramSttSession(this.client, this.options, options);
  }
}

export class DeepgramSttSession implements SttSession {
  readonly callId: string;
  readonly input: SttInputFormat;
  private readonly log: Logger;
  private readonly events = new SttEvents();
  private readonly ring: ReplayBuffer;
  private readonly bytesPerSec: number;
  private readonly sampleBytes: number;
  private readonly replayPiece: number;
  /** Pending audio is sent once this many bytes have accumulated (see `sendIntervalMs`). */
  private readonly minSendBytes: number;
  private readonly connectArgs: ListenConnectArgs;
  private readonly reconnect: Required<NonNullable<DeepgramSttOptions['reconnect']>>;

  private state: 'idle' | 'connecting' | 'open' | 'waiting' | 'closed' | 'failed' = 'idle';
  private conn: Connection | null = null;
  private everOpened = false;
  private failures = 0;
  private committedPos = 0;
  private finalizePos = -1;
  private readonly timeline: CallTimeline;
  /** Stream time up to which some connection has reported results or events. */
  private heardUntilSec = 0;
  private lastUtteranceEndSec = -Infinity;
  private activity = false;
  private keepAliveTimer: ReturnType<typeof setInterval> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private closeRequested = false;
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  private closeDone: ((result: SttCloseResult) => void) | undefined;
  private closePromise: Promise<SttCloseResult> | undefined;
  private connectPromise: Promise<void> | undefined;
  private connectSettle: { resolve: () => void; reject: (error: SttError) => void } | undefined;

  constructor(
    private readonly client: DeepgramClient,
    private readonly options: DeepgramSttOptions,
    session: SttSessionOptions,
  ) {
    this.callId = session.callId;
    this.input = session.input;
    this.log = (session.log ?? silentLogger()).child({ callId: session.callId, provider: PROVIDER });
    this.sampleBytes = session.input.encoding === 'linear16' ? 2 : 1;
    this.bytesPerSec = session.input.sampleRate * this.sampleBytes;
    this.minSendBytes = Math.max(1, Math.round((this.bytesPerSec * (options.sendIntervalMs ?? 40)) / 1000));
    this.replayPiece = Math.max(this.sampleBytes, Math.floor(this.bytesPerSec / 4 / this.sampleBytes) * this.sampleBytes);
    this.timeline = new CallTimeline(this.bytesPerSec);
    this.ring = new ReplayBuffer(Math.ceil((options.maxReplaySec ?? 30) * this.bytesPerSec), this.bytesPerSec);
    this.reconnect = {
      maxAttempts: options.reconnect?.maxAttempts ?? 5,
      initialDelayMs: options.reconnect?.initialDelayMs ?? 250,
      maxDelayMs: options.reconnect?.maxDelayMs ?? 4000,
      resetAfterMs: options.reconnect?.resetAfterMs ?? 5000,
    };
    this.connectArgs = deepgramConnectArgs(options, session.input);
  }

  on<K extends SttEventName>(event: K, listener: SttListener<K>): () => void {
    return this.events.on(event, listener);
  }

  /** Seconds of caller audio accepted so far (what Deepgram bills once; replays are not counted). */
  get audioSec(): number {
    return this.ring.end / this.bytesPerSec;
  }

  connect(): Promise<void> {
    if (this.connectPromise) return this.connectPromise;
    this.connectPromise = new Promise<void>((resolve, reject) => (this.connectSettle = { resolve, reject }));
    this.connectPromise.catch(() => {}); // reported through the 'error' event as well
    const tickMs = (this.options.keepAliveIntervalMs ?? 5000) / 2;
    this.keepAliveTimer = setInterval(() => this.keepAliveTick(), tickMs);
    this.keepAliveTimer.unref();
    void this.openConnection(0);
    return this.connectPromise;
  }

  sendAudio(chunk: Uint8Array, atSec?: number): void {
    if (this.closeRequested || this.state === 'closed' || this.state === 'failed' || chunk.length === 0) return;
    const pos = this.ring.end;
    this.timeline.note(pos, atSec);
    this.ring.push(chunk);
    const conn = this.conn;
    if (conn && conn.sentPos <= pos && this.ring.end - conn.sentPos >= this.minSendBytes) this.sendPending(conn);
  }

  /** Sends the audio this connection has not had yet as one message (it is live, i.e. caught up after replay). */
  private sendPending(conn: Connection): void {
    const socket = conn.socket;
    if (this.state !== 'open' || !socket || !conn.live || conn.sentPos >= this.ring.end) return;
    try {
      this.ring.forEach(conn.sentPos, Infinity, (piece) => socket.sendMedia(piece));
      conn.sentPos = this.ring.end;
      this.activity = true;
    } catch {
      // The socket is closing; its close event triggers a reconnect that replays this audio.
    }
  }

  finalize(): void {
    if (this.state === 'closed' || this.state === 'failed') return;
    this.finalizePos = this.ring.end;
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

  close(timeoutMs = this.options.closeTimeoutMs ?? 3000): Promise<SttCloseResult> {
    if (this.closePromise) return this.closePromise;
    this.closeRequested = true;
    this.closePromise = new Promise<SttCloseResult>((resolve) => (this.closeDone = resolve));
    if (this.state === 'idle' || this.state === 'closed' || this.state === 'failed') {
      this.finish(false);
      return this.closePromise;
    }
    const conn = this.conn;
    if (this.state === 'open' && conn) this.sendCloseStream(conn);
    // Otherwise CloseStream goes out right after the (re)connection has replayed the buffered audio.
    this.closeTimer = setTimeout(() => {
      this.log.warn({ timeoutMs }, 'deepgram: final results did not arrive in time; closing');
      this.finish(false);
    }, timeoutMs);
    return this.closePromise;
  }

  abort(): void {
    if (this.state === 'closed') return;
    this.finish(false);
    this.connectSettle?.reject(
      new SttError('session aborted before connecting', { callId: this.callId, provider: PROVIDER, fatal: false }),
    );
  }

  // ── connections ─────────────────────────────────────────────────────────────────────────────────

  private async openConnection(attempt: number): Promise<void> {
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
    conn.basePos = Math.max(this.committedPos, this.ring.start);
    conn.sentPos = conn.basePos;
    conn.replayHorizonSec = this.heardUntilSec;
    const replayedSec = (this.ring.end - conn.basePos) / this.bytesPerSec;
    const socket = conn.socket;
    this.state = 'open';
    try {
      this.ring.forEach(conn.basePos, this.replayPiece, (piece) => socket.sendMedia(piece));
      conn.sentPos = this.ring.end;
      conn.live = true;
      this.activity = true;
      if (this.finalizePos > this.committedPos) socket.sendFinalize({ type: 'Finalize' });
    } catch {
      return; // closed while replaying; the close event reconnects
    }
    if (this.closeRequested) this.sendCloseStream(conn);
    if (!this.everOpened) {
      this.everOpened = true;
      this.log.debug({ replayedSec }, 'deepgram: connected');
      this.connectSettle?.resolve();
      this.events.emit('open', {});
    } else {
      this.log.info({ attempt: conn.attempt, replayedSec }, 'deepgram: reconnected');
      this.events.emit('reconnected', { attempt: conn.attempt, replayedSec });
    }
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
    if (conn !== this.conn || this.state === 'closed' || this.state === 'failed') return;
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
    if (cause.fatal) return this.fail(cause);
    if (conn.opened && (conn.gotResults || performance.now() - conn.openedAt >= this.reconnect.resetAfterMs)) {
      this.failures = 0;
    }
    this.failures++;
    if (this.failures > this.reconnect.maxAttempts) {
      return this.fail(
        new SttError(`gave up after ${this.reconnect.maxAttempts} reconnect attempts; last: ${cause.message}`, {
          callId: this.callId,
          provider: PROVIDER,
          fatal: true,
          closeCode: cause.closeCode,
          closeReason: cause.closeReason,
          httpStatus: cause.httpStatus,
          cause,
        }),
      );
    }
    const base = Math.min(this.reconnect.maxDelayMs, this.reconnect.initialDelayMs * 2 ** (this.failures - 1));
    const delayMs = Math.round(base * (1 + Math.random() * 0.2));
    this.log.warn({ err: cause, attempt: this.failures, delayMs }, 'deepgram: connection lost; reconnecting');
    this.events.emit('error', cause);
    this.events.emit('reconnecting', { attempt: this.failures, delayMs, cause });
    this.state = 'waiting';
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.openConnection(this.failures);
    }, delayMs);
  }

  private fail(error: SttError): void {
    this.log.error({ err: error }, 'deepgram: session failed');
    this.finish(false);
    this.state = 'failed';
    this.events.emit('error', error);
    this.connectSettle?.reject(error);
  }

  /** Ends the session: timers off, socket closed, a pending close() resolved. */
  private finish(flushed: boolean): void {
    if (this.state === 'closed' || this.state === 'failed') return;
    this.state = 'closed';
    clearInterval(this.keepAliveTimer);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.closeTimer);
    const conn = this.conn;
    if (conn) {
      conn.ended = true;
      try {
        conn.socket?.close();
      } catch {
        // already closed
      }
    }
    this.closeDone?.({ audioSec: this.audioSec, flushed, requestId: conn?.requestId });
    this.closeDone = undefined;
  }

  private get finished(): boolean {
    return this.state === 'closed' || this.state === 'failed';
  }

  private keepAliveTick(): void {
    if (this.activity) {
      this.activity = false;
      return;
    }
    this.keepAlive();
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
    const base = conn.basePos / this.bytesPerSec;
    if (type === 'Results') {
      this.onResults(conn, message as ResultsMessage, base);
    } else if (type === 'SpeechStarted') {
      const sec = base + Number((message as { timestamp?: unknown }).timestamp ?? 0);
      // Audio a previous connection already heard was replayed: its speech start was reported then.
      if (sec < conn.replayHorizonSec) return;
      this.heardUntilSec = Math.max(this.heardUntilSec, sec);
      this.events.emit('speechStarted', { atSec: this.timeline.callSec(sec) });
    } else if (type === 'UtteranceEnd') {
      const sec = base + Number((message as { last_word_end?: unknown }).last_word_end ?? 0);
      if (sec <= this.lastUtteranceEndSec + 0.01) return;
      this.lastUtteranceEndSec = sec;
      this.events.emit('utteranceEnd', { lastWordEndSec: this.timeline.callSec(sec) });
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
      const committedSec = this.committedPos / this.bytesPerSec;
      if (this.committedPos > 0 && endSec <= committedSec + 0.0005) return; // already finalised (replayed audio)
      const pos = Math.floor((endSec * this.bytesPerSec) / this.sampleBytes) * this.sampleBytes;
      if (pos > this.committedPos) this.committedPos = pos;
      if (this.committedPos >= this.finalizePos) this.finalizePos = -1;
      this.ring.dropBefore(Math.min(this.committedPos, conn.sentPos));
    }
    const alt = r.channel?.alternatives?.[0];
    const words: SttWord[] = (alt?.words ?? []).map((w) => ({
      word: w.word,
      punctuated: w.punctuated_word ?? w.word,
      startSec: this.timeline.callSec(base + w.start),
      endSec: this.timeline.callSec(base + w.end),
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
      startSec: this.timeline.callSec(startSec),
      endSec: this.timeline.callSec(endSec),
      words,
    });
  }
}
