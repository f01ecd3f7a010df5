/**
 * `npm run bench` — the concurrent-call load benchmark.
 *
 * N sandbox calls on the Twilio path for T seconds, with the provider emulators at zero and/or realistic
 * latency. The load generator (Twilio emulator with simulated callees, Deepgram, Gemini and Cartesia
 * emulators) runs in this process; the server runs as a child process, so its CPU and memory are measured
 * on their own (see bench/load/run.ts for the procedure and bench/RESULTS.md for figures).
 *
 * Output: a table per run on stdout; with `json`, one JSON object on the last stdout line. Progress goes to
 * stderr. `SWITCHBOARD_BENCH_CPU_PROFILE=<dir>` also profiles the server (`--cpu-prof`) and lists its hot spots;
 * `SWITCHBOARD_BENCH_DUMP=<file prefix>` writes each run's call records (server and carrier) to
 * `<prefix>-<latency>-<calls>.json`; `SWITCHBOARD_BENCH_STAGGER_MS=<ms>` spreads the call starts over that
 * long instead of up to 2 s (a gentler set-up burst).
 */
import type { LatencyMode } from './load/generator.ts';
import { formatRun, summarise, type LoadSummary } from './load/report.ts';
import { runLoad, WindowTooShortError, type LoadRunResult } from './load/run.ts';
import type { SipLoadResult } from './load/sip-run.ts';

export interface LoadBenchOptions {
  /** Concurrent calls. */
  calls: number;
  /** Seconds each run lasts (calls hang up this long after connecting). */
  seconds: number;
  /** Step the number of calls up until frames run late or a call fails. */
  findMax: boolean;
  /** Print one JSON object on the last stdout line. */
  json: boolean;
  latency: 'zero' | 'realistic' | 'both';
  /** `sip`: after the Twilio run(s), the same load over SIP (bench/load/sip-run.ts), compared. @default 'twilio' */
  carrier?: string;
}

/**
 * The barge-in decision window: the caller must talk over the bot this long before it counts as an
 * interruption (UserTurnProcessor's `minBargeInSecs` default, 0.5 s). The target allows one 20 ms frame more.
 */
export const BARGE_IN_WINDOW_MS = 500;
const BARGE_IN_TARGET_MS = BARGE_IN_WINDOW_MS + 20;

/** Call counts `--find-max` tries, in order. */
export const FIND_MAX_STEPS = [25, 50, 100, 150, 200, 250, 300, 400, 500];
/** `--find-max` runs are at most this long. */
const FIND_MAX_SECONDS = 20;
/** The VAD's 800 ms of silence plus a little: a turn-end wait beyond this means our own processing lags. */
const HEALTHY_TURN_END_P95_MS = 900;
const MIN_SECONDS = 6;

type JsonSummary = LoadSummary & { latency: LatencyMode; realistic?: LoadSummary; findMax?: FindMaxSummary; sip?: SipLoadResult };

interface FindMaxStep {
  calls: number;
  pass: boolean;
  /** Why it failed when no figures could be taken (e.g. the calls took too long to connect). */
  error?: string;
  lateFramePct: number;
  failedCalls: number;
  callsPerCore: number;
  overheadP95Ms: number;
  generatorCpuPct: number;
  /** Worst media-clock wake-up lateness of the generator over the run (ms): high values mean the generator, not the server, was late. */
  generatorClockP99Ms: number;
  /** Turn-end wait p95 (ms): above the configured 800 ms by more than a VAD window or two means our VAD lags. */
  turnEndP95Ms: number;
  spuriousBargeIns: number;
  /** Passed, and the conversation kept its quality: turn-end p95 ≤ {@link HEALTHY_TURN_END_P95_MS} and no spurious barge-in. */
  healthy: boolean;
}

