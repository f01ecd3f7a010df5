/**
 * One Plivo audio stream: the emulator connects to our server's WebSocket as Plivo does.
 *
 * To our server: `start` first (no `connected`; `sequenceNumber` a number, `extra_headers` a string), then a
 * `media` message every 20 ms (`chunk` a number, `timestamp` epoch-ms as a string; payload in the stream's
 * `contentType`: μ-law 8 kHz or little-endian 16-bit PCM at 8/16 kHz), `dtmf`, `playedStream` when the
 * audio before a checkpoint has played, `clearedAudio` after a clear. When the call ends Plivo just closes
 * the socket (a `stop` message first is optional, off by default).
 *
 * From our server (bidirectional streams only): `playAudio` (any length; played at real-time rate),
 * `checkpoint`, `clearAudio` (pending checkpoints then get no `playedStream`), `sendDTMF`.
 */
import type WebSocket from 'ws';
import { mulawDecode, mulawEncode } from '../../../audio/g711.ts';
import { StreamResampler } from '../../../audio/resampler.ts';
import type { Logger } from '../../../log.ts';
import type { StreamRecord } from '../../../sandbox/carriers/shared/call-record.ts';
import type { CallMedia, MediaPlayer, MediaTap } from '../../../sandbox/carriers/shared/call-media.ts';
import { uuid } from '../../../sandbox/carriers/shared/ids.ts';
import { MarkLedger } from '../../../sandbox/carriers/shared/mark-ledger.ts';
import { nowMs } from '../../../sandbox/carriers/shared/media-clock.ts';
import { PlayoutBuffer, type PendingMark } from '../../../sandbox/carriers/shared/playout-buffer.ts';
import { countReceived, newStreamRecord, openSocket } from '../../../sandbox/carriers/shared/stream-socket.ts';
import { extraHeadersString, type PlivoStreamSpec } from './plivo-xml.ts';
import { plivoSignatureHeaders } from './signature.ts';
import { pcm16FromBytes, pcm16ToBytes } from '../../../audio/pcm.ts';

export interface PlivoStreamHost {
  authId: string;
  authToken: string;
  callUuid: string;
  media: CallMedia;
  sendStopEvent: boolean;
  log: Logger;
  protocolError(code: number, message: string, raw?: string): void;
  streamEvent(spec: PlivoStreamSpec, streamId: string, event: 'StartStream' | 'StopStream' | 'DroppedStream', error?: string): void;
}

export type StreamEnd = 'server-closed' | 'carrier-closed' | 'failed';

/** Plivo documents no numeric codes for stream protocol errors. */
const NO_CODE = 0;
const HANDSHAKE_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 2_000;

/** The `ws(s)://` upgrade URL as Plivo's stream SDK reconstructs it for signature checks (`http(s)://`). */
function signedUpgradeUrl(url: string): string {
  return url.replace(/^ws(s?):/i, 'http$1:');
}

export class PlivoAudioStream implements MediaTap, MediaPlayer {
  readonly streamId = uuid();
  readonly record: StreamRecord;
  readonly playout = new PlayoutBuffer();
  private readonly marks: MarkLedger;
  readonly done: Promise<StreamEnd>;
  private resolveDone!: (end: StreamEnd) => void;
  private ws: WebSocket | null = null;
  private sequence = 0;
  private chunk = 0;
  private stopping = false;
  private readonly extraHeaders: string;
  private readonly encoding: 'audio/x-mulaw' | 'audio/x-l16';
  private readonly sampleRate: 8000 | 16000;
  private readonly upsamplers: Partial<Record<'inbound' | 'outbound', StreamResampler>> = {};
  private downsampler: StreamResampler | null = null;
  /** Format of the first playAudio; Plivo does not support switching. */
  private playFormat: string | null = null;

