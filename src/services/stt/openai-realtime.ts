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
import { ReconnectingSttSession } from './reconnecting-session.ts';
import type { SttInputFormat, SttService, SttSessionOptions } from './stt-service.ts';
import { SttError } from './stt-service.ts';

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

export class OpenAIRealtimeSttSession extends ReconnectingSttSession<Connection> {
  private readonly serverVad: boolean;
  private readonly translator: RealtimeEventTranslator;
  private eventSeq = 0;
  /** Every byte before this is covered by a completed transcription. */
  private transcribedPos = 0;
  /** Stream position of an unanswered finalize (-1: none). */
  private finalizePos = -1;
  private sessionId: string | undefined;

  constructor(
    private readonly options: OpenAISttOptions,
    session: SttSessionOptions,
  ) {
    super(session, {
      provider: PROVIDER,
      logName: 'openai stt',
      maxReplaySec: options.maxReplaySec ?? 30,
      sendIntervalMs: options.sendIntervalMs ?? 40,
      keepAliveIntervalMs: options.keepAliveIntervalMs ?? 10_000,
      closeTimeoutMs: options.closeTimeoutMs ?? 3000,
      reconnect: options.reconnect,
      flushTimeoutMessage: 'openai stt: transcriptions did not arrive in time; closing',
    });
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
  }

  /** The Realtime session id (`session.created`), reported as the request id. */
  protected get requestId(): string | undefined {
    return this.sessionId;
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

  // ── connections ─────────────────────────────────────────────────────────────────────────────────

  protected openConnection(attempt: number): void {
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
      {
        url: transcriptionUrl(this.options.baseUrl),
        apiKey,
        connectTimeoutMs: this.options.connectTimeoutMs ?? 5000,
        tls: this.options.tls,
      },
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
    const cause = describeConnectionEnd(end, {
      callId: this.callId,
      provider: PROVIDER,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 5000,
    });
    this.reconnectOrFail(cause, conn);
  }

  protected closeSocket(conn: Connection): void {
    conn.socket?.close();
  }

  // ── sending ─────────────────────────────────────────────────────────────────────────────────────

  /** Appends the audio this (live) connection has not had yet. */
  protected sendPending(conn: Connection): void {
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

  /** close(): commit what is left, then wait until every item is transcribed (after the replay, once live). */
  protected startFlush(conn: Connection): void {
    if (!conn.live) return;
    this.sendPending(conn);
    this.commitIfAudio(conn);
    conn.flushing = true;
    this.checkFlushed(conn);
  }

  private checkFlushed(conn: Connection): void {
    if (conn.flushing && conn.items.outstanding === 0) this.finish(true);
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
        this.sessionId = outcome.id ?? this.sessionId;
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
    this.announceOpen(conn, conn.replayedSec);
  }

  /** A completed or failed item: audio before the done prefix is transcribed for good and leaves the replay buffer. */
  private onItemDone(conn: Connection, item: TranscriptionItem): void {
    const end = conn.items.takeDonePrefix();
    if (end !== undefined && end > this.transcribedPos) {
      this.transcribedPos = end;
      this.audio.dropBefore(Math.min(end, conn.sentPos));
    }
    if (item.byClient && this.finalizePos >= 0 && this.finalizePos <= (item.endPos ?? 0) && conn.items.outstanding === 0)
      this.finalizePos = -1;
    this.checkFlushed(conn);
  }
}
