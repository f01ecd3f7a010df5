/**
 * Issue 10, defect 9: `switchboard serve` receiving SIGTERM while a call is still ringing hangs the call up and
 * finalises its record before exiting (it used to stay `ringing`, its carrier leg up, until the next start).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CallStore, type CallRecord } from '../../src/store/index.ts';
import { postJson } from './helpers.ts';
import { freePort, spawnServe } from './spawn-serve.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-sigterm-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('SIGTERM', () => {
  it('a ringing call is hung up and ends canceled before the process exits', { timeout: 150_000 }, async () => {
    const port = await freePort();
    const child = await spawnServe({ port, dataDir });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 60_000;
      // The no-answer persona rings until the carrier's 60 s timeout.
      const placed = await postJson(`${base}/calls`, { to: '+15550100004', carrier: 'twilio' });
      expect(placed.status).toBe(201);
      const id = placed.json.id as string;
      for (;;) {
        const record = (await (await fetch(`${base}/calls/${id}`)).json()) as CallRecord;
        if (record.status === 'ringing') break;
        if (Date.now() > deadline) throw new Error(`call never rang: ${record.status}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const signalledAt = Date.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(20_000); // bounded, not the ring timeout
      const store = CallStore.open({ dataDir });
      try {
        const record = store.getCall(id);
        expect(record).toMatchObject({ status: 'canceled', endReason: 'server shutting down' });
        expect(record?.events.map((e) => e.type)).toContain('carrier.hangup');
      } finally {
        store.close();
      }
    } finally {
      child.kill('SIGKILL');
    }
  });
});