  constructor(
    private readonly host: PlivoStreamHost,
    readonly spec: PlivoStreamSpec,
  ) {
    this.extraHeaders = extraHeadersString(spec.extraHeaders);
    this.encoding = spec.contentType.startsWith('audio/x-mulaw') ? 'audio/x-mulaw' : 'audio/x-l16';
    this.sampleRate = spec.contentType.endsWith('16000') ? 16000 : 8000;
    const parameters: Record<string, string> = {};
    for (const pair of this.extraHeaders.split(';').filter(Boolean)) {
      const eq = pair.indexOf('=');
      parameters[eq < 0 ? pair : pair.slice(0, eq)] = eq < 0 ? '' : pair.slice(eq + 1);
    }
    this.record = newStreamRecord(this.streamId, spec.url, spec.url, parameters, this.playout);
    this.marks = new MarkLedger(this.record.marks);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  async open(): Promise<boolean> {
    const url = this.spec.url;
    const headers = {
      'User-Agent': 'PlivoStream/1.0',
      ...plivoSignatureHeaders('GET', signedUpgradeUrl(url), {}, this.host.authToken),
    };
    const result = await openSocket(url, headers, HANDSHAKE_TIMEOUT_MS);
    if ('error' in result) {
      this.record.handshakeError = result.error;
      this.record.closedAt = nowMs();
      this.host.protocolError(NO_CODE, `stream connect failed: ${result.error}`);
      this.host.streamEvent(this.spec, this.streamId, 'DroppedStream', result.error);
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
    this.send({
      event: 'start',
      sequenceNumber: this.nextSequence(),
      start: {
        callId: this.host.callUuid,
        streamId: this.streamId,
        accountId: this.host.authId,
        tracks: this.spec.audioTrack === 'both' ? ['inbound', 'outbound'] : [this.spec.audioTrack],
        mediaFormat: { encoding: this.encoding, sampleRate: this.sampleRate },
      },
      extra_headers: this.extraHeaders,
    });
    this.host.streamEvent(this.spec, this.streamId, 'StartStream');
    this.host.media.attach(this);
    if (this.spec.bidirectional) this.host.media.setPlayer(this);
    return true;
  }

  /** The carrier ends the stream (call over, stream timeout): optional `stop`, then close. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    const ws = this.ws;
    if (!ws) return;
    this.detach();
    if (ws.readyState === ws.OPEN) {
      if (this.host.sendStopEvent) {
        this.send({ event: 'stop', sequenceNumber: this.nextSequence(), streamId: this.streamId, reason: 'call ended' });
      }
      ws.close(1000);
      const timer = setTimeout(() => ws.terminate(), CLOSE_TIMEOUT_MS);
      timer.unref();
      ws.once('close', () => clearTimeout(timer));
    }
  }

  isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === this.ws.OPEN && !this.stopping;
  }

  sendDtmf(digit: string): void {
    if (!this.isOpen()) return;
    const at = nowMs();
    this.record.dtmf.push({ digit, at });
    this.record.sent.dtmf++;
    this.send({
      event: 'dtmf',
      sequenceNumber: this.nextSequence(),
      streamId: this.streamId,
      dtmf: { track: 'inbound', digit, timestamp: String(Math.round(at)) },
      extra_headers: this.extraHeaders,
    });
  }

  onFrames(said: Uint8Array, played: Uint8Array, tickTime: number): void {
    if (!this.isOpen()) return;
    const timestamp = String(Math.round(tickTime));
    if (this.spec.audioTrack !== 'outbound') this.sendMedia('inbound', said, timestamp);
    if (this.spec.audioTrack !== 'inbound') this.sendMedia('outbound', played, timestamp);
  }

  marksReached(marks: PendingMark[], tickTime: number): void {
    for (const mark of marks) {
      this.marks.settle(mark.name, 'played', this.isOpen() ? tickTime : null);
      if (!this.isOpen()) continue;
      this.record.sent.acks++;
      this.send({ event: 'playedStream', sequenceNumber: this.nextSequence(), streamId: this.streamId, name: mark.name });
    }
  }

  private sendMedia(track: 'inbound' | 'outbound', mulaw: Uint8Array, timestamp: string): void {
    let payload: Buffer;
    if (this.encoding === 'audio/x-mulaw') payload = Buffer.from(mulaw);
    else {
      const pcm = mulawDecode(mulaw);
      if (this.sampleRate === 16000) {
        const resampler = (this.upsamplers[track] ??= new StreamResampler(8000, 16000));
        payload = Buffer.from(pcm16ToBytes(resampler.process(pcm)));
      } else payload = Buffer.from(pcm16ToBytes(pcm));
    }
    this.record.sent.media++;
    this.send({
      event: 'media',
      sequenceNumber: this.nextSequence(),
      streamId: this.streamId,
      media: { track, timestamp, chunk: ++this.chunk, payload: payload.toString('base64') },
      extra_headers: this.extraHeaders,
    });
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const at = nowMs();
    const text = data.toString('utf8');
    if (isBinary) {
      countReceived(this.record, '(binary)');
      this.host.protocolError(NO_CODE, 'binary frame (Plivo expects JSON text)');
      return;
    }
    let message: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
      message = parsed as Record<string, unknown>;
    } catch {
      countReceived(this.record, '(invalid)');
      this.host.protocolError(NO_CODE, 'message is not a JSON object', text);
      return;
    }
    const event = message.event;
    countReceived(this.record, typeof event === 'string' ? event : '(none)');
    if (!this.spec.bidirectional) {
      this.host.protocolError(NO_CODE, `"${String(event)}" sent on a one-way stream (bidirectional="false")`, text);
      return;
    }
    if (message.streamId !== undefined && message.streamId !== this.streamId) {
      this.host.protocolError(NO_CODE, `streamId ${JSON.stringify(message.streamId)} is not ${this.streamId}`, text);
      return;
    }
    switch (event) {
      case 'playAudio':
        return this.onPlayAudio(message, at, text);
      case 'checkpoint': {
        const name = message.name;
        if (typeof name !== 'string') return this.host.protocolError(NO_CODE, 'checkpoint without a name', text);
        this.marks.add(name, at);
        this.playout.enqueueMark(name, at);
        return;
      }
      case 'clearAudio': {
        const { droppedBytes, pendingMarks } = this.playout.clear();
        this.record.clears.push({ at, droppedBytes, pendingMarks: pendingMarks.map((m) => m.name) });
        for (const mark of pendingMarks) this.marks.settle(mark.name, 'cleared', null);
        this.record.sent.acks++;
        this.send({ sequenceNumber: this.nextSequence(), event: 'clearedAudio', streamId: this.streamId });
        return;
      }
      case 'sendDTMF': {
        const digits = message.dtmf;
        if (typeof digits !== 'string' || !/^[0-9*#A-Da-d]+$/.test(digits)) {
          return this.host.protocolError(NO_CODE, 'sendDTMF.dtmf must be a string of DTMF digits', text);
        }
        this.record.serverDtmf.push({ digits, at });
        return;
      }
      default:
        this.host.protocolError(NO_CODE, `unsupported event ${JSON.stringify(event)}`, text);
    }
  }

  private onPlayAudio(message: Record<string, unknown>, at: number, text: string): void {
    const media = message.media as { contentType?: unknown; sampleRate?: unknown; payload?: unknown } | undefined;
    const contentType = media?.contentType;
    const sampleRate = media?.sampleRate;
    const payload = media?.payload;
    if (typeof payload !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(payload)) {
      return this.host.protocolError(NO_CODE, 'playAudio.media.payload is not base64', text);
    }
    const valid =
      (contentType === 'audio/x-mulaw' && sampleRate === 8000) ||
      (contentType === 'audio/x-l16' && (sampleRate === 8000 || sampleRate === 16000));
    if (!valid) {
      return this.host.protocolError(NO_CODE, `playAudio with unsupported ${String(contentType)} at ${String(sampleRate)} Hz`, text);
    }
    const format = `${contentType}/${sampleRate}`;
    if (this.playFormat === null) this.playFormat = format;
    else if (this.playFormat !== format) {
      this.host.protocolError(NO_CODE, `playAudio switched format from ${this.playFormat} to ${format} (unsupported)`);
    }
    const bytes = Buffer.from(payload, 'base64');
    let mulaw: Uint8Array;
    if (contentType === 'audio/x-mulaw') mulaw = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    else {
      if (bytes.length % 2 !== 0) this.host.protocolError(NO_CODE, 'playAudio L16 payload has an odd number of bytes');
      let pcm = pcm16FromBytes(bytes);
      if (sampleRate === 16000) {
        this.downsampler ??= new StreamResampler(16000, 8000);
        pcm = this.downsampler.process(pcm);
      }
      mulaw = mulawEncode(pcm);
    }
    this.record.received.audioMessages++;
    this.record.received.botAudioBytes += mulaw.length;
    this.playout.enqueueAudio(mulaw, at);
  }

  private onClose(code: number): void {
    this.record.closedAt = nowMs();
    this.record.closeCode = code;
    this.record.closedBy = this.stopping ? 'carrier' : 'server';
    this.detach();
    this.host.streamEvent(this.spec, this.streamId, 'StopStream');
    this.resolveDone(this.stopping ? 'carrier-closed' : 'server-closed');
  }

  private detach(): void {
    this.host.media.detach(this);
    this.host.media.clearPlayer(this);
  }

  private nextSequence(): number {
    return ++this.sequence;
  }

  private send(message: object): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== ws.OPEN) return;
    this.record.sent.total++;
    ws.send(JSON.stringify(message));
  }
}
