import type { Logger } from '../../log.ts';
import { silentLogger } from '../../log.ts';
import { OutgoingAudio } from './outgoing-audio.ts';
import { ReconnectPolicy, type ReconnectSettings } from './reconnect-policy.ts';
import type { SttCloseResult, SttEventName, SttInputFormat, SttListener, SttSession, SttSessionOptions } from './stt-service.ts';
import { SttError, SttEvents } from './stt-service.ts';

/** What the shared lifecycle needs to know of a provider's connection. */
export interface SessionConnection {
  attempt: number;
  /** Stream position up to which audio went out on this connection. */
  sentPos: number;
  ended: boolean;
}

/** Options every reconnecting provider session takes (each provider documents its own defaults). */
export interface ReconnectingSessionSettings {
  provider: string;
  /** Prefix of this session's log lines, e.g. `deepgram`. */
  logName: string;
  maxReplaySec: number;
  sendIntervalMs: number;
  keepAliveIntervalMs: number;
  closeTimeoutMs: number;
  reconnect: ReconnectSettings | undefined;
  /** Logged when close() gives up waiting for the last results. */
  flushTimeoutMessage: string;
}

/**
 * The lifecycle a streaming STT session shares across providers: it keeps the audio it accepted for replay,
 * batches sends, keeps idle sockets alive, reconnects with backoff after a drop (or fails when the policy
 * gives up), and bounds close() with a timeout. A provider subclass opens connections, replays on open,
 * speaks its wire protocol and decides when a flush is complete.
 */
export abstract class ReconnectingSttSession<C extends SessionConnection> implements SttSession {
  readonly callId: string;
  readonly input: SttInputFormat;
  protected readonly log: Logger;
  protected readonly events = new SttEvents();
  protected readonly audio: OutgoingAudio;
  protected readonly reconnect: ReconnectPolicy;
  /** Pending audio is sent once this many bytes have accumulated (see `sendIntervalMs`). */
  private readonly minSendBytes: number;

  protected state: 'idle' | 'connecting' | 'open' | 'waiting' | 'closed' | 'failed' = 'idle';
  protected conn: C | null = null;
  protected closeRequested = false;
  /** Something went out since the last keep-alive tick. */
  protected activity = false;
  private everOpened = false;
  private keepAliveTimer: ReturnType<typeof setInterval> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  private closeDone: ((result: SttCloseResult) => void) | undefined;
  private closePromise: Promise<SttCloseResult> | undefined;
  private connectPromise: Promise<void> | undefined;
  private connectSettle: { resolve: () => void; reject: (error: SttError) => void } | undefined;

  constructor(
    session: SttSessionOptions,
    private readonly settings: ReconnectingSessionSettings,
  ) {
    this.callId = session.callId;
    this.input = session.input;
    this.log = (session.log ?? silentLogger()).child({ callId: session.callId, provider: settings.provider });
    this.audio = new OutgoingAudio(session.input, settings.maxReplaySec);
    this.minSendBytes = Math.max(1, Math.round((this.audio.bytesPerSec * settings.sendIntervalMs) / 1000));
    this.reconnect = new ReconnectPolicy(settings.reconnect);
  }

  /** Opens connection number `attempt` (0 = first); its end must reach {@link reconnectOrFail}. */
  protected abstract openConnection(attempt: number): void | Promise<void>;
  /** Sends the audio this connection has not had yet, if it is live. */
  protected abstract sendPending(conn: C): void;
  /** close() on an open connection: ask the provider for the last results; call finish(true) when they are in. */
  protected abstract startFlush(conn: C): void;
  /** Closes the connection's socket (the session is over). */
  protected abstract closeSocket(conn: C): void;
  /** The provider's request id, reported by close(). */
  protected abstract get requestId(): string | undefined;
  abstract finalize(): void;
  abstract keepAlive(): void;

  on<K extends SttEventName>(event: K, listener: SttListener<K>): () => void {
    return this.events.on(event, listener);
  }

  /** Seconds of caller audio accepted so far (replays not counted). */
  get audioSec(): number {
    return this.audio.end / this.audio.bytesPerSec;
  }

  connect(): Promise<void> {
    if (this.connectPromise) return this.connectPromise;
    this.connectPromise = new Promise<void>((resolve, reject) => (this.connectSettle = { resolve, reject }));
    this.connectPromise.catch(() => {}); // reported through the 'error' event as well
    this.keepAliveTimer = setInterval(() => this.keepAliveTick(), this.settings.keepAliveIntervalMs / 2);
    this.keepAliveTimer.unref();
    void this.openConnection(0);
    return this.connectPromise;
  }

