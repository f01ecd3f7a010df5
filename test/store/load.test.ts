import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CallStore } from '../../src/store/index.ts';
import { tempDir } from './helpers.ts';

const CALLS = 100;
const EVENTS_PER_CALL = 50;

describe('many calls writing at once', () => {
  it(`keeps ${CALLS} interleaved calls × ${EVENTS_PER_CALL} events correct on a file database`, async () => {
    const tmp = tempDir();
    const store = CallStore.open({ dataDir: tmp.dir });
    // A second connection reads while the first writes, as an operator polling GET /calls would.
    const reader = CallStore.open({ dataDir: tmp.dir });
    try {
      const started = performance.now();
      let reads = 0;
      const oneCall = async (n: number): Promise<string> => {
        const { id } = store.createCall({ carrier: n % 2 === 0 ? 'twilio' : 'plivo', direction: 'outbound', to: `+1555${n}` });
        store.updateStatus(id, 'ringing');
        store.updateStatus(id, 'in-progress');
        for (let i = 0; i < EVENTS_PER_CALL; i++) {
          store.addEvent(id, 'media.stats', { call: n, i, packets: i * 50 });
          if (i % 10 === 0) store.addTurn(id, { role: i % 20 === 0 ? 'assistant' : 'user', text: `turn ${i / 10}` });
          if (i % 25 === 0) {
            reader.listCalls({ limit: 20 });
            reads++;
          }
          await yieldToLoop(); // let the other calls interleave their writes
        }
        store.updateStatus(id, 'completed');
        return id;
      };
      const ids = await Promise.all(Array.from({ length: CALLS }, (_, n) => oneCall(n)));
      const elapsedMs = performance.now() - started;
      const writes = CALLS * (EVENTS_PER_CALL + 5 + 4);
      console.log(
        `[store] ${CALLS} calls × ${EVENTS_PER_CALL} events (${writes} writes, ${reads} list reads) in ${elapsedMs.toFixed(0)} ms` +
          ` = ${((elapsedMs * 1000) / writes).toFixed(1)} µs/write`,
      );

      expect(new Set(ids).size).toBe(CALLS);
      expect(reader.listCalls({ limit: 500, status: 'completed' }).calls).toHaveLength(CALLS);
      for (const [n, id] of ids.entries()) {
        const call = reader.getCall(id);
        expect(call?.status).toBe('completed');
        const stats = call?.events.filter((e) => e.type === 'media.stats').map((e) => e.data as { call: number; i: number });
        expect(stats).toHaveLength(EVENTS_PER_CALL);
        expect(stats?.every((d, i) => d.call === n && d.i === i)).toBe(true);
        expect(call?.turns.map((t) => t.text)).toEqual(['turn 0', 'turn 1', 'turn 2', 'turn 3', 'turn 4']);
      }
    } finally {
      reader.close();
      store.close();
      tmp.remove();
    }
  });
});
