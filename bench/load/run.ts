/**
 * One load run: N concurrent calls for T seconds against a freshly started server child, with the provider
 * emulators at one latency setting.
 *
 * 1. Start the load generator (emulators) and the server child; wait until its API answers.
 * 2. Warm up with one short call (VAD model, SDK clients, TLS, the TTS emulator's synthesis cache), then
 *    read the server's baseline RSS.
 * 3. Place the N calls, their starts spread over up to 2 s so they don't speak in lockstep.
 * 4. Steady window: from 2 s after the last call connected to just before the first one hangs up. Server
 *    CPU (/proc) and the generator's own CPU, event-loop delay and media-clock accuracy are measured over it;
 *    server RSS is sampled through it.
 * 5. Wait for every call to end, read the server's records, stop the server, close the emulators.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { EmulatedCallRecord } from '../../src/sandbox/carriers/shared/call-record.ts';
import { nowMs } from '../../src/sandbox/carriers/shared/media-clock.ts';
import type { CallRecord } from '../../src/store/index.ts';
import { startLoadGenerator, type LatencyMode, type LoadGenerator } from './generator.ts';
import {
  calleeTimeouts,
  callFailures,
  carrierBargeIns,
  lateFrames,
  LATENCY_STAGES,
  percentile,
  percentiles,
  serverBargeInDecisions,
  serverBargeIns,
  spuriousBargeIns,
  stageValues,
  type CallFailures,
  type LateFrames,
  type LatencyStage,
  type Percentiles,
} from './metrics.ts';
import { BENCH_NUMBER, benchPersona, CONVERSATION_CALLER, conversationPersona, WARMUP_NUMBER, warmupPersona } from './persona.ts';
import { analyseCpuProfile, selfTimeByFile, type FileSelfTime, type HotSpot } from './profile.ts';
import { clockBetween, cpuOverSamples, idleRss, type ClockReading, type CpuSample } from './sampling.ts';
import { BENCH_CALLER_ID } from './generator.ts';
import { finalRecord, inboundCallIds, mapLimit, postCall, sleep, TERMINAL_STATUSES } from './server-api.ts';
import {
  machineBusyMs,
  startServerProcess,
  summariseServerLog,
  tail,
  type ServerLogSummary,
  type ServerProcess,
} from './server-process.ts';

/**
 * `reminder`: outbound calls, the callee loops on "what time was that?" (persona.ts, benchPersona).
 * `conversation`: inbound calls, the caller asks, interrupts the reply 1.5 s in, asks again, lets that reply
 * finish, repeats, and hangs up after `seconds` (persona.ts, conversationPersona; issue 15's workload).
 */
export type Workload = 'reminder' | 'conversation';
export const WORKLOADS: readonly Workload[] = ['reminder', 'conversation'];

export interface LoadRunOptions {
  calls: number;
  seconds: number;
  latency: LatencyMode;
  /** @default 'reminder' */
  workload?: Workload | undefined;
  /** Profile the server child (`--cpu-prof`) into this folder and report its hot spots. @default no profile */
  cpuProfileDir?: string | undefined;
  /** Progress lines (stderr). @default none */
  progress?: (line: string) => void;
  /** Write every call's server record and carrier record to this JSON file (for digging into a run). @default none */
  dumpFile?: string | undefined;
  /** Spread the call starts over this long. @default min(2000, 50 × (calls − 1)) ms */
  staggerMs?: number | undefined;
  /** Checkout whose server runs (A/B against another commit). @default SWITCHBOARD_BENCH_SERVER_ROOT, else this checkout */
  serverRoot?: string | undefined;
  /** Extra work during the steady window (e.g. bench/load/flood.ts), and the server's final records. @default none */
  hooks?: LoadRunHooks | undefined;
}

export interface LoadRunHooks {
  /** Called when the steady window starts (not awaited before the window ends; awaited after it). */
  onWindow?(window: { serverUrl: string; startMs: number; endMs: number }): Promise<void>;
  /** Every call's final server record, once the calls have ended. */
  onRecords?(records: CallRecord[]): void;
}

