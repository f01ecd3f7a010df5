import type { Logger } from '../../log.ts';
import { silentLogger } from '../../log.ts';
import { ConnectionItems, type TranscriptionItem } from './openai-realtime-items.ts';
import { RealtimeEventTranslator } from './openai-realtime-events.ts';
import {
  MIN_COMMIT_MS,
  OPENAI_STT_PROVIDER,
  describeConnectionEnd,
  openAIInputFormatFor,
  transcriptionSessionUpdate,
  transcriptionUrl,
  type OpenAISttOptions,
  type RealtimeConnectionEnd,
} from './openai-realtime-protocol.ts';
import { RealtimeSocket, type RealtimeEventJson } from './openai-realtime-socket.ts';
import { OutgoingAudio } from './outgoing-audio.ts';
import { ReconnectPolicy } from './reconnect-policy.ts';
import type { SttCloseResult, SttEventName, SttInputFormat, SttListener, SttService, SttSession, SttSessionOptions } from './stt-service.ts';
import { SttError, SttEvents } from './stt-service.ts';

export type { OpenAISttOptions } from './openai-realtime-protocol.ts';
export { DEFAULT_OPENAI_STT_MODEL } from './openai-realtime-protocol.ts';

const PROVIDER = OPENAI_STT_PROVIDER;

interface Connection {
  socket: RealtimeSocket | null;
  attempt: number;
  items: ConnectionItems;
  /** Stream position up to which audio was appended on this connection. */
  sentPos: number;
  /** Replay is done: new audio goes out as it accumulates. */
  live: boolean;
  /** `session.updated` arrived: the transcription session is configured. */
  ready: boolean;
  openedAt: number;
  gotResults: boolean;
  replayedSec: number;
  /** Stream position previous connections had already reported events up to when this one started replaying. */
  replayHorizonPos: number;
  sessionUpdateId: string;
  /** close() is waiting for this connection's outstanding transcriptions. */
  flushing: boolean;
  ended: boolean;
}

/**
 * OpenAI Realtime transcription (`gpt-4o-transcribe` by default, `gpt-4o-mini-transcribe` selectable) as an
 * {@link SttService}. Wire format and why there is no SDK client: openai-realtime-protocol.ts.
 *
 * 8 kHz μ-law is sent as `audio/pcmu` without decoding or resampling. Results: each delta is an interim
 * transcript of its item (the text so far), `completed` the final; a final committed by server VAD has
 * `speechFinal`, one that answers {@link finalize} has `fromFinalize`. OpenAI sends no word timings, so `words` is
 * empty and a result spans its item's audio. Finalize commits the input buffer — with server VAD only while VAD
 * has an utterance open (otherwise the server has committed it already); without turn detection whenever at
 * least 100 ms are uncommitted.
 *
 * Reconnection mirrors the Deepgram session: every byte not yet covered by a completed transcription is kept
 * and replayed to a new connection after a drop (so no words are lost), events of replayed audio that an
 * earlier connection already reported are not repeated, and a pending finalize is repeated after the replay.
 */
export class OpenAIRealtimeSttService implements SttService {
  readonly provider = PROVIDER;

  constructor(readonly options: OpenAISttOptions = {}) {}

  inputFormatFor(source: SttInputFormat): SttInputFormat {
    return openAIInputFormatFor(source);
  }

  createSession(options: SttSessionOptions): OpenAIRealtimeSttSession {
    return new OpenAIRealtimeSttSession(this.options, options);
  }
}

export class OpenAIRealtimeSttSession implements SttSession {
  readonly callId: string;
  readonly input: SttInputFormat;
  private readonly log: Logger;
  private readonly events = new SttEvents();
  private readonly audio: OutgoingAudio;
  private readonly minSendBytes: number;
  private readonly serverVad: boolean;
  private readonly translator: RealtimeEventTranslator;
  private readonly reconnect: ReconnectPolicy;

