/**
 * A server killed mid-call loses nothing: on restart the call is marked failed with a reason, and what
 * was recorded before the kill (turns, events) is still there.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../src/store/index.ts';
import { postJson } from './helpers.ts';
import { freePort, spawnServe } from './spawn-serve.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-restart-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function serve(port: number): Promise<ChildProcess> {
  const child = await spawnServe({ port, dataDir });
  children.push(child);
  return child;
}

describe('restart after a crash', () => {
  it('marks the call that was in progress failed, keeping its turns', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const first = await serve(port);
    const base = `http://127.0.0.1:${port}`;
    const placed = await postJson(`${base}/calls`, { to: '+15550100001', carrier: 'twilio' });
    expect(placed.status).toBe(201);
    const id = placed.json.id as string;
    // Wait until the conversation is under way (a user turn recorded), then kill the server outright.
    const deadline = Date.now() + 60_000;
    let before: CallRecord | undefined;
    while (Date.now() < deadline) {
      before = (await (await fetch(`${base}/calls/${id}`)).json()) as CallRecord;
      if (before.status === 'in-progress' && before.turns.length >= 1) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(before?.status).toBe('in-progress');
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));

    await serve(port);
    const after = (await (await fetch(`${base}/calls/${id}`)).json()) as CallRecord;
    expect(after.status).toBe('failed');
    expect(after.endReason).toBe('server stopped during the call');
    expect(after.turns.length).toBeGreaterThanOrEqual(before!.turns.length);
    expect(after.turns[0]).toMatchObject({ role: 'user', text: 'Hello?' });
    expect(after.events.some((e) => e.type === 'call.recovered')).toBe(true);
  });
});
