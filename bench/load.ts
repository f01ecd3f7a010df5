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
import { CONVERSATION_SECONDS } from './load/persona.ts';
import { runLoad, WindowTooShortError, WORKLOADS, type LoadRunResult, type Workload } from './load/run.ts';
import type { SipLoadResult } from './load/sip-run.ts';

export interface LoadBenchOptions {
  /** Concurrent calls; several counts run one after the other and RSS per call is fitted over them. */
  calls: number | number[];
  /** Seconds each run lasts (calls hang up this long after connecting). @default 40 for `conversation`, else 20 */
  seconds?: number | undefined;
  /** @default 'reminder' */
  workload?: Workload | undefined;
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
/**
 * Conversation workload `--find-max`: a step also fails when voice-to-voice p95 exceeds the first (lightest)
 * step's by more than this factor, so "sustained" means the callers hear no slower a bot, not only no gaps.
 */
export const FIND_MAX_V2V_FACTOR = 1.25;
/** Conversation workload `--find-max` steps (each run lasts the workload's 40 s). */
export const CONVERSATION_FIND_MAX_STEPS = [10, 25, 50, 75, 100, 125, 150, 200, 250, 300];
const MIN_SECONDS = 6;

type JsonSummary = LoadSummary & {
  latency: LatencyMode;
  realistic?: LoadSummary;
  findMax?: FindMaxSummary;
  /** With several call counts: every run, and RSS per call fitted over them. */
  runs?: LoadSummary[];
  rssFit?: RssFit;
  sip?: SipLoadResult;
};

export interface RssFit {
  /** Least-squares slope of steady RSS over concurrent calls (MB per call). */
  mbPerCall: number;
  /** Intercept (MB at zero calls). */
  interceptMb: number;
  /** Coefficient of determination of the fit. */
  r2: number;
  points: Array<{ calls: number; rssSteadyMb: number; rssBaselineMb: number }>;
}

/** Ordinary least squares of y over x. */
export function leastSquares(points: ReadonlyArray<{ x: number; y: number }>): { slope: number; intercept: number; r2: number } {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
    syy += (p.y - my) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : Number.NaN;
  return { slope, intercept: my - slope * mx, r2: sxx > 0 && syy > 0 ? (sxy * sxy) / (sxx * syy) : Number.NaN };
}

/**
 * RSS per call over runs at several call counts. Each run's steady RSS minus its own idle baseline is fitted
 * against the call count: a single difference is noisy because V8 gives memory back when it likes.
 */
export function fitRss(results: readonly LoadRunResult[]): RssFit {
  const points = results.map((r) => ({ calls: r.calls, rssSteadyMb: r.server.rssSteadyMb, rssBaselineMb: r.server.rssBaselineMb }));
  const fit = leastSquares(points.map((p) => ({ x: p.calls, y: p.rssSteadyMb - p.rssBaselineMb })));
  return { mbPerCall: fit.slope, interceptMb: fit.intercept, r2: fit.r2, points };
}

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
  voiceToVoiceP95Ms?: number;
  serverCpuMsPerCallSecond?: number;
}

