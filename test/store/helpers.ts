import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallStoreOptions } from '../../src/store/index.ts';
import { CallStore } from '../../src/store/index.ts';
import { builtinCarriers } from '../../src/telephony/registry.ts';

/** A clock the test moves by hand, starting at a fixed instant. */
export class ManualClock {
  ms = Date.parse('2026-03-01T12:00:00.000Z');

  readonly now = (): number => this.ms;

  advance(ms: number): number {
    this.ms += ms;
    return this.ms;
  }

  iso(offsetMs = 0): string {
    return new Date(this.ms + offsetMs).toISOString();
  }
}

/** Carrier names these tests' stores accept: the built-in ones plus names the tests use for other records. */
export const SERVER_CARRIERS = [...builtinCarriers.map((carrier) => carrier.name), 'daily', 'sip', 'sandbox', 'local'];

export function memoryStore(clock?: ManualClock, options: Partial<CallStoreOptions> = {}): CallStore {
  return CallStore.open({ dataDir: ':memory:', carriers: SERVER_CARRIERS, ...(clock ? { now: clock.now } : {}), ...options });
}

/** A fresh temporary folder and a function that removes it. */
export function tempDir(prefix = 'switchboard-store-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
