/**
 * Live call changes as server-sent events, fed by the store's change feed (no polling):
 *
 * - `GET /calls/events` — the call list. First `event: calls` with the newest page (`CallPage`, `?limit=`
 *   1–200, default 50), then `event: call` with a call's `CallSummary` each time it changes (created, status,
 *   carrier id, metadata, latency summary, recording).
 * - `GET /calls/:id/events` — one call. First `event: snapshot` with the whole `CallRecord`, then
 *   `event: call` (its `CallSummary`), `event: turn` (a `CallTurn`, added or changed: replace by `index`) and
 *   `event: event` (a `CallEvent`, appended). 404 for an unknown call.
 *
 * Same auth as the API (Bearer key), or the dashboard's session cookie (an `EventSource` cannot send headers).
 * Nothing is replayed on reconnect: a new connection starts with a new snapshot. A comment line every
 * `heartbeatMs` keeps idle connections open through proxies.
 *
 * The real-time path never waits on a client: changes are queued and sent on the next event-loop turn, and a
 * client whose unsent data passes `maxBufferedBytes` (it stopped reading, or reads too slowly) is closed.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CallChange } from '../../store/change-feed.ts';
import { changeFeedOf } from '../../store/change-feed.ts';
import type { CallStore } from '../../store/index.ts';
import { HttpError } from '../../errors.ts';
import { requireApiKeyOrSession } from './dashboard.ts';

export interface EventStreamOptions {
  /** Unsent bytes (beyond the first snapshot) at which a client counts as fallen behind and is closed. @default 1_048_576 */
  maxBufferedBytes?: number;
  /** Interval of keep-alive comments. @default 15_000 */
  heartbeatMs?: number;
  /** Open streams at most; more are refused with 503. @default 100 */
  maxClients?: number;
}

/** What the event routes read from the server's options. */
export interface EventRoutesOptions {
  store: CallStore;
  apiKey?: string | undefined;
  eventStreams?: EventStreamOptions | undefined;
}

const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).optional() });

interface StreamClient {
  res: ServerResponse;
  /** Undefined: the list stream. */
  callId: string | undefined;
  /** Unsent bytes allowed before the client counts as fallen behind. */
  budget: number;
  /** Changes already queued when the client joined (its snapshot includes them): skipped in the next send. */
  skip: number;
}

/** Open event streams and the one change-feed subscription that serves them all. */
class EventStreamHub {
  private readonly clients = new Set<StreamClient>();
  private queue: CallChange[] = [];
  private scheduled = false;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly store: CallStore,
    private readonly log: FastifyBaseLogger,
    private readonly limits: Required<EventStreamOptions>,
  ) {
    changeFeedOf(store, log).subscribe((change) => this.onChange(change));
    this.heartbeat = setInterval(() => this.broadcast(': keep-alive\n\n'), limits.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  get full(): boolean {
    return this.clients.size >= this.limits.maxClients;
  }

  /** Starts a stream on `res` with its first message (written now, so it precedes every change after it). */
  open(res: ServerResponse, callId: string | undefined, first: string): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const client: StreamClient = { res, callId, budget: this.limits.maxBufferedBytes + Buffer.byteLength(first), skip: this.queue.length };
    this.clients.add(client);
    res.on('close', () => this.clients.delete(client));
    res.on('error', () => this.clients.delete(client)); // a reset connection; 'close' follows
    res.write(`retry: 3000\n\n${first}`);
  }

  /** Ends every stream (server shutdown: open streams would otherwise keep it from closing). */
  close(): void {
    clearInterval(this.heartbeat);
    for (const client of this.clients) client.res.end();
    this.clients.clear();
  }

  private onChange(change: CallChange): void {
    if (this.clients.size === 0) return;
    this.queue.push(change);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.send());
    }
  }

  private send(): void {
    this.scheduled = false;
    const changes = this.queue;
    this.queue = [];
    // A call's summary is read when sent, so several changes to it in one batch need one message (at the last).
    const lastSummaryAt = new Map<string, number>();
    changes.forEach((change, i) => change.kind === 'call' && lastSummaryAt.set(change.callId, i));
    changes.forEach((change, i) => {
      if (change.kind === 'call' && lastSummaryAt.get(change.callId) !== i) return;
      const message = this.messageFor(change);
      if (message === undefined) return;
      for (const client of this.clients) {
        if (i < client.skip) continue;
        const wanted = client.callId === undefined ? change.kind === 'call' : client.callId === change.callId;
        if (wanted) this.write(client, message);
      }
    });
    for (const client of this.clients) client.skip = 0;
  }

  private messageFor(change: CallChange): string | undefined {
    switch (change.kind) {
      case 'call': {
        const summary = this.store.getCallSummary(change.callId);
        return summary && sseMessage('call', summary);
      }
      case 'turn':
        return sseMessage('turn', change.turn);
      case 'event':
        return sseMessage('event', change.event);
    }
  }

  private broadcast(message: string): void {
    for (const client of this.clients) this.write(client, message);
  }

  private write(client: StreamClient, message: string): void {
    if (client.res.destroyed || client.res.writableEnded) {
      this.clients.delete(client);
      return;
    }
    const pending = client.res.writableLength;
    if (pending > client.budget) {
      this.log.warn({ callId: client.callId, unsentBytes: pending }, 'event stream client fell behind: closing it');
      this.clients.delete(client);
      client.res.destroy();
      return;
    }
    client.res.write(message);
  }
}

function sseMessage(event: string, data: unknown): string {
  // JSON has no raw line breaks, so the whole object fits one `data:` line.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** `GET /calls/events` and `GET /calls/:id/events`. */
export function registerEventRoutes(app: FastifyInstance, options: EventRoutesOptions): void {
  const limits: Required<EventStreamOptions> = {
    maxBufferedBytes: options.eventStreams?.maxBufferedBytes ?? 1024 * 1024,
    heartbeatMs: options.eventStreams?.heartbeatMs ?? 15_000,
    maxClients: options.eventStreams?.maxClients ?? 100,
  };
  const hub = new EventStreamHub(options.store, app.log, limits);
  const preHandler = requireApiKeyOrSession(options.apiKey);
  app.addHook('preClose', async () => hub.close());

  const refuseWhenFull = () => {
    if (hub.full) throw new HttpError(503, 'too_many_streams', `at most ${limits.maxClients} event streams can be open`);
  };

  app.get('/calls/events', { preHandler }, async (request, reply) => {
    const query = listQuery.safeParse(request.query);
    if (!query.success) throw new HttpError(400, 'invalid_request', 'limit must be an integer from 1 to 200');
    const { limit } = query.data;
    refuseWhenFull();
    const page = options.store.listCalls({ limit: limit ?? 50 });
    reply.hijack();
    hub.open(reply.raw, undefined, sseMessage('calls', page));
  });

  app.get<{ Params: { id: string } }>('/calls/:id/events', { preHandler }, async (request, reply) => {
    const record = options.store.getCall(request.params.id);
    if (!record) throw new HttpError(404, 'call_not_found', `no call ${request.params.id}`);
    refuseWhenFull();
    reply.hijack();
    hub.open(reply.raw, record.id, sseMessage('snapshot', record));
  });
}
