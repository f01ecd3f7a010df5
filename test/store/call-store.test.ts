import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallStore } from '../../src/store/index.ts';
import { CallStore as Store, CallStoreError, SCHEMA_VERSION } from '../../src/store/index.ts';
import { ManualClock, memoryStore, tempDir } from './helpers.ts';

function expectStoreError(fn: () => unknown, code: CallStoreError['code'], message?: RegExp): CallStoreError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CallStoreError);
    const e = error as CallStoreError;
    expect(e.code).toBe(code);
    if (message) expect(e.message).toMatch(message);
    return e;
  }
  throw new Error(`expected a ${code} error`);
}

describe('createCall / getCall', () => {
  let store: CallStore;
  afterEach(() => store.close());

  it('returns the full camelCase record with ISO timestamps and an initial status event', () => {
    const clock = new ManualClock();
    store = memoryStore(clock);
    const record = store.createCall({
      carrier: 'twilio',
      direction: 'outbound',
      to: '+15551230000',
      from: '+15559990000',
      agent: 'receptionist',
      metadata: { campaign: 'spring', attempt: 2 },
    });
    expect(record.id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(record).toEqual({
      id: record.id,
      carrier: 'twilio',
      direction: 'outbound',
      status: 'queued',
      to: '+15551230000',
      from: '+15559990000',
      metadata: { campaign: 'spring', attempt: 2 },
      agent: 'receptionist',
      carrierCallId: null,
      createdAt: '2026-03-01T12:00:00.000Z',
      queuedAt: '2026-03-01T12:00:00.000Z',
      ringingAt: null,
      answeredAt: null,
      endedAt: null,
      durationSec: null,
      endReason: null,
      error: null,
      recordingPath: null,
      latency: null,
      turns: [],
      events: [{ at: '2026-03-01T12:00:00.000Z', type: 'status.changed', data: { from: null, to: 'queued' } }],
    });
    expect(store.getCall(record.id)).toEqual(record);
    // What GET /calls/:id sends is exactly this object.
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  });

  it('creates an inbound call already in progress with answeredAt set, and honours a chosen id', () => {
    store = memoryStore(new ManualClock());
    const record = store.createCall({
      id: 'call_inbound_1',
      carrier: 'plivo',
      direction: 'inbound',
      to: '+15550001111',
      status: 'in-progress',
      carrierCallId: 'uuid-1',
    });
    expect(record).toMatchObject({ id: 'call_inbound_1', status: 'in-progress', from: null, queuedAt: null, answeredAt: record.createdAt });
    expect(store.findByCarrierCallId('plivo', 'uuid-1')?.id).toBe('call_inbound_1');
    expect(store.findByCarrierCallId('twilio', 'uuid-1')).toBeUndefined();
    expectStoreError(() => store.createCall({ id: 'call_inbound_1', carrier: 'plivo', direction: 'inbound', to: '+1' }), 'conflict');
  });

  it('generates distinct ids', () => {
    store = memoryStore();
    const ids = new Set(Array.from({ length: 200 }, () => store.createCall({ carrier: 'sandbox', direction: 'outbound', to: '+1' }).id));
    expect(ids.size).toBe(200);
  });

  it('getCallSummary is the record without turns and events', () => {
    store = memoryStore();
    const created = store.createCall({ carrier: 'plivo', direction: 'outbound', to: '+15550100001', metadata: { a: 1 } });
    store.addTurn(created.id, { role: 'user', text: 'Hello?' });
    const { turns, events, ...summary } = store.getCall(created.id)!;
    expect(turns).toHaveLength(1);
    expect(events.length).toBeGreaterThan(0);
    expect(store.getCallSummary(created.id)).toEqual(summary);
    expect(store.getCallSummary('call_missing')).toBeUndefined();
  });

  it('returns undefined for unknown ids', () => {
    store = memoryStore();
    expect(store.getCall('call_missing')).toBeUndefined();
    expect(store.findByCarrierCallId('twilio', 'CA000')).toBeUndefined();
  });

  it('rejects bad input with errors that name the method and field', () => {
    store = memoryStore();
    const base = { carrier: 'twilio', direction: 'outbound', to: '+15551230000' } as const;
    expectStoreError(() => store.createCall({ ...base, carrier: 'twillio' as never }), 'invalid_input', /createCall: carrier: .*"twilio"/);
    expectStoreError(() => store.createCall({ ...base, direction: 'sideways' as never }), 'invalid_input', /direction/);
    expectStoreError(() => store.createCall({ ...base, to: '' }), 'invalid_input', /to: must not be empty/);
    expectStoreError(() => store.createCall({ ...base, status: 'completed' as never }), 'invalid_input', /status/);
    expectStoreError(() => store.createCall({ ...base, id: 'has space' }), 'invalid_input', /id: must be/);
    expectStoreError(() => store.createCall({ ...base, carrierCallID: 'CA1' } as never), 'invalid_input', /carrierCallID/);
    expectStoreError(
      () => store.createCall({ ...base, metadata: { when: new Date() } }),
      'invalid_input',
      /metadata\.when: a Date is not a plain JSON object/,
    );
    expectStoreError(() => store.createCall({ ...base, metadata: { n: Number.NaN } }), 'invalid_input', /metadata\.n: NaN/);
    expectStoreError(() => store.createCall({ ...base, metadata: { list: [1, undefined] } }), 'invalid_input', /metadata\.list\.1/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expectStoreError(() => store.createCall({ ...base, metadata: cyclic }), 'invalid_input', /circular/);
    expect(store.listCalls().calls).toHaveLength(0);
  });
});

describe('JSON fields', () => {
  it('round-trip metadata, event data, turn latency, errors and the latency summary unchanged', () => {
    const store = memoryStore(new ManualClock());
    const metadata = {
      unicode: 'naïve café ☎️ 日本',
      nested: { deep: { list: [1, 2.5, -3e-7, null, true, 'x', { k: [] }] } },
      empty: {},
      big: Number.MAX_SAFE_INTEGER,
      quote: 'he said "hi"\n\ttab',
    };
    const { id } = store.createCall({ carrier: 'daily', direction: 'inbound', to: 'sip:agent@example.com', metadata });
    store.addEvent(id, 'tool.call', { name: 'lookup', args: { q: 'x' }, result: [1, { ok: true }] });
    store.addEvent(id, 'dtmf', '5');
    store.addEvent(id, 'marker');
    const latency = { userStoppedAt: 1_772_366_400_123, sttFinalMs: 180, llmFirstTokenMs: 350.5, custom: { nested: [1] } };
    store.addTurn(id, { role: 'user', text: 'hello', latency });
    store.setLatencySummary(id, { voiceToVoiceMs: { p50: 640, p95: 910 }, turns: 3 });
    store.updateStatus(id, 'failed', { error: { message: 'carrier said no', code: 'carrier_rejected', carrierErrorCode: 13224 } });

    const record = store.getCall(id);
    expect(record?.metadata).toEqual(metadata);
    expect(record?.events.slice(1, 4)).toEqual([
      { at: expect.any(String), type: 'tool.call', data: { name: 'lookup', args: { q: 'x' }, result: [1, { ok: true }] } },
      { at: expect.any(String), type: 'dtmf', data: '5' },
      { at: expect.any(String), type: 'marker', data: null },
    ]);
    expect(record?.turns[0]?.latency).toEqual(latency);
    expect(record?.latency).toEqual({ voiceToVoiceMs: { p50: 640, p95: 910 }, turns: 3 });
    expect(record?.error).toEqual({ message: 'carrier said no', code: 'carrier_rejected', carrierErrorCode: 13224 });
    store.setLatencySummary(id, null);
    expect(store.getCall(id)?.latency).toBeNull();
    store.close();
  });

  it('merges metadata by top-level key, or replaces it', () => {
    const store = memoryStore();
    const { id } = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+1', metadata: { a: 1, b: { x: 1 } } });
    expect(store.updateMetadata(id, { b: { y: 2 }, c: 'new', skipped: undefined })).toEqual({ a: 1, b: { y: 2 }, c: 'new' });
    expect(store.getCall(id)?.metadata).toEqual({ a: 1, b: { y: 2 }, c: 'new' });
    expect(store.updateMetadata(id, { only: true }, { replace: true })).toEqual({ only: true });
    expect(store.getCall(id)?.metadata).toEqual({ only: true });
    expectStoreError(() => store.updateMetadata('call_nope', {}), 'call_not_found', /call_nope/);
    expectStoreError(() => store.updateMetadata(id, [] as never), 'invalid_input', /plain object/);
    store.close();
  });
});

describe('JSON nesting', () => {
  it('refuses metadata and event data nested deeper than 64 levels with invalid_input naming the limit', () => {
    const store = memoryStore();
    const nest = (levels: number) => {
      let value: Record<string, unknown> = { leaf: 1 };
      for (let i = 1; i < levels; i++) value = { a: value };
      return value;
    };
    const { id } = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+1', metadata: nest(64) });
    expect(store.getCall(id)?.metadata).toEqual(nest(64));
    for (const levels of [65, 1000, 20_000]) {
      expectStoreError(
        () => store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+1', metadata: nest(levels) }),
        'invalid_input',
        /deeper than 64/,
      );
    }
    expectStoreError(() => store.addEvent(id, 'deep', nest(1000)), 'invalid_input', /deeper than 64/);
    store.close();
  });
});

describe('turns', () => {
  it('assigns indexes in order, shows optional fields only where set, and updates them', () => {
    const clock = new ManualClock();
    const store = memoryStore(clock);
    const { id } = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+1', status: 'in-progress' });
    expect(store.addTurn(id, { role: 'assistant', text: 'Hi, this is Ada from the clinic. How can I help?' })).toBe(0);
    clock.advance(4000);
    expect(store.addTurn(id, { role: 'user', text: 'I need to move my appointment', endedAt: clock.ms + 1500 })).toBe(1);
    clock.advance(2000);
    expect(store.addTurn(id, { role: 'assistant', text: 'Sure, which day works better for you?', latency: { sttFinalMs: 150 } })).toBe(2);

    // Barge-in: the callee heard only the start; timings arrive piecemeal and merge.
    const updated = store.updateTurn(id, 2, {
      heard: 'Sure, which day',
      interrupted: true,
      endedAt: clock.ms + 900,
      latency: { voiceToVoiceMs: 720 },
    });
    expect(updated).toEqual({
      index: 2,
      role: 'assistant',
      text: 'Sure, which day works better for you?',
      heard: 'Sure, which day',
      interrupted: true,
      latency: { sttFinalMs: 150, voiceToVoiceMs: 720 },
      startedAt: '2026-03-01T12:00:06.000Z',
      endedAt: '2026-03-01T12:00:06.900Z',
    });

    const turns = store.getCall(id)?.turns ?? [];
    expect(turns.map((t) => t.index)).toEqual([0, 1, 2]);
    expect(turns[0]).toEqual({
      index: 0,
      role: 'assistant',
      text: 'Hi, this is Ada from the clinic. How can I help?',
      startedAt: '2026-03-01T12:00:00.000Z',
      endedAt: null,
    });
    expect(Object.keys(turns[1] ?? {})).toEqual(['index', 'role', 'text', 'startedAt', 'endedAt']);
    expect(turns[1]?.endedAt).toBe('2026-03-01T12:00:05.500Z');
    expect(turns[2]).toEqual(updated);

    // null clears an optional field; interrupted: false is kept (it is set, just false).
    store.updateTurn(id, 2, { heard: null, latency: null, interrupted: false });
    expect(store.getCall(id)?.turns[2]).toEqual({
      index: 2,
      role: 'assistant',
      text: 'Sure, which day works better for you?',
      interrupted: false,
      startedAt: '2026-03-01T12:00:06.000Z',
      endedAt: '2026-03-01T12:00:06.900Z',
    });
    store.close();
  });

  it('rejects a taken index, unknown turns and unknown calls', () => {
    const store = memoryStore();
    const { id } = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+1' });
    store.addTurn(id, { index: 5, role: 'user', text: 'a' });
    expect(store.addTurn(id, { role: 'assistant', text: 'b' })).toBe(6);
    expectStoreError(() => store.addTurn(id, { index: 5, role: 'user', text: 'c' }), 'conflict', /turn 5 already exists/);
    expectStoreError(() => store.updateTurn(id, 9, { text: 'x' }), 'turn_not_found', /turn 9/);
    expectStoreError(() => store.updateTurn('call_nope', 0, { text: 'x' }), 'call_not_found');
    expectStoreError(() => store.addTurn('call_nope', { role: 'user', text: 'x' }), 'call_not_found');
    expectStoreError(() => store.addTurn(id, { role: 'robot' as never, text: 'x' }), 'invalid_input', /role/);
    expect(store.getCall(id)?.turns.map((t) => t.text)).toEqual(['a', 'b']);
    store.close();
  });
});

describe('carrier id, recording path, events', () => {
  it('sets the carrier call id once per carrier and records the change', () => {
    const store = memoryStore();
    const a = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+1' });
    const b = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+2' });
    const c = store.createCall({ carrier: 'plivo', direction: 'outbound', to: '+3' });
    store.setCarrierCallId(a.id, 'CA111');
    store.setCarrierCallId(a.id, 'CA111'); // repeat is a no-op
    store.setCarrierCallId(c.id, 'CA111'); // another carrier may reuse the string
    expectStoreError(() => store.setCarrierCallId(b.id, 'CA111'), 'conflict', /CA111/);
    expect(store.findByCarrierCallId('twilio', 'CA111')?.id).toBe(a.id);
    expect(store.findByCarrierCallId('plivo', 'CA111')?.id).toBe(c.id);
    const events = store.getCall(a.id)?.events.filter((e) => e.type === 'carrier.call-id');
    expect(events?.map((e) => e.data)).toEqual([{ carrierCallId: 'CA111', previous: null }]);
    expectStoreError(() => store.setCarrierCallId('call_nope', 'CA9'), 'call_not_found');
    store.close();
  });

  it('stores and clears the recording path', () => {
    const store = memoryStore();
    const { id } = store.createCall({ carrier: 'local', direction: 'inbound', to: 'mic' });
    store.setRecordingPath(id, 'data/recordings/call.wav');
    expect(store.getCall(id)?.recordingPath).toBe('data/recordings/call.wav');
    store.setRecordingPath(id, null);
    expect(store.getCall(id)?.recordingPath).toBeNull();
    expectStoreError(() => store.setRecordingPath('call_nope', 'x.wav'), 'call_not_found');
    store.close();
  });

  it('orders events by time, then by arrival, and validates type and data', () => {
    const clock = new ManualClock();
    const store = memoryStore(clock);
    const { id } = store.createCall({ carrier: 'sandbox', direction: 'outbound', to: '+1' });
    clock.advance(1000);
    store.addEvent(id, 'b.second', { n: 2 });
    store.addEvent(id, 'c.third', { n: 3 });
    store.addEvent(id, 'a.backdated', { n: 1 }, clock.ms - 500);
    expect(store.getCall(id)?.events.map((e) => e.type)).toEqual(['status.changed', 'a.backdated', 'b.second', 'c.third']);
    expectStoreError(() => store.addEvent(id, 'Bad Type'), 'invalid_input', /addEvent: type/);
    expectStoreError(() => store.addEvent(id, 'x', { f: () => 0 }), 'invalid_input', /addEvent: data: f: a function/);
    expectStoreError(() => store.addEvent('call_nope', 'x'), 'call_not_found', /call_nope/);
    store.close();
  });
});

describe('open', () => {
  it('creates the data folder and a WAL database, and keeps records across reopen', () => {
    const tmp = tempDir();
    try {
      const dataDir = join(tmp.dir, 'nested', 'data');
      const store = Store.open({ dataDir });
      expect(store.path).toBe(join(dataDir, 'switchboard.db'));
      const { id } = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+1', metadata: { k: 'v' } });
      store.addTurn(id, { role: 'user', text: 'persisted' });
      const before = store.getCall(id);
      store.close();

      const raw = new Database(join(dataDir, 'switchboard.db'), { readonly: true });
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      raw.close();

      const again = Store.open({ dataDir });
      expect(again.getCall(id)).toEqual(before);
      again.close();
      expect(existsSync(join(dataDir, 'switchboard.db'))).toBe(true);
    } finally {
      tmp.remove();
    }
  });

  it('refuses a database written by a newer schema', () => {
    const tmp = tempDir();
    try {
      const raw = new Database(join(tmp.dir, 'switchboard.db'));
      raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      raw.close();
      expectStoreError(() => Store.open({ dataDir: tmp.dir }), 'schema_too_new', /upgrade/);
    } finally {
      tmp.remove();
    }
  });

  it('enforces foreign keys (deleting a call removes its events and turns)', () => {
    const tmp = tempDir();
    try {
      const store = Store.open({ dataDir: tmp.dir });
      const { id } = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+1' });
      store.addTurn(id, { role: 'user', text: 'x' });
      store.close();
      const raw = new Database(join(tmp.dir, 'switchboard.db'));
      raw.pragma('foreign_keys = ON');
      raw.prepare('DELETE FROM calls WHERE id = ?').run(id);
      expect(raw.prepare('SELECT count(*) AS n FROM call_events').get()).toEqual({ n: 0 });
      expect(raw.prepare('SELECT count(*) AS n FROM call_turns').get()).toEqual({ n: 0 });
      raw.close();
    } finally {
      tmp.remove();
    }
  });
});
