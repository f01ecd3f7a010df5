import { describe, expect, it } from 'vitest';
import type { CallDirection, CallStatus } from '../../src/store/index.ts';
import { CallStoreError } from '../../src/store/index.ts';
import { ManualClock, memoryStore } from './helpers.ts';

function seed(count: number, options: { sameInstant?: boolean } = {}) {
  const clock = new ManualClock();
  const store = memoryStore(clock);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    if (!options.sameInstant) clock.advance(1000);
    const direction: CallDirection = i % 3 === 0 ? 'inbound' : 'outbound';
    const { id } = store.createCall({ carrier: i % 2 === 0 ? 'twilio' : 'plivo', direction, to: `+1555000${String(i).padStart(4, '0')}` });
    const status: CallStatus = i % 4 === 0 ? 'completed' : i % 4 === 1 ? 'in-progress' : 'queued';
    if (status !== 'queued') store.updateStatus(id, status);
    ids.push(id);
  }
  return { store, clock, ids };
}

describe('listCalls', () => {
  it('lists newest first as summaries without turns and events', () => {
    const { store, ids } = seed(5);
    store.addTurn(ids[0] ?? '', { role: 'user', text: 'x' });
    const page = store.listCalls();
    expect(page.calls.map((c) => c.id)).toEqual([...ids].reverse());
    expect(page.nextCursor).toBeNull();
    for (const summary of page.calls) {
      expect(summary).not.toHaveProperty('turns');
      expect(summary).not.toHaveProperty('events');
      const { turns: _t, events: _e, ...expected } = store.getCall(summary.id) ?? { turns: [], events: [] };
      expect(summary).toEqual(expected);
    }
    store.close();
  });

  it('pages through every call exactly once with cursors, even when many share a timestamp', () => {
    for (const sameInstant of [false, true]) {
      const { store, ids } = seed(53, { sameInstant });
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = store.listCalls({ limit: 10, ...(cursor ? { cursor } : {}) });
        seen.push(...page.calls.map((c) => c.id));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor);
      expect(pages).toBe(6);
      expect(seen).toEqual([...ids].reverse());
      store.close();
    }
  });

  it('keeps cursor pages stable while new calls arrive', () => {
    const { store, ids, clock } = seed(6);
    const first = store.listCalls({ limit: 3 });
    clock.advance(1000);
    store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+19990000000' });
    const second = store.listCalls({ limit: 3, cursor: first.nextCursor ?? '' });
    expect([...first.calls, ...second.calls].map((c) => c.id)).toEqual([...ids].reverse());
    expect(second.nextCursor).toBeNull();
    store.close();
  });

  it('supports offset paging', () => {
    const { store, ids } = seed(12);
    const newest = [...ids].reverse();
    expect(store.listCalls({ limit: 5, offset: 0 }).calls.map((c) => c.id)).toEqual(newest.slice(0, 5));
    expect(store.listCalls({ limit: 5, offset: 10 }).calls.map((c) => c.id)).toEqual(newest.slice(10));
    expect(store.listCalls({ limit: 5, offset: 10 }).nextCursor).toBeNull();
    expect(store.listCalls({ limit: 5, offset: 40 }).calls).toEqual([]);
    store.close();
  });

  it('filters by status, direction and carrier, and pages within the filter', () => {
    const { store } = seed(40);
    const all = store.listCalls({ limit: 500 }).calls;
    const expected = all.filter((c) => c.status === 'queued' && c.direction === 'outbound' && c.carrier === 'plivo').map((c) => c.id);
    expect(expected.length).toBeGreaterThan(3);
    const first = store.listCalls({ status: 'queued', direction: 'outbound', carrier: 'plivo', limit: 3 });
    const rest = store.listCalls({ status: 'queued', direction: 'outbound', carrier: 'plivo', limit: 100, cursor: first.nextCursor ?? '' });
    expect([...first.calls, ...rest.calls].map((c) => c.id)).toEqual(expected);
    expect(store.listCalls({ status: 'in-progress' }).calls.every((c) => c.status === 'in-progress')).toBe(true);
    expect(store.listCalls({ direction: 'inbound' }).calls).toHaveLength(14);
    expect(store.listCalls({ status: 'busy' }).calls).toEqual([]);
    store.close();
  });

  it('rejects bad options', () => {
    const { store } = seed(1);
    const invalid = (fn: () => unknown, pattern: RegExp) => {
      expect(fn).toThrow(CallStoreError);
      expect(fn).toThrow(pattern);
    };
    invalid(() => store.listCalls({ limit: 0 }), /limit/);
    invalid(() => store.listCalls({ limit: 501 }), /limit/);
    invalid(() => store.listCalls({ status: 'ringin' as CallStatus }), /status/);
    invalid(() => store.listCalls({ cursor: 'garbage' }), /cursor/);
    invalid(() => store.listCalls({ cursor: Buffer.from('[1,"x"]').toString('base64url') }), /cursor/);
    invalid(() => store.listCalls({ cursor: Buffer.from('[1,2]').toString('base64url'), offset: 2 }), /either cursor or offset/);
    store.close();
  });
});
