import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

/** A real local WebSocket connection: `carrier` plays the carrier (client), `server` is our side. */
export interface WsPair {
  carrier: WebSocket;
  server: WebSocket;
  close(): Promise<void>;
}

export async function openWsPair(): Promise<WsPair> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const { port } = wss.address() as AddressInfo;
  const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const carrier = new WebSocket(`ws://127.0.0.1:${port}/ws/token`);
  await new Promise<void>((resolve, reject) => {
    carrier.once('open', resolve);
    carrier.once('error', reject);
  });
  const server = await serverSide;
  return {
    carrier,
    server,
    close: async () => {
      carrier.terminate();
      server.terminate();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** Resolves with the next `count` text messages the socket receives. */
export function nextMessages(socket: WebSocket, count: number): Promise<string[]> {
  return new Promise((resolve) => {
    const received: string[] = [];
    const onMessage = (data: Buffer): void => {
      received.push(data.toString('utf8'));
      if (received.length === count) {
        socket.off('message', onMessage);
        resolve(received);
      }
    };
    socket.on('message', onMessage);
  });
}

export function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (condition()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error('condition not met in time'));
      else setTimeout(check, 5);
    };
    check();
  });
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
