/**
 * One Twilio Media Stream: the emulator connects to our server's WebSocket as Twilio does and speaks the
 * documented protocol.
 *
 * To our server: `connected`, `start` (SIDs, tracks, customParameters, mediaFormat), a `media` frame every
 * 20 ms (base64 μ-law; `sequenceNumber`, `chunk`, `timestamp` as strings), `dtmf` (track `inbound_track`),
 * `mark` echoes once the audio before them played, and `stop` before the carrier closes.
 *
 * From our server (two-way `<Connect><Stream>` only): `media` (queued and played at real-time rate), `mark`,
 * `clear` (drops queued audio; pending marks are echoed as well when `clearEchoesMarks` is on, as Twilio
 * does). Anything else — or any message on a one-way `<Start><Stream>` — is recorded as error 31951/31924
 * and otherwise ignored, as Twilio logs such errors to the debugger without closing the stream.
 */
import type WebSocket from 'ws';
import type { Logger } from '../../../log.ts';
import type { StreamRecord } from '../../../sandbox/carriers/shared/call-record.ts';
import type { CallMedia, MediaPlayer, MediaTap } from '../../../sandbox/carriers/shared/call-media.ts';
import { twilioSid } from './ids.ts';
import { MarkLedger } from '../../../sandbox/carriers/shared/mark-ledger.ts';
import { nowMs } from '../../../sandbox/carriers/shared/media-clock.ts';
import { PlayoutBuffer, type PendingMark } from '../../../sandbox/carriers/shared/playout-buffer.ts';
import { countReceived, newStreamRecord, openSocket } from '../../../sandbox/carriers/shared/stream-socket.ts';
import { twilioSignature } from './signature.ts';
import type { StreamSpec } from './twiml.ts';

/** What a stream needs from its call. */
export interface TwilioStreamHost {
  accountSid: string;
  callSid: string;
  authToken: string;
  media: CallMedia;
  clearEchoesMarks: boolean;
  log: Logger;
  protocolError(code: number, message: string, raw?: string): void;
  /** The stream's statusCallback events (stream-started / stream-stopped / stream-error). */
  streamEvent(spec: StreamSpec, streamSid: string, event: 'stream-started' | 'stream-stopped' | 'stream-error', error?: string): void;
}

export type StreamEnd = 'server-closed' | 'carrier-closed' | 'failed';

const HANDSHAKE_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 2_000;

