/**
 * `npm run soak` — sandbox calls in waves for a long time, watching for leaks and stuck calls (issue 10).
 *
 * The same set-up as the load benchmark: the provider and carrier emulators (Twilio with simulated callees,
 * Deepgram, Gemini, Cartesia at their realistic default timing) run in this process; the server runs as a
 * child process (`bin/switchboard serve`, sandbox off, pointed at the emulators through its real clients), so
 * its memory and event loop are its own.
 *
 * Procedure: one warm-up call, then waves of `calls` outbound calls (starts spread over 2 s), each callee
 * holding the reminder conversation (turns and barge-ins) for `callSeconds`; a wave ends when every call
 * has ended at the carrier and its record has been read. A wave is started only if it can finish before
 * `minutes` are up (its length estimated from the previous one).
 *
 * Readings: server RSS (/proc) and V8 heap used, event-loop delay p99 since the previous reading (both from
 * the server's own GET /metrics, prom-client's default metrics), at the start (after warm-up), every
 * `sampleMinutes` and at the end. Per wave: late frames (the carrier emulator's playout accounting), calls
 * stuck (record not final 30 s after the carrier call ended), records lost (placed with 201, no record at
 * the end), failed calls (record not `completed` or with pipeline errors).
 *
 * Verdict (issue 10): RSS growth from the first reading after warm-up (the first periodic one, once every
 * lazy part is loaded and the heap has grown to its working size) to the end ≤ 5 %, zero stuck, zero lost,
 * late frames < 1 %.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmulatedCallRecord } from '../src/sandbox/carriers/shared/call-record.ts';
import type { CallRecord } from '../src/store/index.ts';
import { startLoadGenerator, type LoadGenerator } from './load/generator.ts';
import { callFailures, lateFrames } from './load/metrics.ts';
import { BENCH_NUMBER, benchPersona, WARMUP_NUMBER, warmupPersona } from './load/persona.ts';
import { finalRecord, mapLimit, postCall, sleep, TERMINAL_STATUSES } from './load/server-api.ts';
import { startServerProcess, summariseServerLog, type ServerProcess } from './load/server-process.ts';

export interface SoakOptions {
  /** Concurrent calls per wave. */
  calls: number;
  /** How long the soak lasts (waves that could not finish in time are not started). */
  minutes: number;
  /** How long each callee stays on the line. @default 40 */
  callSeconds?: number | undefined;
  /** Minutes between readings. @default 5 */
  sampleMinutes?: number | undefined;
  /** Write the result as JSON here too. @default none */
  jsonFile?: string | undefined;
  /** Progress lines. @default stderr */
  progress?: (line: string) => void;
}

export interface SoakReading {
  /** Minutes since the first reading (after warm-up). */
  atMinutes: number;
  label: 'start' | 'periodic' | 'end';
  rssMb: number;
  heapUsedMb: number;
  /** Server event-loop delay p99 since the previous reading (ms). */
  eventLoopDelayP99Ms: number;
  callsSoFar: number;
}

export interface SoakResult {
  calls: number;
  minutes: number;
  callSeconds: number;
  waves: number;
  callsPlaced: number;
  callsNotPlaced: number;
  readings: SoakReading[];
  /** RSS change from the first periodic reading (warm) to the end, % (NaN when the run had no periodic reading). */
  rssGrowthAfterWarmupPct: number;
  /** RSS change from the start reading to the end, %. */
  rssGrowthFromStartPct: number;
  eventLoopDelayP99MsMax: number;
  lateFrames: { received: number; late: number; pct: number; maxLatenessMs: number };
  callsStuck: number;
  recordsLost: number;
  failedCalls: number;
  failureStatuses: Record<string, number>;
  failureErrors: Record<string, number>;
  serverLog: { warnings: number; errors: number; messages: Record<string, number> };
  verdict: { rssGrowthOk: boolean; noStuck: boolean; noLost: boolean; lateFramesOk: boolean; pass: boolean };
}

/** Final status must be reached this long after the carrier call ended, or the call counts as stuck. */
const STUCK_AFTER_MS = 30_000;
const STAGGER_MS = 2000;
/** The bound on RSS growth after warm-up over the soak. */
export const SOAK_RSS_GROWTH_LIMIT_PCT = 5;