  sendAudio(chunk: Uint8Array, atSec?: number): void {
    if (this.closeRequested || this.finished || chunk.length === 0) return;
    const pos = this.audio.push(chunk, atSec);
    const conn = this.conn;
    if (conn && conn.sentPos <= pos && this.audio.end - conn.sentPos >= this.minSendBytes) this.sendPending(conn);
  }

  close(timeoutMs = this.settings.closeTimeoutMs): Promise<SttCloseResult> {
    if (this.closePromise) return this.closePromise;
    this.closeRequested = true;
    this.closePromise = new Promise<SttCloseResult>((resolve) => (this.closeDone = resolve));
    if (this.state === 'idle' || this.finished) {
      this.finish(false);
      return this.closePromise;
    }
    const conn = this.conn;
    if (this.state === 'open' && conn) this.startFlush(conn);
    // Otherwise the flush starts right after the (re)connection has replayed the buffered audio.
    this.closeTimer = setTimeout(() => {
      this.log.warn({ timeoutMs }, this.settings.flushTimeoutMessage);
      this.finish(false);
    }, timeoutMs);
    return this.closePromise;
  }

  abort(): void {
    if (this.state === 'closed') return;
    this.finish(false);
    this.connectSettle?.reject(
      new SttError('session aborted before connecting', { callId: this.callId, provider: this.settings.provider, fatal: false }),
    );
  }

  protected get finished(): boolean {
    return this.state === 'closed' || this.state === 'failed';
  }

  /** The connection is usable: resolve connect() the first time, report a reconnection after that. */
  protected announceOpen(conn: C, replayedSec: number): void {
    const name = this.settings.logName;
    if (!this.everOpened) {
      this.everOpened = true;
      this.log.debug({ replayedSec }, `${name}: connected`);
      this.connectSettle?.resolve();
      const requestId = this.requestId;
      this.events.emit('open', requestId ? { requestId } : {});
    } else {
      this.log.info({ attempt: conn.attempt, replayedSec }, `${name}: reconnected`);
      this.events.emit('reconnected', { attempt: conn.attempt, replayedSec });
    }
  }

  /**
   * A connection dropped for `cause`: fail if the cause is fatal or the policy has given up, otherwise
   * reconnect after the policy's backoff (the new connection replays the audio).
   */
  protected reconnectOrFail(cause: SttError, health: { ready: boolean; gotResults: boolean; openedAt: number }): void {
    if (cause.fatal) return this.fail(cause);
    const delayMs = this.reconnect.onDrop(health);
    if (delayMs === undefined) {
      return this.fail(
        new SttError(`gave up after ${this.reconnect.maxAttempts} reconnect attempts; last: ${cause.message}`, {
          callId: this.callId,
          provider: this.settings.provider,
          fatal: true,
          closeCode: cause.closeCode,
          closeReason: cause.closeReason,
          ...(cause.httpStatus !== null ? { httpStatus: cause.httpStatus } : {}),
          ...(cause.providerCode !== null ? { providerCode: String(cause.providerCode) } : {}),
          cause,
        }),
      );
    }
    const attempt = this.reconnect.failures;
    this.log.warn({ err: cause, attempt, delayMs }, `${this.settings.logName}: connection lost; reconnecting`);
    this.events.emit('error', cause);
    this.events.emit('reconnecting', { attempt, delayMs, cause });
    this.state = 'waiting';
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.openConnection(attempt);
    }, delayMs);
  }

  protected fail(error: SttError): void {
    this.log.error({ err: error }, `${this.settings.logName}: session failed`);
    this.finish(false);
    this.state = 'failed';
    this.events.emit('error', error);
    this.connectSettle?.reject(error);
  }

  /** Ends the session: timers off, socket closed, a pending close() resolved. */
  protected finish(flushed: boolean): void {
    if (this.finished) return;
    this.state = 'closed';
    clearInterval(this.keepAliveTimer);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.closeTimer);
    const conn = this.conn;
    if (conn) {
      conn.ended = true;
      this.closeSocket(conn);
    }
    const requestId = this.requestId;
    this.closeDone?.({ audioSec: this.audioSec, flushed, ...(requestId ? { requestId } : {}) });
    this.closeDone = undefined;
  }

  private keepAliveTick(): void {
    if (this.activity) {
      this.activity = false;
      return;
    }
    this.keepAlive();
  }
}
