import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { RecordWriter } from '../../src/server/record-writer.ts';
import { CallStore } from '../../src/store/index.ts';

describe('RecordWriter', () => {
  it('commits queued writes on the next turn, in order, and a failing write does not sink the others', async () => {
    const store = CallStore.open({ dataDir: ':memory:' });
    const writer = new RecordWriter(store, silentLogger());
    const call = store.createCall({ carrier: 'twilio', direction: 'outbound', to: '+15550100001' });
    writer.write(() => store.addTurn(call.id, { index: 0, role: 'user', text: 'Hello?' }));
    writer.write(() => store.addEvent('call_unknown', 'oops')); // fails: unknown call
    writer.write(() => store.addTurn(call.id, { index: 1, role: 'assistant', text: 'Hi!', heard: 'Hi!' }));
    expect(store.getCall(call.id)!.turns).toEqual([]); // not yet: written behind the real-time path
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.getCall(call.id)!.turns.map((t) => t.text)).toEqual(['Hello?', 'Hi!']);
    store.close();
  });

  it('flush() commits at once (before a record is read back or the server stops)', () => {
    const store = CallStore.open({ dataDir: ':memory:' });
    const writer = new RecordWriter(store, silentLogger());
    const call = store.createCall({ carrier: 'plivo', direction: 'inbound', to: '+15550100000' });
    writer.write(() => store.addEvent(call.id, 'barge-in', { decisionMs: 503 }));
    writer.flush();
    expect(store.getCall(call.id)!.events.some((e) => e.type === 'barge-in')).toBe(true);
    store.close();
  });
});