/** Prometheus text → the value of one unlabelled metric. */
function metric(text: string, name: string): number {
  const match = new RegExp(`^${name} ([0-9.eE+-]+)`, 'm').exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

async function reading(server: ServerProcess, label: SoakReading['label'], startedAt: number, callsSoFar: number): Promise<SoakReading> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return {
    atMinutes: (Date.now() - startedAt) / 60_000,
    label,
    rssMb: server.rssMb(),
    heapUsedMb: metric(text, 'switchboard_process_nodejs_heap_size_used_bytes') / 2 ** 20,
    // prom-client resets its event-loop histogram at each scrape: this p99 covers the time since the last reading.
    eventLoopDelayP99Ms: metric(text, 'switchboard_process_nodejs_eventloop_lag_p99_seconds') * 1000,
    callsSoFar,
  };
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const { calls, minutes } = options;
  const callSeconds = options.callSeconds ?? 40;
  const sampleMinutes = options.sampleMinutes ?? 5;
  const say = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!Number.isInteger(calls) || calls < 1) throw new Error(`--calls must be a positive integer, got ${calls}`);
  if (!(minutes > 0)) throw new Error(`--minutes must be positive, got ${minutes}`);
  if (!(callSeconds >= 6)) throw new Error(`--call-seconds must be at least 6, got ${callSeconds}`);

  const tmp = mkdtempSync(join(tmpdir(), 'switchboard-soak-'));
  let generator: LoadGenerator | undefined;
  let server: ServerProcess | undefined;
  try {
    generator = await startLoadGenerator({
      latency: 'realistic',
      personas: { [BENCH_NUMBER]: benchPersona(callSeconds), [WARMUP_NUMBER]: warmupPersona() },
      tmpDir: tmp,
    });
    const gen = generator;
    server = await startServerProcess({ env: generator.serverEnv(), dataDir: tmp });
    const srv = server;
    await srv.ready();
    say('[soak] warming up with one call');
    const warm = await postCall(srv, WARMUP_NUMBER);
    if (warm.carrierCallId) await gen.twilio.waitForCall(warm.carrierCallId, TERMINAL_STATUSES, 90_000);
    await finalRecord(srv, warm.id, 15_000);

    const startedAt = Date.now();
    const deadline = startedAt + minutes * 60_000;
    const readings: SoakReading[] = [];
    let callsPlaced = 0;
    let callsNotPlaced = 0;
    readings.push(await reading(srv, 'start', startedAt, 0));
    say(`[soak] start: RSS ${readings[0]?.rssMb.toFixed(1)} MB, heap ${readings[0]?.heapUsedMb.toFixed(1)} MB`);
    let nextReadingAt = startedAt + sampleMinutes * 60_000;
    const readingTimer = setInterval(() => {
      if (Date.now() < nextReadingAt) return;
      nextReadingAt += sampleMinutes * 60_000;
      void reading(srv, 'periodic', startedAt, callsPlaced).then(
        (r) => {
          readings.push(r);
          say(
            `[soak] ${r.atMinutes.toFixed(1)} min: RSS ${r.rssMb.toFixed(1)} MB, heap ${r.heapUsedMb.toFixed(1)} MB, loop p99 ${r.eventLoopDelayP99Ms.toFixed(1)} ms`,
          );
        },
        (error: unknown) => say(`[soak] reading failed: ${error instanceof Error ? error.message : String(error)}`),
      );
    }, 1000);

    let waves = 0;
    let lastWaveMs = (callSeconds + 10) * 1000;
    let callsStuck = 0;
    let recordsLost = 0;
    let received = 0;
    let late = 0;
    let maxLatenessMs = 0;
    const allRecords: Array<CallRecord | undefined> = [];
    try {
      while (Date.now() + lastWaveMs <= deadline) {
        const waveStart = Date.now();
        waves++;
        const placed = await Promise.all(
          Array.from({ length: calls }, async (_, i) => {
            await sleep(calls > 1 ? (i * STAGGER_MS) / (calls - 1) : 0);
            try {
              return await postCall(srv, BENCH_NUMBER);
            } catch (error) {
              callsNotPlaced++;
              say(`[soak] wave ${waves}: call ${i} not placed: ${error instanceof Error ? error.message : String(error)}`);
              return undefined;
            }
          }),
        );
        const ok = placed.filter((p): p is { id: string; carrierCallId: string | null } => p !== undefined);
        callsPlaced += ok.length;
        const carrier = await Promise.all(
          ok.map((p) =>
            p.carrierCallId
              ? gen.twilio.waitForCall(p.carrierCallId, TERMINAL_STATUSES, (callSeconds + 60) * 1000).catch(() => undefined)
              : Promise.resolve(undefined),
          ),
        );
        const records = await mapLimit(ok, 8, async (p) => {
          const response = await fetch(`${srv.url}/calls/${p.id}`);
          if (response.status === 404) return 'lost' as const;
          return finalRecord(srv, p.id, STUCK_AFTER_MS);
        });
        let waveStuck = 0;
        let waveLost = 0;
        for (const record of records) {
          if (record === 'lost' || record === undefined) waveLost++;
          else if (!TERMINAL_STATUSES.includes(record.status)) waveStuck++;
          allRecords.push(record === 'lost' ? undefined : record);
        }
        callsStuck += waveStuck;
        recordsLost += waveLost;
        const emulated = carrier.filter((r): r is EmulatedCallRecord => r !== undefined);
        const lf = lateFrames(emulated, { from: 0, to: 0 });
        received += lf.framesReceived;
        late += lf.lateFrames;
        maxLatenessMs = Math.max(maxLatenessMs, lf.maxLatenessMs);
        lastWaveMs = Date.now() - waveStart;
        say(
          `[soak] wave ${waves} (${((Date.now() - startedAt) / 60_000).toFixed(1)} min): ${ok.length} calls in ${(lastWaveMs / 1000).toFixed(1)} s, ` +
            `late frames ${lf.lateFrames}/${lf.framesReceived}, stuck ${waveStuck}, lost ${waveLost}, RSS ${srv.rssMb().toFixed(1)} MB`,
        );
      }
    } finally {
      clearInterval(readingTimer);
    }
    readings.push(await reading(srv, 'end', startedAt, callsPlaced));
    const failures = callFailures(allRecords);
    await srv.stop();
    server = undefined;

    const start = readings[0] as SoakReading;
    const end = readings.at(-1) as SoakReading;
    const warmReading = readings.find((r) => r.label === 'periodic');
    const growth = (from: SoakReading | undefined) => (from ? ((end.rssMb - from.rssMb) / from.rssMb) * 100 : Number.NaN);
    const lateFramePct = received > 0 ? (late / received) * 100 : 0;
    const rssGrowthAfterWarmupPct = growth(warmReading);
    const verdict = {
      rssGrowthOk: !(rssGrowthAfterWarmupPct > SOAK_RSS_GROWTH_LIMIT_PCT),
      noStuck: callsStuck === 0,
      noLost: recordsLost === 0,
      lateFramesOk: lateFramePct < 1,
      pass: false,
    };
    verdict.pass = verdict.rssGrowthOk && verdict.noStuck && verdict.noLost && verdict.lateFramesOk;
    const log = summariseServerLog(join(tmp, 'server.log'));
    const result: SoakResult = {
      calls,
      minutes,
      callSeconds,
      waves,
      callsPlaced,
      callsNotPlaced,
      readings,
      rssGrowthAfterWarmupPct,
      rssGrowthFromStartPct: growth(start),
      eventLoopDelayP99MsMax: Math.max(...readings.map((r) => r.eventLoopDelayP99Ms).filter(Number.isFinite)),
      lateFrames: { received, late, pct: lateFramePct, maxLatenessMs },
      callsStuck,
      recordsLost,
      failedCalls: failures.total,
      failureStatuses: failures.statuses,
      failureErrors: failures.errors,
      serverLog: log,
      verdict,
    };
    if (options.jsonFile) writeFileSync(options.jsonFile, `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    await server?.stop().catch(() => undefined);
    await generator?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a');

/** The readable report of a soak. */
export function formatSoak(r: SoakResult): string {
  const ok = (pass: boolean) => (pass ? 'ok' : 'MISSED');
  const lines = [
    `\nSoak: ${r.calls} concurrent calls per wave, ${r.minutes} min, ${r.callSeconds} s calls — ${r.waves} waves, ${r.callsPlaced} calls (${r.callsNotPlaced} not placed)`,
    '-'.repeat(80),
    'readings (min  label     RSS MB  heap MB  loop p99 ms  calls so far):',
    ...r.readings.map(
      (x) =>
        `  ${x.atMinutes.toFixed(1).padStart(5)}  ${x.label.padEnd(8)}  ${f1(x.rssMb).padStart(6)}  ${f1(x.heapUsedMb).padStart(7)}  ${f1(x.eventLoopDelayP99Ms).padStart(11)}  ${x.callsSoFar}`,
    ),
    `RSS growth after warm-up   ${f1(r.rssGrowthAfterWarmupPct)} % (from start ${f1(r.rssGrowthFromStartPct)} %)   [≤ ${SOAK_RSS_GROWTH_LIMIT_PCT} %: ${ok(r.verdict.rssGrowthOk)}]`,
    `event-loop delay p99       max ${f1(r.eventLoopDelayP99MsMax)} ms over the readings`,
    `late frames                ${r.lateFrames.late} of ${r.lateFrames.received} (${r.lateFrames.pct.toFixed(3)} %), worst ${f1(r.lateFrames.maxLatenessMs)} ms   [< 1 %: ${ok(r.verdict.lateFramesOk)}]`,
    `calls stuck                ${r.callsStuck}   [0: ${ok(r.verdict.noStuck)}]`,
    `records lost               ${r.recordsLost}   [0: ${ok(r.verdict.noLost)}]`,
    `failed calls               ${r.failedCalls} ${JSON.stringify(r.failureStatuses)}`,
    `server log                 ${r.serverLog.warnings} warnings, ${r.serverLog.errors} errors`,
    `verdict                    ${r.verdict.pass ? 'PASS' : 'FAIL'}`,
  ];
  for (const [message, count] of Object.entries(r.failureErrors)) lines.push(`  pipeline error ${count} × ${message}`);
  return `${lines.join('\n')}\n`;
}