interface FindMaxSummary {
  /**
   * Most concurrent calls that ran with ≤ 1 % late frames and no failed call; 0 if none did. On the
   * conversation workload: late frames < 1 %, no failed call and voice-to-voice p95 ≤ FIND_MAX_V2V_FACTOR ×
   * the first step's.
   */
  maxCalls: number;
  criterion: string;
  /** Most concurrent calls that also kept the conversation's quality (see FindMaxStep.healthy). */
  maxHealthyCalls: number;
  seconds: number;
  steps: FindMaxStep[];
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

function passes(result: LoadRunResult, v2vBoundMs: number | undefined): boolean {
  const v2vOk = v2vBoundMs === undefined || result.voiceToVoiceMs.p95 <= v2vBoundMs;
  const lateOk = result.workload === 'conversation' ? result.lateFrames.pct < 1 : result.lateFrames.pct <= 1;
  return lateOk && v2vOk && result.failures.total + result.failures.placeFailures === 0;
}

async function findMax(
  workload: Workload,
  mode: LatencyMode,
  seconds: number,
  cpuProfileDir: string | undefined,
  dumpFile: (mode: LatencyMode, calls: number) => string | undefined,
  staggerMs: number | undefined,
): Promise<{ best: LoadRunResult | undefined; first: LoadRunResult; summary: FindMaxSummary }> {
  const conversation = workload === 'conversation';
  const runSeconds = conversation ? seconds : Math.min(seconds, FIND_MAX_SECONDS);
  const steps: FindMaxStep[] = [];
  let best: LoadRunResult | undefined;
  let first: LoadRunResult | undefined;
  let v2vBoundMs: number | undefined;
  for (const calls of conversation ? CONVERSATION_FIND_MAX_STEPS : FIND_MAX_STEPS) {
    let result: LoadRunResult;
    try {
      result = await runLoad({
        workload,
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
    if (conversation) v2vBoundMs ??= first.voiceToVoiceMs.p95 * FIND_MAX_V2V_FACTOR;
    process.stdout.write(formatRun(result, { bargeInMs: BARGE_IN_TARGET_MS }));
    const pass = passes(result, v2vBoundMs);
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
      voiceToVoiceP95Ms: round(result.voiceToVoiceMs.p95, 0),
      serverCpuMsPerCallSecond: round(result.server.cpuMsPerCallSecond, 2),
    });
    progress(
      `[find-max] ${calls} calls: ${pass ? 'pass' : 'FAIL'} (late frames ${result.lateFrames.pct.toFixed(3)} %, failed calls ${steps.at(-1)?.failedCalls}, v2v p95 ${result.voiceToVoiceMs.p95.toFixed(0)} ms${v2vBoundMs !== undefined ? ` (bound ${v2vBoundMs.toFixed(0)})` : ''})`,
    );
    if (!pass) break;
    best = result;
  }
  let maxHealthyCalls = 0;
  for (const s of steps) {
    if (!s.healthy) break;
    maxHealthyCalls = s.calls;
  }
  const criterion = conversation
    ? `late frames < 1 %, no failed call, voice-to-voice p95 ≤ ${FIND_MAX_V2V_FACTOR} × the ${CONVERSATION_FIND_MAX_STEPS[0]}-call step's (${v2vBoundMs?.toFixed(0)} ms)`
    : 'late frames ≤ 1 %, no failed call';
  const summary: FindMaxSummary = { maxCalls: best?.calls ?? 0, criterion, maxHealthyCalls, seconds: runSeconds, steps };
  process.stdout.write(
    `\nfind-max (${workload} workload, ${mode} latency, ${runSeconds} s runs): ${summary.maxCalls} concurrent calls sustained (${criterion}); ` +
      `${maxHealthyCalls} with the conversation intact (also turn-end p95 ≤ ${HEALTHY_TURN_END_P95_MS} ms, no spurious barge-in)\n`,
  );
  for (const s of steps) {
    process.stdout.write(
      s.error
        ? `  ${String(s.calls).padStart(4)} calls  FAIL  ${s.error}\n`
        : `  ${String(s.calls).padStart(4)} calls  ${s.pass ? 'pass' : 'FAIL'}  late frames ${s.lateFramePct.toFixed(3)} %  failed ${s.failedCalls}  v2v p95 ${s.voiceToVoiceP95Ms ?? 'n/a'} ms  CPU ${s.serverCpuMsPerCallSecond ?? 'n/a'} ms/call-s  calls/core ${s.callsPerCore.toFixed(1)}  overhead p95 ${s.overheadP95Ms.toFixed(1)} ms  turn-end p95 ${s.turnEndP95Ms.toFixed(0)} ms  spurious barge-ins ${s.spuriousBargeIns}  generator CPU ${s.generatorCpuPct.toFixed(0)} %, clock p99 ${s.generatorClockP99Ms.toFixed(1)} ms\n`,
    );
  }
  if (!first) throw new Error(`find-max: the first step could not be measured`);
  return { best, first, summary };
}

export async function runLoadBench(options: LoadBenchOptions): Promise<void> {
  const workload = options.workload ?? 'reminder';
  if (!WORKLOADS.includes(workload)) throw new Error(`--workload must be one of ${WORKLOADS.join(', ')}, got ${String(workload)}`);
  const counts = Array.isArray(options.calls) ? options.calls : [options.calls];
  if (counts.length === 0 || counts.some((c) => !Number.isInteger(c) || c < 1))
    throw new Error(`--calls must be a positive integer or a comma-separated list of them, got ${counts.join(',')}`);
  const seconds = options.seconds ?? (workload === 'conversation' ? CONVERSATION_SECONDS : 20);
  if (!Number.isFinite(seconds) || seconds < MIN_SECONDS) throw new Error(`--seconds must be at least ${MIN_SECONDS}, got ${seconds}`);
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
    const { best, first, summary } = await findMax(workload, main, seconds, cpuProfileDir, dumpFile, staggerMs);
    json = { ...summarise(best ?? first), latency: main, findMax: summary };
  } else {
    const results: LoadRunResult[] = [];
    for (const calls of counts) {
      for (const mode of modes) {
        const result = await runLoad({
          workload,
          calls,
          seconds,
          latency: mode,
          cpuProfileDir,
          progress,
          dumpFile: dumpFile(mode, calls),
          staggerMs,
        });
        results.push(result);
        process.stdout.write(formatRun(result, { bargeInMs: BARGE_IN_TARGET_MS }));
      }
    }
    const mainRuns = results.filter((r) => r.latency === main);
    json = { ...summarise(mainRuns[0] as LoadRunResult), latency: main };
    const realistic = results.find((r) => r.latency === 'realistic');
    if (realistic && main !== 'realistic') json.realistic = summarise(realistic);
    if (counts.length > 1) {
      json.runs = mainRuns.map(summarise);
      const fit = fitRss(mainRuns);
      json.rssFit = fit;
      process.stdout.write(
        `\nRSS per call (least squares over ${fit.points.length} runs at ${counts.join(', ')} calls, ${main} latency): ` +
          `${fit.mbPerCall.toFixed(2)} MB per call (intercept ${fit.interceptMb.toFixed(1)} MB, r² ${fit.r2.toFixed(3)})\n`,
      );
    }
  }
  if (carrier === 'sip') {
    const { runSipLoad, formatSipRun } = await import('./load/sip-run.ts');
    const sip = await runSipLoad({ calls: counts[0] as number, seconds, latency: main, progress });
    process.stdout.write(formatSipRun(sip, json.callsPerCore));
    json.sip = sip;
  }
  if (options.json) process.stdout.write(`${JSON.stringify(json)}\n`);
}
