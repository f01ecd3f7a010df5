import type { ChannelAudioFormat } from '../audio/channel-audio-format.ts';
import { WebSocket, type RawData } from 'ws';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type { AudioPayload } from '../pipeline/audio-payload.ts';
import { rawToString, type DetectedMediaStream } from './detect-media-stream.ts';
import type { CarrierMediaSerializer, InboundMediaEvent } from './media-serializer.ts';
import { MediaParseError } from './media-serializer.ts';
import type { ChannelCloseInfo, MediaChannel, MediaChannelHandler, MediaInboundStats } from './media-channel.ts';
import { MediaFormatError, formatProblem } from './stream-format.ts';
import { systemClock, type Clock, type ClockTimer } from '../util/clock.ts';

/** Detecting a peer that vanished (half-open TCP: no FIN, no data) and media that stopped flowing. */
export interface MediaWatchdogOptions {
  /**
   * WebSocket ping period; a ping still unanswered when the next is due ends the stream as lost (0 turns pings off).
   * @default 5000
   */
  pingIntervalMs?: number;
  /**
   * Carriers stream the caller's audio continuously (silence included); none for this long ends the stream as
   * lost (0 turns the watchdog off).
   * @default 10000
   */
  inboundTimeoutMs?: number;
  /** Time source for both (a `ManualClock` in unit tests). @default systemClock */
  clock?: Clock;
}