export interface LoadRunResult {
  workload: Workload;
  latency: LatencyMode;
  calls: number;
  seconds: number;
  /** The steady window the CPU and RSS figures cover. */
  windowSeconds: number;
  overheadMs: Percentiles;
  voiceToVoiceMs: Percentiles;
  /**
   * Callee stopped → our VAD decided the turn was over: the configured 0.8 s of silence plus any lag of our
   * VAD. `overheadMs` leaves this wait out, so VAD lag under load shows here, not there.
   */
  turnEndMs: Percentiles;
  /** Median of each turn stage (ms after the callee stopped speaking; provider/overhead are durations). */
  stageMediansMs: Record<LatencyStage, number>;
  /** At the carrier: callee line start → first `clear` after it. */
  bargeInMs: Percentiles & { interruptions: number; missed: number; cutByHangUp: number };
  /** Server barge-ins not caused by a callee line over the bot (see metrics.spuriousBargeIns). */
  spuriousBargeIns: number;
  /** Callee waits for the bot that timed out, by step kind (a reply that never came or never ended). */
  calleeTimeouts: Record<string, number>;
  /** The server's own figure: VAD speech onset → `clear` sent. */
  serverBargeInMs: Percentiles;
  /** Of that, VAD speech onset → barge-in decided (the minimum voiced time, plus pauses inside it). */
  serverBargeInDecisionMs: Percentiles;
  assistantTurns: number;
  userTurns: number;
  server: {
    cpuMsPerCallSecond: number;
    /** Of cpuMsPerCallSecond: the main (JavaScript) thread, and every other thread (GC, libuv pool, onnxruntime, …). */
    cpuMsPerCallSecondByThread: { main: number; helpers: number };
    callsPerCore: number;
    /** Server CPU over the window as a share of one core (%). */
    cpuPctOfCore: number;
    /** From the first call placed to the start of the window: mean, and the busiest second (% of a core). */
    rampCpuPctOfCore: { mean: number; peak1s: number };
    rssBaselineMb: number;
    rssSteadyMb: number;
    rssPeakMb: number;
    rssMbPerCall: number;
    /** Calls whose media was up for the whole window. */
    callsLiveInWindow: number;
    log: ServerLogSummary;
    exit: { code: number | null; signal: string | null };
  };
  lateFrames: LateFrames;
  failures: CallFailures & { placeFailures: number };
  generator: {
    /** The benchmark process's CPU over the window as a share of one core (%). */
    cpuPctOfCore: number;
    eventLoopDelayMs: { p99: number; max: number };
    /** Media clock wake-up lateness: mean over the window; p99/max over the whole run. */
    clock: ClockReading;
    speechCache: { hits: number; misses: number };
    /**
     * Busy time of all CPUs over the window (% of one core; 200 % = both cores of a 2-core machine busy).
     * Compare with server + generator: a large excess means other work competed with the run (kernel
     * network work for the loopback sockets is part of it).
     */
    machineBusyPct: number;
    protocolErrors: number;
    failedWebhooks: number;
  };
  /** The server's CPU profile: hot spots over the steady window and over call set-up (placing → window). */
  profile?: { file: string; steady: HotSpot[]; steadyByFile: FileSelfTime[]; setUp: HotSpot[] };
}

/** The calls took so long to connect that no steady window is left before the first hang-up. */
export class WindowTooShortError extends Error {
  constructor(
    readonly windowMs: number,
    readonly connectSpreadMs: number,
    readonly connected: number,
    readonly placed: number,
  ) {
    super(
      `no steady window to measure (${Math.round(windowMs)} ms): ${connected} of ${placed} calls connected, ` +
        `the last ${(connectSpreadMs / 1000).toFixed(1)} s after the first (use more --seconds, or fewer calls)`,
    );
    this.name = 'WindowTooShortError';
  }
}

const SETTLE_AFTER_CONNECT_MS = 2000;
const LOOP_DELAY_RESOLUTION_MS = 5;