interface FindMaxSummary {
  /** Most concurrent calls that ran with < 1 % late frames and no failed call; 0 if none did. */
  maxCalls: number;
  /** Most concurrent calls that also kept the conversation's quality (see FindMaxStep.healthy). */
  maxHealthyCalls: number;
  seconds: number;
  steps: FindMaxStep[];
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

function passes(result: LoadRunResult): boolean {
  return result.lateFrames.pct <= 1 && result.failures.total + result.failures.placeFailures === 0;
}

async function findMax(
  mode: LatencyMode,
  seconds: number,
  cpuProfileDir: string | undefined,
  dumpFile: (mode: LatencyMode, calls: number) => string | undefined,
  staggerMs: number | undefined,
): Promise<{ best: LoadRunResult | undefined; first: LoadRunResult; summary: FindMaxSummary }> {
  const runSeconds = Math.min(seconds, FIND_MAX_SECONDS);
  const steps: FindMaxStep[] = [];
  let best: LoadRunResult | undefined;
  let first: LoadRunResult | undefined;
  for (const calls of FIND_MAX_STEPS) {
    let result: LoadRunResult;
    try {
      result = await runLoad({
        calls,
        seconds: runSeconds,
        latency: mode,
        cpuProfileDir,
        progress,
        dumpFile: dumpFile(mode, calls),
        staggerMs,
      });
    } catch (error) {
      if (!(error instanceof WindowTooShortError)) throw error;
      const failed: FindMaxStep = {
        calls,
        pass: false,
        error: error.message,
        lateFramePct: Number.NaN,
        failedCalls: Number.NaN,
        callsPerCore: Number.NaN,
        overheadP95Ms: Number.NaN,
        generatorCpuPct: Number.NaN,
        generatorClockP99Ms: Number.NaN,
        turnEndP95Ms: Number.NaN,
        spuriousBargeIns: Number.NaN,
        healthy: false,
      };
      steps.push(failed);
      progress(`[find-max] ${calls} calls: FAIL (${error.message})`);
      break;
    }
    first ??= result;
    process.stdout.write(formatRun(result, { bargeInMs: BARGE_IN_TARGET_MS }));
    const pass = passes(result);
    const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
    steps.push({
      calls,
      pass,
      lateFramePct: round(result.lateFrames.pct, 3),
      failedCalls: result.failures.total + result.failures.placeFailures,
      callsPerCore: round(result.server.callsPerCore, 1),
      overheadP95Ms: round(result.overheadMs.p95, 1),
      generatorCpuPct: round(result.generator.cpuPctOfCore, 1),
      generatorClockP99Ms: round(result.generator.clock.p99LatenessMs, 2),
      turnEndP95Ms: round(result.turnEndMs.p95, 1),
      spuriousBargeIns: result.spuriousBargeIns,
      healthy: pass && result.turnEndMs.p95 <= HEALTHY_TURN_END_P95_MS && result.spuriousBargeIns === 0,
    });
    progress(
      `[find-max] ${calls} calls: ${pass ? 'pass' : 'FAIL'} (late frames ${result.lateFrames.pct.toFixed(3)} %, failed calls ${steps.at(-1)?.failedCalls})`,
    );
    if (!pass) break;
    best = result;
  }
  let maxHealthyCalls = 0;
  for (const s of steps) {
    if (!s.healthy) break;
    maxHealthyCalls = s.calls;
  }
  const summary: FindMaxSummary = { maxCalls: best?.calls ?? 0, maxHealthyCalls, seconds: runSeconds, steps };
  process.stdout.write(
    `\nfind-max (${mode} latency, ${runSeconds} s runs): ${summary.maxCalls} concurrent calls sustained (late frames ≤ 1 %, no failed call); ` +
      `${maxHealthyCalls} with the conversation intact (also turn-end p95 ≤ ${HEALTHY_TURN_END_P95_MS} ms, no spurious barge-in)\n`,
  );
  for (const s of steps) {
    process.stdout.write(
      s.error
        ? `  ${String(s.calls).padStart(4)} calls  FAIL  ${s.error}\n`
        : `  ${String(s.calls).padStart(4)} calls  ${s.pass ? 'pass' : 'FAIL'}  late frames ${s.lateFramePct.toFixed(3)} %  failed ${s.failedCalls}  calls/core ${s.callsPerCore.toFixed(1)}  overhead p95 ${s.overheadP95Ms.toFixed(1)} ms  turn-end p95 ${s.turnEndP95Ms.toFixed(0)} ms  spurious barge-ins ${s.spuriousBargeIns}  generator CPU ${s.generatorCpuPct.toFixed(0)} %, clock p99 ${s.generatorClockP99Ms.toFixed(1)} ms\n`,
    );
  }
  if (!first) throw new Error(`find-max: the first step (${FIND_MAX_STEPS[0]} calls) could not be measured`);
  return { best, first, summary };
}

export async function runLoadBench(options: LoadBenchOptions): Promise<void> {
  if (!Number.isInteger(options.calls) || options.calls < 1) throw new Error(`--calls must be a positive integer, got ${options.calls}`);
  if (!Number.isFinite(options.seconds) || options.seconds < MIN_SECONDS)
    throw new Error(`--seconds must be at least ${MIN_SECONDS}, got ${options.seconds}`);
  if (!['zero', 'realistic', 'both'].includes(options.latency))
    throw new Error(`--latency must be zero, realistic or both, got ${options.latency}`);
  const carrier = options.carrier ?? 'twilio';
  if (!['twilio', 'sip'].includes(carrier)) throw new Error(`--carrier must be twilio or sip, got ${carrier}`);
  const modes: LatencyMode[] = options.latency === 'both' ? ['zero', 'realistic'] : [options.latency];
  const cpuProfileDir = process.env.SWITCHBOARD_BENCH_CPU_PROFILE || undefined;
  const dump = process.env.SWITCHBOARD_BENCH_DUMP || undefined;
  const dumpFile = (mode: LatencyMode, calls: number) => (dump ? `${dump}-${mode}-${calls}.json` : undefined);
  const stagger = process.env.SWITCHBOARD_BENCH_STAGGER_MS;
  const staggerMs = stagger ? Number(stagger) : undefined;
  if (staggerMs !== undefined && !(staggerMs >= 0)) throw new Error(`SWITCHBOARD_BENCH_STAGGER_MS must be a number of ms, got ${stagger}`);
  const main = modes[0] as LatencyMode;

  let json: JsonSummary;
  if (options.findMax) {
    const { best, first, summary } = await findMax(main, options.seconds, cpuProfileDir, dumpFile, staggerMs);
    json = { ...summarise(best ?? first), latency: main, findMax: summary };
  } else {
    const results: LoadRunResult[] = [];
    for (const mode of modes) {
      const result = await runLoad({
        calls: options.calls,
        seconds: options.seconds,
        latency: mode,
        cpuProfileDir,
        progress,
        dumpFile: dumpFile(mode, options.calls),
        staggerMs,
      });
      results.push(result);
      process.stdout.write(formatRun(result, { bargeInMs: BARGE_IN_TARGET_MS }));
    }
    json = { ...summarise(results[0] as LoadRunResult), latency: main };
    const realistic = results.find((r) => r.latency === 'realistic');
    if (realistic && main !== 'realistic') json.realistic = summarise(realistic);
  }
  if (carrier === 'sip') {
    const { runSipLoad, formatSipRun } = await import('./load/sip-run.ts');
    const sip = await runSipLoad({ calls: options.calls, seconds: options.seconds, latency: main, progress });
    process.stdout.write(formatSipRun(sip, json.callsPerCore));
    json.sip = sip;
  }
  if (options.json) process.stdout.write(`${JSON.stringify(json)}\n`);
}