/** One DTMF key as carriers report it. */
const DTMF_DIGIT = /^[0-9*#A-Da-d]$/;

/** @see MediaWatchdogOptions */
export const DEFAULT_PING_INTERVAL_MS = 5000;
/** @see MediaWatchdogOptions */
export const DEFAULT_INBOUND_TIMEOUT_MS = 10_000;

export interface WebSocketMediaChannelOptions extends MediaWatchdogOptions {
  /** Our call id, on every log line. @default the carrier call id */
  callId?: string;
  /** @default silentLogger() */
  logger?: Logger;
  /** After `close()`, wait this long for the peer's close frame, then drop the TCP connection. @default 2000 */
  closeTimeoutMs?: number;
  /**
   * Events kept while no handler is set yet (audio arriving between detection and pipeline start). Beyond this the
   * oldest are dropped; 500 is 10 s of 20 ms frames.
   * @default 500
   */
  maxPendingEvents?: number;
  /** Parse errors logged in full per call; later ones are only counted (a broken peer can send 50/s). @default 10 */
  maxLoggedParseErrors?: number;
}

type PendingEvent = InboundMediaEvent | { type: 'closed'; info: ChannelCloseInfo };

/**
 * A carrier media WebSocket (Twilio Media Streams, Plivo audio streams) as a {@link MediaChannel}. Starts from the
 * result of `detectMediaStream` on the same socket, taking over the messages detection buffered so none is lost.
 */
export class WebSocketMediaChannel implements MediaChannel {
  readonly carrier: string;
  readonly carrierCallId: string;
  readonly streamId: string;
  readonly format: ChannelAudioFormat;
  /** From the carrier's protocol: whether it echoes marks dropped by a clear (see {@link MediaChannel}). */
  readonly echoesMarksOnClear: boolean;
  readonly sendDtmf?: (digits: string) => void;
  /**
   * Keys are played as tones in the audio: what a carrier's stream-level DTMF event (Plivo `sendDTMF`) does at the
   * far end is not documented as reaching an IVR, while tones always do (and are in the recording).
   */
  readonly dtmfInBand = true;
  /** Parse errors seen on this socket. */
  parseErrors = 0;
  /** Why the media broke (see {@link MediaChannel.failure}). */
  failure: string | undefined;
  private framesIn = 0;
  private eventsIn = 0;
  private readonly dropped: Record<string, number> = {};

  private readonly socket: WebSocket;
  private readonly serializer: CarrierMediaSerializer;
  private readonly logger: Logger;
  private readonly closeTimeoutMs: number;
  private readonly maxPendingEvents: number;
  private readonly maxLoggedParseErrors: number;
  private handler: MediaChannelHandler | undefined;
  private pending: PendingEvent[] = [];
  private finished = false;
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly clock: Clock;
  private readonly pingIntervalMs: number;
  private readonly inboundTimeoutMs: number;
  private watchdogTimer: ClockTimer | undefined;
  private lastInboundAt: number;
  private lastPingAt: number;
  private awaitingPong = false;

  constructor(socket: WebSocket, stream: DetectedMediaStream, options: WebSocketMediaChannelOptions = {}) {
    // A stream whose start announced a format we cannot run must not get this far (see stream-format.ts).
    if (stream.formatProblem) throw new MediaFormatError(stream.formatProblem);
    const problem = formatProblem(stream.format, stream.protocol.supportedFormats ?? [stream.format]);
    if (problem) throw new MediaFormatError(problem);
    this.socket = socket;
    this.carrier = stream.carrier;
    this.carrierCallId = stream.carrierCallId;
    this.streamId = stream.streamId;
    this.format = stream.format;
    this.echoesMarksOnClear = stream.protocol.echoesMarksOnClear;
    this.serializer = stream.protocol.createSerializer(stream);
    this.logger = (options.logger ?? silentLogger()).child({
      callId: options.callId ?? stream.carrierCallId,
      carrier: stream.carrier,
      carrierCallId: stream.carrierCallId,
    });
    this.closeTimeoutMs = options.closeTimeoutMs ?? 2000;
    this.maxPendingEvents = options.maxPendingEvents ?? 500;
    this.maxLoggedParseErrors = options.maxLoggedParseErrors ?? 10;
    const serializer = this.serializer;
    if (serializer.dtmf) {
      const build = serializer.dtmf.bind(serializer);
      this.sendDtmf = (digits: string) => this.send(build(digits));
    }

    this.clock = options.clock ?? systemClock;
    this.pingIntervalMs = options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    this.inboundTimeoutMs = options.inboundTimeoutMs ?? DEFAULT_INBOUND_TIMEOUT_MS;
    this.lastInboundAt = this.lastPingAt = this.clock.now();

    // Take over synchronously: the listeners go on in the same turn detection stops buffering.
    const buffered = stream.release();
    socket.on('message', this.onMessage);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
    socket.on('pong', this.onPong);
    this.startWatchdog();
    for (const message of buffered) this.onMessage(message.data, message.isBinary);
    if (socket.readyState === WebSocket.CLOSING || socket.readyState === WebSocket.CLOSED) {
      this.finish({ by: 'remote', reason: 'media socket closed before the channel started' });
    }
  }

  setHandler(handler: MediaChannelHandler): void {
    this.handler = handler;
    const pending = this.pending;
    this.pending = [];
    for (const event of pending) {
      if (event.type === 'closed') handler.closed(event.info);
      else this.dispatch(event, handler);
    }
  }

  sendAudio(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    this.send(this.serializer.media(bytes));
  }

  sendMark(name: string): void {
    this.send(this.serializer.mark(name));
  }

  clear(): void {
    this.send(this.serializer.clear());
  }

  /** Close the media stream (not the call). The handler hears `{by: 'local'}` at once. */
  close(reason: string): void {
    if (this.socket.readyState === WebSocket.CONNECTING) this.socket.terminate();
    else if (this.socket.readyState === WebSocket.OPEN) {
      // Close reasons are limited to 123 bytes.
      this.socket.close(1000, Buffer.from(reason, 'utf8').subarray(0, 123).toString('utf8'));
      if (!this.closeTimer) {
        this.closeTimer = setTimeout(() => this.socket.terminate(), this.closeTimeoutMs);
        this.closeTimer.unref();
      }
    }
    this.finish({ by: 'local', reason });
  }

  /** Audio frames accepted and messages dropped per reason, so far. */
  inboundStats(): MediaInboundStats {
    return { frames: this.framesIn, events: this.eventsIn, dropped: { ...this.dropped } };
  }

  /** True once the channel reported `closed`. */
  get isClosed(): boolean {
    return this.finished;
  }

  private send(text: string): void {
    // After close there is nobody to play it to; dropping silently avoids ws's "send after close" errors.
    if (this.finished || this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.send(text);
  }

  private readonly onMessage = (data: RawData, isBinary: boolean): void => {
    if (this.finished) return;
    this.awaitingPong = false; // any data proves the peer is there
    const event: InboundMediaEvent = isBinary
      ? { type: 'invalid', error: new MediaParseError(this.carrier, 'binary-frame', 'binary frame on a JSON media socket') }
      : this.serializer.parse(rawToString(data));
    if (event.type === 'media' && event.track === 'inbound') this.lastInboundAt = this.clock.now();
    if (event.type === 'stop') {
      this.finish({ by: 'remote', reason: event.reason ? `stream stopped: ${event.reason}` : 'stream stopped' });
      return;
    }
    const handler = this.handler;
    if (handler) this.dispatch(event, handler);
    else this.queue(event);
  };

  private readonly onClose = (code: number, reason: Buffer): void => {
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    const text = reason.length > 0 ? `: ${reason.toString('utf8')}` : '';
    this.finish({ by: 'remote', reason: `media socket closed (code ${code})${text}` });
  };

  private readonly onError = (error: Error): void => {
    this.logger.warn({ err: error.message }, 'media socket error');
    this.failure = `media socket error: ${error.message}`;
    this.finish({ by: 'error', reason: this.failure });
    this.socket.terminate();
  };

  private readonly onPong = (): void => {
    this.awaitingPong = false;
  };

  private startWatchdog(): void {
    const periods = [this.pingIntervalMs, this.inboundTimeoutMs].filter((ms) => ms > 0);
    if (periods.length === 0 || this.finished) return;
    // Checked four times per shortest period: a lost stream is noticed within a quarter period of its limit.
    const checkMs = Math.max(50, Math.min(...periods) / 4);
    this.watchdogTimer = this.clock.setInterval(this.checkWatchdog, checkMs);
    this.watchdogTimer.unref?.();
  }

  private readonly checkWatchdog = (): void => {
    if (this.finished) return;
    const now = this.clock.now();
    if (this.inboundTimeoutMs > 0 && now - this.lastInboundAt >= this.inboundTimeoutMs) {
      this.lose(`media lost: no inbound audio for ${Math.round(this.inboundTimeoutMs / 1000)} s`);
      return;
    }
    if (this.pingIntervalMs > 0 && now - this.lastPingAt >= this.pingIntervalMs) {
      if (this.awaitingPong) {
        this.lose(`media lost: no answer to a ping within ${Math.round(this.pingIntervalMs / 1000)} s`);
        return;
      }
      this.lastPingAt = now;
      this.awaitingPong = true;
      if (this.socket.readyState === WebSocket.OPEN) this.socket.ping();
    }
  };

  /** The peer or its media is gone: drop the connection (a half-open peer would never answer a close frame). */
  private lose(reason: string): void {
    this.logger.warn({ reason }, 'media lost');
    this.failure = reason;
    this.finish({ by: 'error', reason });
    this.socket.terminate();
  }

  private queue(event: PendingEvent): void {
    if (this.pending.length >= this.maxPendingEvents) {
      const oldest = this.pending.shift();
      if (oldest && oldest.type !== 'closed') this.drop('queue-full');
    }
    this.pending.push(event);
  }

  private finish(info: ChannelCloseInfo): void {
    if (this.finished) return;
    this.finished = true;
    this.clock.clearInterval(this.watchdogTimer);
    this.watchdogTimer = undefined;
    if (this.handler) this.handler.closed(info);
    else this.queue({ type: 'closed', info });
  }

  private dispatch(event: InboundMediaEvent, handler: MediaChannelHandler): void {
    switch (event.type) {
      case 'media':
        // `<Start><Stream track="both_tracks">` also streams our own audio back; only the caller's is input.
        if (event.track !== 'inbound') {
          this.drop('other-track');
          return;
        }
        if (event.audio.length === 0 || (this.format.encoding === 'pcm16' && event.audio.length % 2 !== 0)) {
          this.drop('bad-payload');
          return;
        }
        this.framesIn++;
        handler.audio(this.toPayload(event.audio));
        return;
      case 'mark':
        this.eventsIn++;
        handler.mark(event.name);
        return;
      case 'cleared':
        this.eventsIn++;
        handler.cleared?.();
        return;
      case 'dtmf':
        if (!DTMF_DIGIT.test(event.digit)) {
          this.drop('bad-dtmf');
          return;
        }
        this.eventsIn++;
        handler.dtmf(event.digit);
        return;
      case 'notice':
        this.eventsIn++;
        if (this.eventsIn <= this.maxLoggedParseErrors)
          this.logger.info({ event: event.event, detail: event.detail }, 'carrier media notice');
        return;
      case 'invalid':
        this.parseErrors++;
        this.drop(event.error.code);
        if (this.parseErrors <= this.maxLoggedParseErrors) {
          this.logger.warn({ code: event.error.code, event: event.error.event, err: event.error.message }, 'unparseable media message');
        }
        return;
      case 'stop': // handled in onMessage
        return;
      case 'connected':
      case 'start':
        // Detection consumed the real ones; a repeat carries nothing new.
        this.drop('repeated-start');
        return;
    }
  }

  private drop(reason: string): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
  }

  private toPayload(bytes: Buffer): AudioPayload {
    const { sampleRate } = this.format;
    if (this.format.encoding === 'pcm16') {
      // Int16Array needs an even byte offset; pooled small Buffers are 8-aligned, but copy if one is not.
      const aligned = bytes.byteOffset % 2 === 0 ? bytes : Buffer.from(bytes);
      return { sampleRate, channels: 1, pcm: new Int16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 1) };
    }
    return { sampleRate, channels: 1, mulaw: bytes };
  }
}
