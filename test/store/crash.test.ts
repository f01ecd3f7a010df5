import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CallStore, SERVER_STOPPED_REASON } from '../../src/store/index.ts';
import { tempDir } from './helpers.ts';

const writerScript = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

interface KilledWriter {
  finishedId: string;
  liveId: string;
  /** Highest `n` the child acknowledged before it was killed. */
  lastAck: number;
  signal: NodeJS.Signals | null;
  walBytesAtKill: number;
}

/** Runs the writer, waits for it to be mid-stream, then SIGKILLs it. */
function runAndKill(dataDir: string, acksBeforeKill: number): Promise<KilledWriter> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writerScript, dataDir], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let ids: [string, string] | undefined;
    let lastAck = -1;
    let walBytesAtKill = 0;
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer did not get going in time; stderr: ${err}`));
    }, 20_000);
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const line of lines) {
        const [word, a, b] = line.split(' ');
        if (word === 'ready' && a && b) ids = [a, b];
        if (word === 'ack') lastAck = Number(a);
      }
      if (!killed && ids && lastAck >= acksBeforeKill) {
        killed = true;
        const wal = join(dataDir, 'switchboard.db-wal');
        walBytesAtKill = existsSync(wal) ? statSync(wal).size : 0;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (!ids) return reject(new Error(`writer exited early (${signal ?? _code}); stderr: ${err}`));
      // Acks still in the pipe when the kill landed are counted too: they were sent after their commit.
      for (const line of out.split('\n')) if (line.startsWith('ack ')) lastAck = Math.max(lastAck, Number(line.slice(4)));
      resolve({ finishedId: ids[0], liveId: ids[1], lastAck, signal, walBytesAtKill });
    });
  });
}

describe('crash safety', () => {
  it('keeps everything committed before SIGKILL, and recovery fails the open call but keeps its turns', async () => {
    const tmp = tempDir();
    try {
      const killed = await runAndKill(tmp.dir, 25);
      expect(killed.signal).toBe('SIGKILL');
      // The writes were still in the WAL (not checkpointed into the main file) when the process died.
      expect(killed.walBytesAtKill).toBeGreaterThan(0);

      const store = CallStore.open({ dataDir: tmp.dir });
      const before = store.getCall(killed.liveId);
      expect(before?.status).toBe('in-progress');
      const ticks = (before?.events ?? []).filter((e) => e.type === 'test.tick').map((e) => (e.data as { n: number }).n);
      // Every acknowledged write is there, in order, with nothing missing in between.
      expect(ticks.length).toBeGreaterThanOrEqual(killed.lastAck + 1);
      expect(ticks).toEqual(Array.from({ length: ticks.length }, (_, i) => i));

      const recoveredIds = store.recoverInterruptedCalls();
      expect(recoveredIds).toEqual([killed.liveId]);

      const after = store.getCall(killed.liveId);
      expect(after).toMatchObject({
        status: 'failed',
        endReason: SERVER_STOPPED_REASON,
        error: { message: SERVER_STOPPED_REASON, code: 'server_stopped' },
        carrierCallId: 'CA0123456789abcdef0123456789abcdef',
        agent: 'receptionist',
        metadata: { attempt: 1 },
      });
      expect(after?.endedAt).not.toBeNull();
      expect(Date.parse(after?.endedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(after?.answeredAt ?? ''));
      expect(after?.durationSec).toBeGreaterThanOrEqual(0);
      expect(after?.turns).toEqual(before?.turns);
      expect(after?.turns.map((t) => [t.role, t.text])).toEqual([
        ['assistant', 'Hello, you are speaking with the clinic assistant.'],
        ['user', 'Hi, I would like to book an appointment.'],
        ['assistant', 'Of course, which day suits you?'],
      ]);
      expect(after?.turns[0]).toMatchObject({ heard: 'Hello, you are speaking', interrupted: true });
      expect(after?.events.at(-1)?.type).toBe('call.recovered');

      expect(store.getCall(killed.finishedId)).toMatchObject({ status: 'completed', durationSec: 12 });
      store.close();

      // Recovery itself is durable.
      const reopened = CallStore.open({ dataDir: tmp.dir });
      expect(reopened.getCall(killed.liveId)?.status).toBe('failed');
      expect(reopened.recoverInterruptedCalls()).toEqual([]);
      reopened.close();
    } finally {
      tmp.remove();
    }
  });
});