  private state: 'idle' | 'connecting' | 'open' | 'waiting' | 'closed' | 'failed' = 'idle';
  private conn: Connection | null = null;
  private everOpened = false;
  private eventSeq = 0;
  /** Every byte before this is covered by a completed transcription. */
  private transcribedPos = 0;
  /** Stream position of an unanswered finalize (-1: none). */
  private finalizePos = -1;
  private activity = false;
  private closeRequested = false;
  private keepAliveTimer: ReturnType<typeof setInterval> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  private closeDone: ((result: SttCloseResult) => void) | undefined;
  private closePromise: Promise<SttCloseResult> | undefined;
  private connectPromise: Promise<void> | undefined;
  private connectSettle: { resolve: () => void; reject: (error: SttError) => void } | undefined;
  private requestId: string | undefined;

  constructor(
    private readonly options: OpenAISttOptions,
    session: SttSessionOptions,
  ) {
    this.callId = session.callId;
    this.input = session.input;
    this.log = (session.log ?? silentLogger()).child({ callId: session.callId, provider: PROVIDER });
    this.audio = new OutgoingAudio(session.input, options.maxReplaySec ?? 30);
    this.minSendBytes = Math.max(1, Math.round((this.audio.bytesPerSec * (options.sendIntervalMs ?? 40)) / 1000));
    const turnDetection = options.turnDetection === undefined ? { type: 'server_vad' as const } : options.turnDetection;
    this.serverVad = turnDetection !== null;
    this.translator = new RealtimeEventTranslator({
      callId: this.callId,
      audio: this.audio,
      events: this.events,
      log: this.log,
      language: options.language ?? 'en',
      silenceMs: turnDetection?.type === 'server_vad' ? (turnDetection.silence_duration_ms ?? 500) : 500,
    });
    this.reconnect = new ReconnectPolicy(options.reconnect);
  }

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
    this.keepAliveTimer = setInterval(() => this.keepAliveTick(), (this.options.keepAliveIntervalMs ?? 10_000) / 2);
    this.keepAliveTimer.unref();
    this.openConnection(0);
    return this.connectPromise;
  }

  sendAudio(chunk: Uint8Array, atSec?: number): void {
    if (this.closeRequested || this.finished || chunk.length === 0) return;
    const pos = this.audio.push(chunk, atSec);
    const conn = this.conn;
    if (conn && conn.sentPos <= pos && this.audio.end - conn.sentPos >= this.minSendBytes) this.sendPending(conn);
  }

  finalize(): void {
    if (this.finished) return;
    this.finalizePos = this.audio.end;
    const conn = this.conn;
    if (this.state !== 'open' || !conn?.live) return; // repeated after the (re)connection's replay
    this.sendPending(conn);
    if (!this.serverVad || conn.items.hasOpenSpeech) this.commitIfAudio(conn);
    else this.finalizePos = -1; // server VAD has committed the utterance itself
  }

  /** A WebSocket ping: OpenAI has no keep-alive message, but idle sockets through proxies need traffic. */
  keepAlive(): void {
    if (this.state !== 'open' || !this.conn?.socket) return;
    this.sendPending(this.conn);
    this.conn.socket.ping();
    this.activity = true;
  }

  close(timeoutMs = this.options.closeTimeoutMs ?? 3000): Promise<SttCloseResult> {
    if (this.closePromise) return this.closePromise;
    this.closeRequested = true;
    this.closePromise = new Promise<SttCloseResult>((resolve) => (this.closeDone = resolve));
    if (this.state === 'idle' || this.finished) {
      this.finish(false);
      return this.closePromise;
    }
    const conn = this.conn;
    if (this.state === 'open' && conn?.live) this.startFlush(conn);
    // Otherwise the flush starts right after the (re)connection has replayed the buffered audio.
    this.closeTimer = setTimeout(() => {
      this.log.warn({ timeoutMs }, 'openai stt: transcriptions did not arrive in time; closing');
      this.finish(false);
    }, timeoutMs);
    return this.closePromise;
  }

  abort(): void {
    if (this.state === 'closed') return;
    this.finish(false);
    this.connectSettle?.reject(new SttError('session aborted before connecting', { callId: this.callId, provider: PROVIDER, fatal: false }));
  }

  // ── connections ─────────────────────────────────────────────────────────────────────────────────

  private openConnection(attempt: number): void {
    this.state = 'connecting';
    const apiKey = this.options.apiKey ?? process.env.OPENAI_API_KEY;
    if (!apiKey) {
      this.fail(new SttError('no OpenAI API key (set OPENAI_API_KEY)', { callId: this.callId, provider: PROVIDER, fatal: true }));
      return;
    }
    const conn: Connection = {
      socket: null,
      attempt,
      items: new ConnectionItems(0, () => 0),
      sentPos: 0,
      live: false,
      ready: false,
      openedAt: 0,
      gotResults: false,
      replayedSec: 0,
      replayHorizonPos: 0,
      sessionUpdateId: this.nextEventId('session'),
      flushing: false,
      ended: false,
    };
    this.conn = conn;
    conn.socket = new RealtimeSocket(
      { url: transcriptionUrl(this.options.baseUrl), apiKey, connectTimeoutMs: this.options.connectTimeoutMs ?? 5000, tls: this.options.tls },
      {
        open: () => this.onOpen(conn),
        event: (event) => this.onEvent(conn, event),
        end: (end) => this.onConnectionEnd(conn, { ...end, ready: conn.ready }),
      },
    );
  }

  /** Configures the session, then replays what no completed transcription covers yet. */
  private onOpen(conn: Connection): void {
    const socket = conn.socket;
    if (conn !== this.conn || conn.ended || !socket) return;
    conn.openedAt = performance.now();
    const basePos = Math.max(this.transcribedPos, this.audio.start);
    conn.items = new ConnectionItems(basePos, (ms) => this.audio.posAfter(basePos, ms));
    conn.sentPos = basePos;
    conn.replayHorizonPos = this.translator.heardUntilPos;
    conn.replayedSec = (this.audio.end - basePos) / this.audio.bytesPerSec;
    this.state = 'open';
    // The server applies events in order, so audio may follow the update at once.
    if (!socket.send(transcriptionSessionUpdate(this.options, this.input, conn.sessionUpdateId))) return;
    this.audio.forEach(basePos, this.audio.replayPiece, (piece) => socket.appendAudio(piece));
    conn.sentPos = this.audio.end;
    conn.live = true;
    this.activity = true;
    if (this.finalizePos > this.transcribedPos) this.commitIfAudio(conn);
    if (this.closeRequested) this.startFlush(conn);
  }

  private onConnectionEnd(conn: Connection, end: RealtimeConnectionEnd): void {
    if (conn.ended) return;
    conn.ended = true;
    if (conn !== this.conn || this.finished) return;
    // Anything but our own close is a drop — even while flushing: reconnect, replay, commit again.
    const cause = describeConnectionEnd(end, { callId: this.callId, provider: PROVIDER, connectTimeoutMs: this.options.connectTimeoutMs ?? 5000 });
    if (cause.fatal) return this.fail(cause);
    const delayMs = this.reconnect.onDrop(conn);
    if (delayMs === undefined) {
      return this.fail(
        new SttError(`gave up after ${this.reconnect.maxAttempts} reconnect attempts; last: ${cause.message}`, {
          callId: this.callId,
          provider: PROVIDER,
          fatal: true,
          closeCode: cause.closeCode,
          closeReason: cause.closeReason,
          httpStatus: cause.httpStatus,
          providerCode: cause.providerCode,
          cause,
        }),
      );
    }
    this.log.warn({ err: cause, attempt: this.reconnect.failures, delayMs }, 'openai stt: connection lost; reconnecting');
    this.events.emit('error', cause);
    this.events.emit('reconnecting', { attempt: this.reconnect.failures, delayMs, cause });
    this.state = 'waiting';
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.openConnection(this.reconnect.failures);
    }, delayMs);
  }

  private fail(error: SttError): void {
    this.log.error({ err: error }, 'openai stt: session failed');
    this.finish(false);
    this.state = 'failed';
    this.events.emit('error', error);
    this.connectSettle?.reject(error);
  }

  /** Ends the session: timers off, socket closed, a pending close() resolved. */
  private finish(flushed: boolean): void {
    if (this.finished) return;
    this.state = 'closed';
    clearInterval(this.keepAliveTimer);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.closeTimer);
    const conn = this.conn;
    if (conn) {
      conn.ended = true;
      conn.socket?.close();
    }
    this.closeDone?.({ audioSec: this.audioSec, flushed, ...(this.requestId ? { requestId: this.requestId } : {}) });
    this.closeDone = undefined;
  }

  private get finished(): boolean {
    return this.state === 'closed' || this.state === 'failed';
  }

  // ── sending ─────────────────────────────────────────────────────────────────────────────────────

  /** Appends the audio this (live) connection has not had yet. */
  private sendPending(conn: Connection): void {
    const socket = conn.socket;
    if (this.state !== 'open' || !socket || !conn.live || conn.sentPos >= this.audio.end) return;
    let sent = true;
    this.audio.forEach(conn.sentPos, Infinity, (piece) => {
      sent &&= socket.appendAudio(piece);
    });
    // A socket that is closing drops it; its close event reconnects and the replay covers this audio.
    if (sent) conn.sentPos = this.audio.end;
    this.activity = true;
  }

  /** Commits the server's input buffer when it holds enough audio for OpenAI to accept the commit. */
  private commitIfAudio(conn: Connection): void {
    const uncommittedMs = ((conn.sentPos - conn.items.bufferStartPos) / this.audio.bytesPerSec) * 1000;
    if (uncommittedMs < MIN_COMMIT_MS) {
      if (conn.items.outstanding === 0) this.finalizePos = -1; // nothing left to transcribe
      return;
    }
    const eventId = this.nextEventId('commit');
    if (conn.socket?.send({ type: 'input_audio_buffer.commit', event_id: eventId })) conn.items.commitSent(eventId, conn.sentPos);
  }

  /** close(): commit what is left, then wait until every item is transcribed. */
  private startFlush(conn: Connection): void {
    this.sendPending(conn);
    this.commitIfAudio(conn);
    conn.flushing = true;
    this.checkFlushed(conn);
  }

  private checkFlushed(conn: Connection): void {
    if (conn.flushing && conn.items.outstanding === 0) this.finish(true);
  }

  private keepAliveTick(): void {
    if (this.activity) {
      this.activity = false;
      return;
    }
    this.keepAlive();
  }

  private nextEventId(kind: string): string {
    return `evt_sb_${kind}_${++this.eventSeq}`;
  }

  // ── server events ───────────────────────────────────────────────────────────────────────────────

  private onEvent(conn: Connection, event: RealtimeEventJson): void {
    if (conn !== this.conn || conn.ended || this.finished) return;
    const outcome = this.translator.translate(conn, event);
    switch (outcome.kind) {
      case 'sessionCreated':
        this.requestId = outcome.id ?? this.requestId;
        break;
      case 'ready':
        this.onReady(conn);
        break;
      case 'results':
        conn.gotResults = true;
        break;
      case 'itemDone':
        conn.gotResults = true;
        this.onItemDone(conn, outcome.item);
        break;
      case 'commitRefused':
        if (conn.items.outstanding === 0) this.finalizePos = -1;
        this.checkFlushed(conn);
        break;
      case 'fatal':
        this.fail(outcome.error);
        break;
      default:
        break;
    }
  }

  private onReady(conn: Connection): void {
    if (conn.ready) return;
    conn.ready = true;
    if (!this.everOpened) {
      this.everOpened = true;
      this.log.debug({ replayedSec: conn.replayedSec }, 'openai stt: connected');
      this.connectSettle?.resolve();
      this.events.emit('open', this.requestId ? { requestId: this.requestId } : {});
    } else {
      this.log.info({ attempt: conn.attempt, replayedSec: conn.replayedSec }, 'openai stt: reconnected');
      this.events.emit('reconnected', { attempt: conn.attempt, replayedSec: conn.replayedSec });
    }
  }

  /** A completed or failed item: audio before the done prefix is transcribed for good and leaves the replay buffer. */
  private onItemDone(conn: Connection, item: TranscriptionItem): void {
    const end = conn.items.takeDonePrefix();
    if (end !== undefined && end > this.transcribedPos) {
      this.transcribedPos = end;
      this.audio.dropBefore(Math.min(end, conn.sentPos));
    }
    if (item.byClient && this.finalizePos >= 0 && this.finalizePos <= (item.endPos ?? 0) && conn.items.outstanding === 0) this.finalizePos = -1;
    this.checkFlushed(conn);
  }
}
