/**
 * Issue 10, defect 9: `switchboard serve` receiving SIGTERM while a call is still ringing hangs the call up and
 * finalises its record before exiting (it used to stay `ringing`, its carrier leg up, until the next start).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CallStore, type CallRecord } from '../../src/store/index.ts';
import { postJson } from './helpers.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-sigterm-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('SIGTERM', () => {
  it('a ringing call is hung up and ends canceled before the process exits', { timeout: 150_000 }, async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['bin/switchboard', 'serve'], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', SWITCHBOARD_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 90_000;
      for (;;) {
        try {
          if ((await fetch(`${base}/healthz`)).ok) break;
        } catch {
          // not up yet
        }
        if (Date.now() > deadline) throw new Error('server did not come up');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
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
