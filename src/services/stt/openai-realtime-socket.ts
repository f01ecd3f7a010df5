import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { RealtimeClientEvent, RealtimeError } from 'openai/resources/realtime/realtime';
import type { RealtimeConnectionEnd } from './openai-realtime-protocol.ts';

/** A server event as parsed JSON: `type` always, the rest as the event defines it. */
export type RealtimeEventJson = { type: string } & Record<string, unknown>;

export interface RealtimeSocketOptions {
  url: string;
  apiKey: string;
  connectTimeoutMs: number;
  tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean } | undefined;
}

export interface RealtimeSocketHandlers {
  open(): void;
  event(event: RealtimeEventJson): void;
  /** Exactly once, after the socket is gone (refused, failed, dropped or closed). */
  end(end: Omit<RealtimeConnectionEnd, 'ready'>): void;
}

/**
 * One WebSocket to the Realtime API: Bearer auth, JSON frames, and an end report that keeps what OpenAI said
 * when it refused the upgrade (its JSON `{error}` body, e.g. 401 `invalid_api_key`).
 */
export class RealtimeSocket {
  private readonly ws: WebSocket;
  private readonly report: Omit<RealtimeConnectionEnd, 'ready'> = {};
  private ended = false;

  constructor(options: RealtimeSocketOptions, handlers: RealtimeSocketHandlers) {
    this.ws = new WebSocket(options.url, {
      headers: { Authorization: `Bearer ${options.apiKey}` },
      handshakeTimeout: options.connectTimeoutMs,
      perMessageDeflate: false,
      ...(options.tls?.ca !== undefined ? { ca: options.tls.ca } : {}),
      ...(options.tls?.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.tls.rejectUnauthorized } : {}),
    });
    this.ws.on('open', () => handlers.open());
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) return; // the API sends JSON text only
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(data));
      } catch {
        return;
      }
      if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { type?: unknown }).type === 'string') {
        handlers.event(parsed as RealtimeEventJson);
      }
    });
    this.ws.on('unexpected-response', (_req, res: IncomingMessage) => this.onRefused(res));
    this.ws.on('error', (error) => {
      this.report.error ??= error;
    });
    this.ws.on('close', (code, reason) => {
      // 1006 after a refused upgrade or a failed connect is not a close the server sent.
      if (!this.report.rejected && (code !== 1006 || !this.report.error)) {
        this.report.close = { code, reason: reason.toString() };
      }
      if (this.ended) return;
      this.ended = true;
      handlers.end(this.report);
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a client event; false when the socket is not open (its close event follows). */
  send(event: RealtimeClientEvent): boolean {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(event));
    return true;
  }

  /** `input_audio_buffer.append` with the bytes base64-encoded. */
  appendAudio(bytes: Uint8Array): boolean {
    const audio = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    return this.send({ type: 'input_audio_buffer.append', audio });
  }

  ping(): void {
    if (this.isOpen) this.ws.ping();
  }

  close(): void {
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else if (this.isOpen) this.ws.close(1000);
  }

  private onRefused(res: IncomingMessage): void {
    const chunks: Buffer[] = [];
    const finish = () => {
      let error: Partial<RealtimeError> | undefined;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: Partial<RealtimeError> };
        error = body.error;
      } catch {
        // not JSON: the status alone says enough
      }
      this.report.rejected = { status: res.statusCode ?? 0, ...(error ? { error } : {}) };
      this.ws.terminate(); // aborts the handshake: error + close follow
    };
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', finish);
    res.on('error', finish);
  }
}