/** The URL Twilio connects to: the markup URL without its query string (Twilio drops it). */
export function streamConnectUrl(url: string): string {
  const at = url.search(/[?#]/);
  return at < 0 ? url : url.slice(0, at);
}

export class TwilioMediaStream implements MediaTap, MediaPlayer {
  readonly streamSid = twilioSid('MZ');
  readonly record: StreamRecord;
  readonly playout = new PlayoutBuffer();
  private readonly marks: MarkLedger;
  /** Resolves when the stream is over. */
  readonly done: Promise<StreamEnd>;
  private resolveDone!: (end: StreamEnd) => void;
  private ws: WebSocket | null = null;
  private sequence = 0;
  private inboundChunk = 0;
  private outboundChunk = 0;
  private startedAt = 0;
  private stopping = false;
  private readonly twoWay: boolean;
  private readonly sendsInbound: boolean;
  private readonly sendsOutbound: boolean;

  constructor(
    private readonly host: TwilioStreamHost,
    readonly spec: StreamSpec,
    readonly mode: 'connect' | 'fork',
  ) {
    this.twoWay = mode === 'connect';
    this.sendsInbound = this.twoWay || spec.track !== 'outbound_track';
    this.sendsOutbound = !this.twoWay && spec.track !== 'inbound_track';
    this.record = newStreamRecord(this.streamSid, spec.url, streamConnectUrl(spec.url), spec.parameters, this.playout);
    this.marks = new MarkLedger(this.record.marks);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Connects and starts streaming; resolves false when the handshake failed (the stream is then done). */
  async open(): Promise<boolean> {
    const { host } = this;
    const url = this.record.url;
    if (this.record.url !== this.spec.url) {
      host.log.debug({ requested: this.spec.url }, 'stream URL query string dropped, as Twilio does');
    }
    const headers = {
      'User-Agent': 'Twilio.TmeWs/1.0',
      'X-Twilio-Signature': twilioSignature(host.authToken, url, {}),
    };
    const result = await openSocket(url, headers, HANDSHAKE_TIMEOUT_MS);
    if ('error' in result) {
      this.record.handshakeError = result.error;
      this.record.closedAt = nowMs();
      host.protocolError(31920, `Stream - WebSocket - Handshake Error: ${result.error}`);
      host.streamEvent(this.spec, this.streamSid, 'stream-error', result.error);
      this.resolveDone('failed');
      return false;
    }
    if (this.stopping) {
      result.ws.close(1000);
      this.resolveDone('carrier-closed');
      return false;
    }
    const ws = result.ws;
    this.ws = ws;
    this.record.connectedAt = nowMs();
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('close', (code) => this.onClose(code));
    this.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    this.startedAt = nowMs();
    this.send({
      event: 'start',
      sequenceNumber: this.nextSequence(),
      start: {
        accountSid: host.accountSid,
        streamSid: this.streamSid,
        callSid: host.callSid,
        tracks: this.tracks(),
        customParameters: { ...this.spec.parameters },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
      streamSid: this.streamSid,
    });
    host.streamEvent(this.spec, this.streamSid, 'stream-started');
    host.media.attach(this);
    if (this.twoWay) host.media.setPlayer(this);
    return true;
  }

  /** The carrier ends the stream (call over, redirected, `<Stop>`): `stop`, then close. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    const ws = this.ws;
    if (!ws) return;
    this.detach();
    if (ws.readyState === ws.OPEN) {
      this.send({
        event: 'stop',
        sequenceNumber: this.nextSequence(),
        stop: { accountSid: this.host.accountSid, callSid: this.host.callSid },
        streamSid: this.streamSid,
      });
      ws.close(1000);
      // Don't wait on a server that never answers the close handshake.
      const timer = setTimeout(() => ws.terminate(), CLOSE_TIMEOUT_MS);
      timer.unref();
      ws.once('close', () => clearTimeout(timer));
    }
  }

  /** Sends a key press from the callee (two-way streams only, as on Twilio). */
  sendDtmf(digit: string): void {
    if (!this.twoWay || !this.isOpen()) return;
    this.record.dtmf.push({ digit, at: nowMs() });
    this.record.sent.dtmf++;
    this.send({
      event: 'dtmf',
      streamSid: this.streamSid,
      sequenceNumber: this.nextSequence(),
      dtmf: { track: 'inbound_track', digit },
    });
  }

  isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === this.ws.OPEN && !this.stopping;
  }

  onFrames(said: Uint8Array, played: Uint8Array, tickTime: number): void {
    if (!this.isOpen()) return;
    const timestamp = String(Math.max(0, Math.round(tickTime - this.startedAt)));
    if (this.sendsInbound) {
      this.record.sent.media++;
      this.send({
        event: 'media',
        sequenceNumber: this.nextSequence(),
        media: { track: 'inbound', chunk: String(++this.inboundChunk), timestamp, payload: Buffer.from(said).toString('base64') },
        streamSid: this.streamSid,
      });
    }
    if (this.sendsOutbound) {
      this.record.sent.media++;
      this.send({
        event: 'media',
        sequenceNumber: this.nextSequence(),
        media: { track: 'outbound', chunk: String(++this.outboundChunk), timestamp, payload: Buffer.from(played).toString('base64') },
        streamSid: this.streamSid,
      });
    }
  }

  marksReached(marks: PendingMark[], tickTime: number): void {
    for (const mark of marks) this.ackMark(mark.name, tickTime, 'played');
  }

  private ackMark(name: string, at: number, outcome: 'played' | 'cleared'): void {
    this.marks.settle(name, outcome, this.isOpen() ? at : null);
    if (!this.isOpen()) return;
    this.record.sent.acks++;
    this.send({ event: 'mark', sequenceNumber: this.nextSequence(), streamSid: this.streamSid, mark: { name } });
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const at = nowMs();
    const text = data.toString('utf8');
    if (isBinary) {
      countReceived(this.record, '(binary)');
      this.host.protocolError(31951, 'Stream - Protocol - Invalid Message: binary frame (Twilio expects JSON text)');
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      countReceived(this.record, '(invalid)');
      this.host.protocolError(31951, 'Stream - Protocol - Invalid Message: not JSON', text);
      return;
    }
    const event = typeof message === 'object' && message !== null ? (message as { event?: unknown }).event : undefined;
    countReceived(this.record, typeof event === 'string' ? event : '(none)');
    if (!this.twoWay) {
      this.host.protocolError(31924, `Stream - WebSocket - Protocol Error: "${String(event)}" sent on a one-way <Start><Stream>`, text);
      return;
    }
    const msg = message as { event?: unknown; streamSid?: unknown; media?: { payload?: unknown }; mark?: { name?: unknown } };
    if (event === 'media' || event === 'mark' || event === 'clear') {
      if (msg.streamSid !== this.streamSid) {
        this.host.protocolError(
          31951,
          `Stream - Protocol - Invalid Message: streamSid ${JSON.stringify(msg.streamSid)} is not ${this.streamSid}`,
          text,
        );
        return;
      }
    }
    switch (event) {
      case 'media': {
        const payload = msg.media?.payload;
        if (typeof payload !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(payload)) {
          this.host.protocolError(31951, 'Stream - Protocol - Invalid Message: media.payload is not base64', text);
          return;
        }
        const bytes = Buffer.from(payload, 'base64');
        if (bytes.subarray(0, 4).toString('latin1') === 'RIFF') {
          this.host.protocolError(31924, 'Stream - WebSocket - Protocol Error: media payload has a WAV header (send raw audio/x-mulaw)');
        }
        this.record.received.audioMessages++;
        this.record.received.botAudioBytes += bytes.length;
        this.playout.enqueueAudio(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), at);
        return;
      }
      case 'mark': {
        const name = msg.mark?.name;
        if (typeof name !== 'string') {
          this.host.protocolError(31951, 'Stream - Protocol - Invalid Message: mark.name missing', text);
          return;
        }
        this.marks.add(name, at);
        this.playout.enqueueMark(name, at);
        return;
      }
      case 'clear': {
        const { droppedBytes, pendingMarks } = this.playout.clear();
        this.record.clears.push({ at, droppedBytes, pendingMarks: pendingMarks.map((m) => m.name) });
        for (const mark of pendingMarks) {
          if (this.host.clearEchoesMarks) this.ackMark(mark.name, at, 'cleared');
          else this.marks.settle(mark.name, 'cleared', null);
        }
        return;
      }
      default:
        this.host.protocolError(
          31924,
          `Stream - WebSocket - Protocol Error: unsupported event ${JSON.stringify(event)} (only media, mark and clear)`,
          text,
        );
    }
  }

  private onClose(code: number): void {
    this.record.closedAt = nowMs();
    this.record.closeCode = code;
    this.record.closedBy = this.stopping ? 'carrier' : 'server';
    this.detach();
    this.host.streamEvent(this.spec, this.streamSid, 'stream-stopped');
    this.resolveDone(this.stopping ? 'carrier-closed' : 'server-closed');
  }

  private detach(): void {
    this.host.media.detach(this);
    this.host.media.clearPlayer(this);
  }

  private tracks(): string[] {
    if (this.twoWay) return ['inbound'];
    if (this.spec.track === 'both_tracks') return ['inbound', 'outbound'];
    return this.spec.track === 'outbound_track' ? ['outbound'] : ['inbound'];
  }

  private nextSequence(): string {
    return String(++this.sequence);
  }

  private send(message: object): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== ws.OPEN) return;
    this.record.sent.total++;
    ws.send(JSON.stringify(message));
  }
}
