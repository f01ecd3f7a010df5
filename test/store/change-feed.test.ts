/** The store's change feed: every committed write is reported once, after its commit; rolled-back ones never. */
import { afterEach, describe, expect, it } from 'vitest';
import type { CallChange } from '../../src/store/change-feed.ts';
import { changeFeedOf } from '../../src/store/change-feed.ts';
import type { CallStore } from '../../src/store/index.ts';
import { ManualClock, memoryStore } from './helpers.ts';

let store: CallStore;
afterEach(() => store.close());

/** A store with a feed subscriber collecting what it is told, and the count of rows at each report. */
function watchedStore(): { changes: CallChange[] } {
  store = memoryStore(new ManualClock());
  const changes: CallChange[] = [];
  changeFeedOf(store).subscribe((change) => changes.push(change));
  return { changes };
}

const brief = (c: CallChange) => (c.kind === 'event' ? `event:${c.event.type}` : c.kind === 'turn' ? `turn:${c.turn.index}` : 'call');

describe('change feed', () => {
  it('reports each kind of write with what changed', () => {
    const { changes } = watchedStore();
    const { id } = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+15551230000' });
    expect(changes.map(brief)).toEqual(['call', 'event:status.changed']);
    expect(changes.every((c) => c.callId === id)).toBe(true);

    changes.length = 0;
    store.updateStatus(id, 'ringing');
    store.setCarrierCallId(id, 'CA1');
    store.updateMetadata(id, { a: 1 });
    store.addEvent(id, 'dtmf', { digit: '1' });
    store.addTurn(id, { role: 'user', text: 'Hello?' });
    store.addTurn(id, { role: 'assistant', text: 'Hi there, this is the clinic.', latency: { voiceToVoiceMs: 700 } });
    store.updateTurn(id, 1, { heard: 'Hi there,', interrupted: true });
    store.setLatencySummary(id, { p50: 700 });
    store.setRecordingPath(id, '/tmp/x.wav');
    expect(changes.map(brief)).toEqual([
      'call',
      'event:status.changed',
      'call',
      'event:carrier.call-id',
      'call',
      'event:dtmf',
      'turn:0',
      'turn:1',
      'turn:1',
      'call',
      'call',
    ]);
    const added = changes[7] as Extract<CallChange, { kind: 'turn' }>;
    expect(added.turn).toMatchObject({ role: 'assistant', text: 'Hi there, this is the clinic.', latency: { voiceToVoiceMs: 700 } });
    const patched = changes[8] as Extract<CallChange, { kind: 'turn' }>;
    expect(patched.turn).toMatchObject({ heard: 'Hi there,', interrupted: true, latency: { voiceToVoiceMs: 700 } });
    const dtmf = changes[5] as Extract<CallChange, { kind: 'event' }>;
    expect(dtmf.event).toEqual(store.getCall(id)?.events.find((e) => e.type === 'dtmf'));
  });

  it('reports writes inside a batch only after the batch commits', () => {
    const { changes } = watchedStore();
    const { id } = store.createCall({ carrier: 'plivo', direction: 'outbound', to: '+15551230000' });
    changes.length = 0;
    store.batch(() => {
      store.addTurn(id, { role: 'user', text: 'one' });
      store.addEvent(id, 'x');
      expect(changes).toEqual([]);
    });
    expect(changes.map(brief)).toEqual(['turn:0', 'event:x']);
  });

  it('never reports a rolled-back write: a failed batch, or a failed write a batch survives', () => {
    const { changes } = watchedStore();
    const { id } = store.createCall({ carrier: 'plivo', direction: 'outbound', to: '+15551230000' });
    changes.length = 0;
    expect(() =>
      store.batch(() => {
        store.addEvent(id, 'lost');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(changes).toEqual([]);

    store.batch(() => {
      store.addEvent(id, 'kept');
      // A nested batch that fails after writing: its savepoint is rolled back, the outer batch goes on.
      expect(() =>
        store.batch(() => {
          store.addTurn(id, { role: 'user', text: 'rolled back' });
          store.addEvent(id, 'rolled-back');
          throw new Error('inner');
        }),
      ).toThrow('inner');
      expect(() => store.addTurn(id, { index: 0, role: 'user', text: 'a' })).not.toThrow();
      expect(() => store.addTurn(id, { index: 0, role: 'user', text: 'duplicate' })).toThrow();
    });
    expect(changes.map(brief)).toEqual(['event:kept', 'turn:0']);
    expect((changes[1] as Extract<CallChange, { kind: 'turn' }>).turn.text).toBe('a');
    expect(store.getCall(id)?.events.map((e) => e.type)).toEqual(['status.changed', 'kept']);
  });

  it('keeps writing when a subscriber throws, and stops telling one that unsubscribed', () => {
    const { changes } = watchedStore();
    const feed = changeFeedOf(store);
    expect(changeFeedOf(store)).toBe(feed);
    const unsubscribe = feed.subscribe(() => {
      throw new Error('bad subscriber');
    });
    const { id } = store.createCall({ carrier: 'twilio', direction: 'inbound', to: '+15551230000' });
    expect(changes.length).toBe(2);
    unsubscribe();
    expect(feed.subscriberCount).toBe(1);
    store.addEvent(id, 'after');
    expect(store.getCall(id)?.events.map((e) => e.type)).toEqual(['status.changed', 'after']);
    expect(changes.map(brief)).toEqual(['call', 'event:status.changed', 'event:after']);
  });
});
