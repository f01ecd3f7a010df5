/**
 * The server-sent-event routes against a real store: list and per-call streams follow committed writes,
 * auth is the API's (Bearer) or a dashboard session cookie, and a client that stops reading is dropped
 * while the others keep receiving.
 */
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DashboardSessions, SESSION_COOKIE } from '../../../src/server/routes/dashboard.ts';
import { registerEventRoutes, type EventStreamOptions } from '../../../src/server/routes/events.ts';
import type { CallEvent, CallPage, CallRecord, CallSummary, CallTurn } from '../../../src/store/index.ts';
import { CallStore } from '../../../src/store/index.ts';
import { SseClient } from '../sse-client.ts';

const API_KEY = 'events-test-key-0123456789';

let store: CallStore;
let app: FastifyInstance;
let url: string;
let logLines: Array<Record<string, unknown>>;
const clients: SseClient[] = [];

async function startApp(
  apiKey: string | undefined,
  streams: EventStreamOptions = {},
  hooks: (app: FastifyInstance) => void = () => undefined,
): Promise<void> {
  logLines = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  store = CallStore.open({ dataDir: ':memory:' });
  app = Fastify({ loggerInstance: pino({ level: 'warn' }, sink) as FastifyBaseLogger });
  hooks(app);
  registerEventRoutes(app, { store, apiKey, eventStreams: streams });
  url = await app.listen({ port: 0, host: '127.0.0.1' });
}

async function open(path: string, headers: Record<string, string> = { authorization: `Bearer ${API_KEY}` }): Promise<SseClient> {
  const client = await SseClient.open(`${url}${path}`, headers);
  clients.push(client);
  return client;
}

const newCall = () => store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+15550100001' });

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await app.close();
  store.close();
});

describe('event streams', () => {
  beforeEach(() => startApp(API_KEY));

  it('GET /calls/events: the newest page first, then each call whose summary changes', async () => {
    const before = newCall();
    const list = await open('/calls/events');
    expect(list.status).toBe(200);
    const first = (await list.next((m) => m.event === 'calls')).data as CallPage;
    expect(first.calls.map((c) => c.id)).toEqual([before.id]);

    const created = newCall();
    const summary = (await list.next((m) => m.event === 'call' && (m.data as CallSummary).id === created.id)).data as CallSummary;
    expect(summary.status).toBe('queued');
    store.updateStatus(created.id, 'ringing');
    await list.next((m) => m.event === 'call' && (m.data as CallSummary).status === 'ringing');
    // Turns and events are not list material.
    store.addTurn(created.id, { role: 'user', text: 'Hello?' });
    store.addEvent(created.id, 'dtmf', { digit: '5' });
    store.updateStatus(created.id, 'in-progress');
    await list.next((m) => m.event === 'call' && (m.data as CallSummary).status === 'in-progress');
    expect(list.messages.map((m) => m.event)).toEqual(['calls', 'call', 'call', 'call']);
  });

  it('GET /calls/:id/events: a snapshot, then that call’s summary, turns and events as they commit', async () => {
    const call = newCall();
    const other = newCall();
    store.addTurn(call.id, { role: 'user', text: 'Hello?' });
    const stream = await open(`/calls/${call.id}/events`);
    const snapshot = (await stream.next((m) => m.event === 'snapshot')).data as CallRecord;
    expect(snapshot.id).toBe(call.id);
    expect(snapshot.turns.map((t) => t.text)).toEqual(['Hello?']);

    // What the call manager does: a batch per event-loop turn.
    store.batch(() => {
      store.addTurn(call.id, { role: 'assistant', text: 'Hi, this is the clinic calling about tomorrow.' });
      store.addEvent(call.id, 'tool.call', { toolName: 'confirm_appointment' });
      store.addEvent(other.id, 'elsewhere');
    });
    const turn = (await stream.next((m) => m.event === 'turn')).data as CallTurn;
    expect(turn).toMatchObject({ index: 1, role: 'assistant', text: 'Hi, this is the clinic calling about tomorrow.' });
    const event = (await stream.next((m) => m.event === 'event')).data as CallEvent;
    expect(event).toMatchObject({ type: 'tool.call', data: { toolName: 'confirm_appointment' } });

    store.updateTurn(call.id, 1, { heard: 'Hi, this is', interrupted: true });
    const patched = (await stream.next((m) => m.event === 'turn' && (m.data as CallTurn).interrupted === true)).data as CallTurn;
    expect(patched).toMatchObject({ index: 1, heard: 'Hi, this is' });

    store.updateStatus(call.id, 'completed');
    const ended = (await stream.next((m) => m.event === 'call')).data as CallSummary;
    expect(ended.status).toBe('completed');
    await stream.next((m) => m.event === 'event' && (m.data as CallEvent).type === 'status.changed');
    expect(stream.of('event').some((e) => (e as CallEvent).type === 'elsewhere')).toBe(false);
  });

  it('sends a change queued when a stream opens once: in the snapshot, not again after it', async () => {
    await app.close();
    store.close();
    // Written on the request's own tick, before its handler reads the snapshot: queued but not yet sent.
    await startApp(API_KEY, {}, (app) =>
      app.addHook('onRequest', async (request) => {
        if (request.url.endsWith('/events') && request.url !== '/calls/events')
          store.addEvent(request.url.split('/')[2] as string, 'raced');
      }),
    );
    const call = newCall();
    const list = await open('/calls/events'); // so the hub is listening and queues changes
    await list.next((m) => m.event === 'calls');
    const stream = await open(`/calls/${call.id}/events`);
    store.addEvent(call.id, 'after');
    await stream.next((m) => m.event === 'event' && (m.data as CallEvent).type === 'after');
    const snapshot = stream.of('snapshot')[0] as CallRecord;
    const seen = [...snapshot.events, ...(stream.of('event') as CallEvent[])].filter((e) => e.type === 'raced');
    expect(seen.length).toBe(1);
  });

  it('ends open streams when the server closes, so closing does not hang', async () => {
    const list = await open('/calls/events');
    await list.next((m) => m.event === 'calls');
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(2000);
    await expect.poll(() => list.ended).toBe(true);
  });

  it('answers 404 for an unknown call and 400 for a bad limit', async () => {
    const missing = await open('/calls/call_nope/events');
    expect(missing.status).toBe(404);
    const bad = await open('/calls/events?limit=100000');
    expect(bad.status).toBe(400);
  });

  it('takes the API key or a dashboard session cookie, nothing else', async () => {
    expect((await open('/calls/events', {})).status).toBe(401);
    expect((await open('/calls/events', { authorization: 'Bearer wrong-key-0123456789abcdef' })).status).toBe(403);
    expect((await open('/calls/events', { cookie: `${SESSION_COOKIE}=123.abc` })).status).toBe(401);
    const expired = new DashboardSessions(API_KEY, 1000, () => Date.now() - 10_000).issue().token;
    expect((await open('/calls/events', { cookie: `${SESSION_COOKIE}=${expired}` })).status).toBe(401);
    const otherKey = new DashboardSessions('some-other-key-0123456789').issue().token;
    expect((await open('/calls/events', { cookie: `${SESSION_COOKIE}=${otherKey}` })).status).toBe(401);
    const valid = new DashboardSessions(API_KEY).issue().token;
    expect((await open('/calls/events', { cookie: `theme=dark; ${SESSION_COOKIE}=${valid}` })).status).toBe(200);
    expect(JSON.stringify(logLines)).not.toContain(API_KEY);
    expect(logLines.some((l) => l.msg === 'request rejected: no API key and no valid dashboard session')).toBe(true);
  });
});

