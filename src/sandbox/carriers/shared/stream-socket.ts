/** Opening a carrier media WebSocket (the carrier is the client) and the stream record both carriers fill. */
import WebSocket from 'ws';
import type { StreamRecord } from './call-record.ts';
import { nowMs } from './media-clock.ts';
import { PlayoutBuffer } from './playout-buffer.ts';

export function newStreamRecord(
  streamId: string,
  requestedUrl: string,
  url: string,
  parameters: Record<string, string>,
  playout: PlayoutBuffer,
): StreamRecord {
  return {
    streamId,
    requestedUrl,
    url,
    startedAt: nowMs(),
    connectedAt: null,
    closedAt: null,
    closedBy: null,
    closeCode: null,
    parameters,
    received: { total: 0, byEvent: {}, audioMessages: 0, botAudioBytes: 0 },
    sent: { total: 0, media: 0, dtmf: 0, acks: 0 },
    marks: [],
    clears: [],
    dtmf: [],
    serverDtmf: [],
    playout: playout.stats,
  };
}

/** Connects to `url`; resolves with the open socket or the handshake error. */
export function openSocket(
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ ws: WebSocket } | { error: string }> {
  return new Promise((resolve) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs, perMessageDeflate: false });
    } catch (error) {
      resolve({ error: error instanceof Error ? error.message : String(error) });
      return;
    }
    const onOpen = (): void => {
      cleanup();
      resolve({ ws });
    };
    const onError = (error: Error): void => {
      cleanup();
      ws.terminate();
      resolve({ error: error.message });
    };
    const onUnexpected = (_req: unknown, res: { statusCode?: number }): void => {
      cleanup();
      ws.terminate();
      resolve({ error: `HTTP ${res.statusCode ?? '?'} on WebSocket upgrade` });
    };
    const cleanup = (): void => {
      ws.off('open', onOpen);
      ws.off('error', onError);
      ws.off('unexpected-response', onUnexpected);
      // Errors after this point are handled by the stream (close follows).
      ws.on('error', () => {});
    };
    ws.once('open', onOpen);
    ws.once('error', onError);
    ws.once('unexpected-response', onUnexpected);
  });
}

/** Counts a message from our server in the stream record. */
export function countReceived(record: StreamRecord, event: string): void {
  record.received.total++;
  record.received.byEvent[event] = (record.received.byEvent[event] ?? 0) + 1;
}