/** Main-thread profiles in `dir` (`CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`; thread 0 is main, others are tsx's loader). */
function listProfiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/** Waits until `count` of the calls `sids` have their callee connected, or the deadline; returns the connect times. */
async function waitForConnections(generator: LoadGenerator, sids: Set<string>, count: number, timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const connected = [...sids].flatMap((sid) => {
      const at = generator.twilio.calls.get(sid)?.record.callee?.connectedAt;
      return typeof at === 'number' ? [at] : [];
    });
    if (connected.length >= count || Date.now() > deadline) return connected;
    await sleep(100);
  }
}

export async function runLoad(options: LoadRunOptions): Promise<LoadRunResult> {
  const { calls, seconds, latency } = options;
  const workload = options.workload ?? 'reminder';
  const say = options.progress ?? (() => {});
  const tmp = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
  const profileDir = options.cpuProfileDir;
  const profilesBefore = new Set(profileDir ? listProfiles(profileDir) : []);
  let generator: LoadGenerator | undefined;
  let server: ServerProcess | undefined;
  try {
    generator = await startLoadGenerator({
      latency,
      personas: {
        [BENCH_NUMBER]: benchPersona(seconds),
        [WARMUP_NUMBER]: warmupPersona(),
        [CONVERSATION_CALLER]: conversationPersona(seconds),
      },
      tmpDir: tmp,
    });
    const spawnedAt = nowMs(); // ≈ where the child's CPU profile starts
    server = await startServerProcess({ env: generator.serverEnv(), dataDir: tmp, cpuProfileDir: profileDir, root: options.serverRoot });
    await server.ready();

    say(`[${latency}] warming up the server with one call`);
    const warm = await postCall(server, WARMUP_NUMBER);
    if (warm.carrierCallId) await generator.twilio.waitForCall(warm.carrierCallId, TERMINAL_STATUSES, 90_000);
    const warmRecord = await finalRecord(server, warm.id, 15_000);
    if (warmRecord?.status !== 'completed') throw new Error(`warm-up call ended ${warmRecord?.status ?? 'without a record'}`);
    const rssBaselineMb = await idleRss(server);

    // Place the calls, spread over up to 2 s.
    say(`[${latency}] placing ${calls} ${workload === 'conversation' ? 'inbound' : 'outbound'} calls for ${seconds} s`);
    // Server CPU while the calls are set up (TLS, provider sockets, first turns), in 250 ms steps.
    const placingAt = nowMs();
    const ramp: CpuSample[] = [{ at: placingAt, cpuMs: server.cpuMs() }];
    const rampSampler = setInterval(() => ramp.push({ at: nowMs(), cpuMs: (server as ServerProcess).cpuMs() }), 250);
    const staggerMs = options.staggerMs ?? Math.min(2000, 50 * (calls - 1));
    let placeFailures = 0;
    const placed: Array<{ id: string | null; carrierCallId: string | null } | undefined> = await Promise.all(
      Array.from({ length: calls }, async (_, i) => {
        await sleep(calls > 1 ? (i * staggerMs) / (calls - 1) : 0);
        try {
          if (workload === 'conversation') {
            // The carrier calls us; our record's id is looked up by its CallSid once the calls are over.
            const call = (generator as LoadGenerator).twilio.placeInboundCall({
              from: CONVERSATION_CALLER,
              to: BENCH_CALLER_ID,
              voiceUrl: `${(server as ServerProcess).url}/twilio/voice`,
              statusCallback: `${(server as ServerProcess).url}/twilio/status`,
              statusCallbackEvents: ['initiated', 'ringing', 'answered', 'completed'],
            });
            return { id: null, carrierCallId: call.id };
          }
          return await postCall(server as ServerProcess, BENCH_NUMBER);
        } catch (error) {
          placeFailures++;
          say(`[${latency}] call ${i} not placed: ${error instanceof Error ? error.message : String(error)}`);
          return undefined;
        }
      }),
    );
    const sids = new Set(placed.flatMap((p) => (p?.carrierCallId ? [p.carrierCallId] : [])));
    const connected = await waitForConnections(generator, sids, sids.size, 15_000);
    if (connected.length === 0)
      throw new Error(`none of the ${calls} calls connected (${placeFailures} not placed); server log:\n${tail(server.logFile)}`);
    const firstConnected = Math.min(...connected);
    const lastConnected = Math.max(...connected);
    const from = lastConnected + SETTLE_AFTER_CONNECT_MS;
    const to = firstConnected + seconds * 1000 - 250;
    if (to - from < 1000) throw new WindowTooShortError(to - from, lastConnected - firstConnected, connected.length, sids.size);

    // Steady window. Waiting for the connections can itself run past `from`: measure from where we are.
    await sleep(from - nowMs());
    const windowStart = nowMs();
    if (to - windowStart < 1000)
      throw new WindowTooShortError(to - windowStart, lastConnected - firstConnected, connected.length, sids.size);
    clearInterval(rampSampler);
    const cpu0 = server.cpuMs();
    const main0 = server.mainThreadCpuMs();
    const machine0 = machineBusyMs();
    ramp.push({ at: nowMs(), cpuMs: cpu0 });
    const gen0 = process.cpuUsage();
    const clock0 = generator.clock.snapshot();
    const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
    loopDelay.enable();
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push((server as ServerProcess).rssMb()), 500);
    const windowWork = options.hooks?.onWindow?.({ serverUrl: server.url, startMs: Date.now(), endMs: Date.now() + (to - nowMs()) });
    await sleep(to - nowMs());
    await windowWork;
    const cpu1 = server.cpuMs();
    const main1 = server.mainThreadCpuMs();
    const gen1 = process.cpuUsage(gen0);
    const machine1 = machineBusyMs();
    const clock1 = generator.clock.snapshot();
    loopDelay.disable();
    clearInterval(sampler);
    rss.push(server.rssMb());
    const windowMs = nowMs() - windowStart;
    const liveInWindow = [...sids].filter((sid) => {
      const record = generator?.twilio.calls.get(sid)?.record;
      const connectedAt = record?.callee?.connectedAt;
      return typeof connectedAt === 'number' && connectedAt <= from && (record?.endedAt === null || (record?.endedAt ?? 0) >= to);
    }).length;

    say(`[${latency}] window done (${(windowMs / 1000).toFixed(1)} s); waiting for the calls to end`);
    await Promise.all([...sids].map((sid) => generator?.twilio.waitForCall(sid, TERMINAL_STATUSES, 60_000).catch(() => undefined)));
    if (workload === 'conversation') {
      const ids = await inboundCallIds(server);
      for (const p of placed) if (p?.carrierCallId) p.id = ids.get(p.carrierCallId) ?? null;
    }
    const records = await mapLimit(placed, 8, async (p) => (p?.id ? finalRecord(server as ServerProcess, p.id, 20_000) : undefined));
    const emulated = [...sids].flatMap((sid) => {
      const record = generator?.twilio.calls.get(sid)?.record;
      return record ? [record] : [];
    }) as EmulatedCallRecord[];
    const stats = generator.twilio.stats();
    const serverRecords = records.filter((r): r is CallRecord => r !== undefined);
    options.hooks?.onRecords?.(serverRecords);

    if (options.dumpFile) {
      const pairs = placed.map((p, i) => ({
        server: records[i] ?? null,
        carrier: p?.carrierCallId ? (generator?.twilio.calls.get(p.carrierCallId)?.record ?? null) : null,
      }));
      writeFileSync(options.dumpFile, JSON.stringify({ latency, calls, seconds, window: { from, to }, pairs }));
    }
    const exit = await server.stop();
    server = undefined;
    let profile: LoadRunResult['profile'];
    if (profileDir) {
      const file = listProfiles(profileDir).find((f) => !profilesBefore.has(f));
      if (file) {
        const steady = { fromMs: from - spawnedAt, toMs: to - spawnedAt };
        profile = {
          file,
          steady: analyseCpuProfile(file, 20, steady),
          steadyByFile: selfTimeByFile(file, 15, steady),
          setUp: analyseCpuProfile(file, 12, { fromMs: placingAt - spawnedAt, toMs: from - spawnedAt }),
        };
      }
    }

    const callSeconds = calls * (windowMs / 1000);
    const cpuMsPerCallSecond = (cpu1 - cpu0) / callSeconds;
    const mainMsPerCallSecond = (main1 - main0) / callSeconds;
    const carrier = carrierBargeIns(emulated);
    const stageMediansMs = Object.fromEntries(LATENCY_STAGES.map((s) => [s, percentile(stageValues(serverRecords, s), 50)])) as Record<
      LatencyStage,
      number
    >;
    const rssSteadyMb = rss.reduce((a, b) => a + b, 0) / rss.length;
    const serverBargeIn = percentiles(serverBargeIns(serverRecords));
    const result: LoadRunResult = {
      workload,
      latency,
      calls,
      seconds,
      windowSeconds: windowMs / 1000,
      overheadMs: percentiles(stageValues(serverRecords, 'overheadMs')),
      voiceToVoiceMs: percentiles(stageValues(serverRecords, 'voiceToVoiceMs')),
      turnEndMs: percentiles(stageValues(serverRecords, 'turnEndMs')),
      stageMediansMs,
      bargeInMs: {
        ...percentiles(carrier.latenciesMs),
        interruptions: carrier.interruptions,
        missed: carrier.missed,
        cutByHangUp: carrier.cutByHangUp,
      },
      spuriousBargeIns: spuriousBargeIns(
        placed.flatMap((p, i) => {
          const serverRecord = records[i];
          const carrierRecord = p?.carrierCallId ? generator?.twilio.calls.get(p.carrierCallId)?.record : undefined;
          return serverRecord && carrierRecord ? [{ server: serverRecord, carrier: carrierRecord }] : [];
        }),
      ),
      serverBargeInMs: serverBargeIn,
      serverBargeInDecisionMs: percentiles(serverBargeInDecisions(serverRecords)),
      calleeTimeouts: calleeTimeouts(emulated),
      assistantTurns: serverRecords.reduce((n, r) => n + r.turns.filter((t) => t.role === 'assistant').length, 0),
      userTurns: serverRecords.reduce((n, r) => n + r.turns.filter((t) => t.role === 'user').length, 0),
      server: {
        cpuMsPerCallSecond,
        cpuMsPerCallSecondByThread: { main: mainMsPerCallSecond, helpers: cpuMsPerCallSecond - mainMsPerCallSecond },
        callsPerCore: 1000 / cpuMsPerCallSecond,
        cpuPctOfCore: ((cpu1 - cpu0) / windowMs) * 100,
        rampCpuPctOfCore: cpuOverSamples(ramp),
        rssBaselineMb,
        rssSteadyMb,
        rssPeakMb: Math.max(...rss),
        rssMbPerCall: (rssSteadyMb - rssBaselineMb) / calls,
        callsLiveInWindow: liveInWindow,
        log: summariseServerLog(join(tmp, 'server.log')),
        exit: { code: exit.code, signal: exit.signal },
      },
      lateFrames: lateFrames(emulated, { from, to }),
      failures: { ...callFailures(records), placeFailures },
      generator: {
        cpuPctOfCore: ((gen1.user + gen1.system) / 1000 / windowMs) * 100,
        // The histogram holds whole timer periods: the resolution itself is not delay.
        eventLoopDelayMs: {
          p99: Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_DELAY_RESOLUTION_MS),
          max: Math.max(0, loopDelay.max / 1e6 - LOOP_DELAY_RESOLUTION_MS),
        },
        clock: clockBetween(clock0, clock1),
        speechCache: generator.cartesia.speechCache(),
        machineBusyPct: ((machine1 - machine0) / windowMs) * 100,
        protocolErrors: stats.protocolErrors,
        failedWebhooks: stats.failedWebhooks,
      },
      ...(profile ? { profile } : {}),
    };
    return result;
  } finally {
    await server?.stop().catch(() => undefined);
    await generator?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}
