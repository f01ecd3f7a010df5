/**
 * Runs corpus calls end to end: a private Switchboard with the sandbox (the carrier's emulator with simulated
 * callees, Deepgram, Gemini and Cartesia emulators at the chosen timing), the default agent, one real call
 * per corpus entry placed the way the public call API places it, a few at a time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config.ts';
import { createLogger } from '../../log.ts';
import { ensureSounds } from '../../sandbox/callees/sound-synth.ts';
import type { EmulatedCallRecord } from '../../sandbox/carriers/shared/call-record.ts';
import { startSwitchboard } from '../../server/start.ts';
import { isFinalCallStatus } from '../../call-status.ts';
import type { Corpus, CorpusCall } from './corpus.ts';
import type { CallOutcome } from './scorecard.ts';

export interface RunOptions {
  /** The carrier whose sandbox emulator carries the calls (e.g. `twilio`). */
  carrier: string;
  /** Calls in progress at once. */
  concurrency: number;
  timing: 'realistic' | 'instant';
  /** Told as each call finishes. */
  progress?: (line: string) => void;
  /** Longest a call may take (ms). @default 150000 */
  callTimeoutMs?: number;
}

/** What the eval needs of a carrier emulator: its calls, each with the record both sides of the line kept. */
interface CarrierEmulator {
  readonly calls: ReadonlyMap<string, { readonly record: EmulatedCallRecord; waitForEnd(timeoutMs?: number): Promise<unknown> }>;
}

/** Metadata every corpus call carries (the default agent templates the callee's name into its lines). */
const CALL_METADATA = { user: { firstName: 'Grace' } };

export async function runCorpus(corpus: Corpus, calls: CorpusCall[], options: RunOptions): Promise<CallOutcome[]> {
  await ensureSounds(corpus.sounds, join(corpus.dir, 'sounds'));
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-eval-'));
  const config = loadConfig({
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    SWITCHBOARD_SANDBOX: 'on',
    SWITCHBOARD_DATA_DIR: dataDir,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  const running = await startSwitchboard({
    config,
    log: createLogger({ level: config.logLevel, destination: process.stderr }),
    sandboxTiming: options.timing,
  });
  const sandbox = running.sandbox;
  const emulator = sandbox?.emulator<CarrierEmulator>(options.carrier);
  try {
    if (!sandbox || !emulator) throw new Error(`the sandbox runs no emulator for carrier "${options.carrier}"`);
    const numbers = new Map<CorpusCall, string>();
    calls.forEach((call, i) => {
      const number = `+1555020${String(1000 + i).padStart(4, '0')}`;
      sandbox.personas.register(number, call.persona);
      numbers.set(call, number);
    });
    const outcomes: CallOutcome[] = new Array<CallOutcome>(calls.length);
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const index = next++;
        if (index >= calls.length) return;
        const call = calls[index] as CorpusCall;
        const started = performance.now();
        outcomes[index] = await runOne(call, numbers.get(call) as string);
        done++;
        const seconds = ((performance.now() - started) / 1000).toFixed(0);
        options.progress?.(
          `[${done}/${calls.length}] ${call.id} ${outcomes[index]?.error ? `failed: ${outcomes[index]?.error}` : 'done'} (${seconds} s)`,
        );
      }
    };
    const runOne = async (call: CorpusCall, to: string): Promise<CallOutcome> => {
      try {
        const placed = await running.manager.placeCall({ carrier: options.carrier, to, metadata: CALL_METADATA });
        const deadline = performance.now() + (options.callTimeoutMs ?? 150_000);
        let summary = running.store.getCallSummary(placed.id);
        while (summary && !isFinalCallStatus(summary.status) && performance.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          summary = running.store.getCallSummary(placed.id);
        }
        const carrierCallId = summary?.carrierCallId ?? undefined;
        const emulated = carrierCallId ? emulator.calls.get(carrierCallId) : undefined;
        if (emulated) await emulated.waitForEnd(Math.max(1000, deadline - performance.now())).catch(() => undefined);
        const record = running.store.getCall(placed.id);
        const timedOut = !summary || !isFinalCallStatus(summary.status);
        return {
          call,
          record,
          callee: emulated?.record.callee ?? undefined,
          clears: emulated?.record.streams.flatMap((s) => s.clears.map((c) => c.at)) ?? [],
          ...(timedOut ? { error: `still ${summary?.status ?? 'unknown'} after the time limit` } : {}),
        };
      } catch (error) {
        return { call, record: undefined, callee: undefined, clears: [], error: error instanceof Error ? error.message : String(error) };
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, () => worker()));
    return outcomes;
  } finally {
    await running.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