describe('event streams without an API key', () => {
  beforeEach(() => startApp(undefined));

  it('are open, like the API', async () => {
    expect((await open('/calls/events', {})).status).toBe(200);
  });
});

describe('a client that stops reading', () => {
  beforeEach(() => startApp(API_KEY, { maxBufferedBytes: 256 * 1024 }));

  it('is closed once its unsent data passes the limit; the store and other clients go on', async () => {
    const call = newCall();
    const reader = await open(`/calls/${call.id}/events`);
    await reader.next((m) => m.event === 'snapshot');

    // A raw socket that sends the request and then never reads.
    const stalled = connect({ host: '127.0.0.1', port: Number(new URL(url).port) });
    await new Promise<void>((resolve) => stalled.once('connect', resolve));
    stalled.write(`GET /calls/${call.id}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\n\r\n`);
    stalled.pause();
    const closed = new Promise<void>((resolve) => stalled.once('close', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 100));

    // ~24 MB of turns, more than the kernel's socket buffers hold, written a batch per event-loop turn.
    const text = 'x'.repeat(100_000);
    for (let i = 0; i < 240; i++) {
      store.addTurn(call.id, { role: 'user', text });
      await new Promise((resolve) => setImmediate(resolve));
    }
    store.addEvent(call.id, 'last');
    await reader.next((m) => m.event === 'event' && (m.data as CallEvent).type === 'last', 20_000);
    expect(reader.of('turn').length).toBe(240);

    const dropped = logLines.find((l) => l.msg === 'event stream client fell behind: closing it');
    expect(dropped).toMatchObject({ callId: call.id });
    expect(dropped?.unsentBytes).toBeGreaterThan(256 * 1024);
    stalled.resume(); // read what it was sent before the drop, then see the close
    stalled.on('data', () => undefined);
    await closed;
  }, 30_000);
});
