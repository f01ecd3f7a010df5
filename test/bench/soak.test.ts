/**
 * The soak tool's CI version: a real one-minute soak through the CLI (10 calls per wave, 20 s calls, server
 * in its own process). Its JSON must hold readings at the start and the end with real memory figures, every
 * call must end with a final record (none stuck, none lost), and the exit code must follow the verdict.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SoakResult } from '../../bench/soak.ts';

const CLI = resolve(import.meta.dirname, '..', '..', 'bin', 'switchboard');

describe('soak (switchboard soak --json)', () => {
  it('10 calls per wave for 1 minute: no call stuck, no record lost, readings taken', { timeout: 240_000 }, async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'soak', '--calls', '10', '--minutes', '1', '--call-seconds', '20', '--sample-minutes', '0.5', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)));

    const result = JSON.parse(stdout.trimEnd().split('\n').at(-1) as string) as SoakResult;
    expect(code, stderr).toBe(result.verdict.pass ? 0 : 1);
    expect(stdout).toContain('Soak: 10 concurrent calls per wave, 1 min');
    expect(result.waves).toBeGreaterThanOrEqual(1);
    expect(result.callsPlaced).toBe(result.waves * 10);
    expect(result.callsNotPlaced).toBe(0);
    expect(result.callsStuck).toBe(0);
    expect(result.recordsLost).toBe(0);
    expect(result.failedCalls).toBe(0);
    expect(result.readings[0]?.label).toBe('start');
    expect(result.readings.at(-1)?.label).toBe('end');
    expect(result.readings.at(-1)?.callsSoFar).toBe(result.callsPlaced);
    for (const r of result.readings) {
      expect(r.rssMb).toBeGreaterThan(20);
      expect(r.heapUsedMb).toBeGreaterThan(1);
      expect(r.heapUsedMb).toBeLessThan(r.rssMb);
      expect(Number.isFinite(r.eventLoopDelayP99Ms)).toBe(true);
    }
    // Every call spoke: the carrier received the bot's audio, and it was mostly on time.
    expect(result.lateFrames.received).toBeGreaterThan(result.callsPlaced * 100);
    expect(result.lateFrames.pct).toBeLessThan(5);
  });
});
