/** The load benchmark's readable table and its one-line JSON summary. */
import type { LoadRunResult } from './run.ts';

/** The JSON figures of one run (the issue's schema). */
export interface LoadSummary {
  workload: string;
  calls: number;
  seconds: number;
  overheadMs: { p50: number; p95: number; p99: number };
  bargeInMs: { p50: number; p95: number };
  serverCpuMsPerCallSecond: number;
  /** Main thread vs the other threads (GC, libuv pool, onnxruntime). */
  serverCpuMsPerCallSecondByThread: { main: number; helpers: number };
  voiceToVoiceMs: { p50: number; p95: number };
  rssBaselineMb: number;
  rssSteadyMb: number;
  callsPerCore: number;
  rssMbPerCall: number;
  lateFramePct: number;
  failedCalls: number;
}

const r1 = (v: number) => (Number.isFinite(v) ? Math.round(v * 10) / 10 : null);
const r2 = (v: number) => (Number.isFinite(v) ? Math.round(v * 100) / 100 : null);
const r3 = (v: number) => (Number.isFinite(v) ? Math.round(v * 1000) / 1000 : null);

export function summarise(result: LoadRunResult): LoadSummary {
  // Non-finite figures (e.g. no barge-in happened) become null in JSON; the casts keep the schema's shape.
  return {
    workload: result.workload,
    calls: result.calls,
    seconds: result.seconds,
    overheadMs: {
      p50: r1(result.overheadMs.p50) as number,
      p95: r1(result.overheadMs.p95) as number,
      p99: r1(result.overheadMs.p99) as number,
    },
    bargeInMs: { p50: r1(result.bargeInMs.p50) as number, p95: r1(result.bargeInMs.p95) as number },
    serverCpuMsPerCallSecond: r2(result.server.cpuMsPerCallSecond) as number,
    serverCpuMsPerCallSecondByThread: {
      main: r2(result.server.cpuMsPerCallSecondByThread.main) as number,
      helpers: r2(result.server.cpuMsPerCallSecondByThread.helpers) as number,
    },
    voiceToVoiceMs: { p50: r1(result.voiceToVoiceMs.p50) as number, p95: r1(result.voiceToVoiceMs.p95) as number },
    rssBaselineMb: r1(result.server.rssBaselineMb) as number,
    rssSteadyMb: r1(result.server.rssSteadyMb) as number,
    callsPerCore: r1(result.server.callsPerCore) as number,
    rssMbPerCall: r2(result.server.rssMbPerCall) as number,
    lateFramePct: r3(result.lateFrames.pct) as number,
    failedCalls: result.failures.total + result.failures.placeFailures,
  };
}

const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

/** The readable table for one run. */
export function formatRun(result: LoadRunResult, targets: { bargeInMs: number }): string {
  const s = result.server;
  const g = result.generator;
  const f = result.failures;
  const lf = result.lateFrames;
  const ok = (pass: boolean) => (pass ? 'ok' : 'MISSED');
  const rows: Array<[string, string, string?]> = [
    [
      'calls × seconds',
      `${result.calls} × ${result.seconds} s (steady window ${fmt(result.windowSeconds)} s, ${s.callsLiveInWindow} calls live through it)`,
    ],
    [
      'turns',
      `${result.assistantTurns} bot, ${result.userTurns} callee; ${result.bargeInMs.interruptions} interruptions (+${result.bargeInMs.cutByHangUp} cut short by the hang-up); callee waits timed out: ${JSON.stringify(result.calleeTimeouts)}`,
    ],
    [
      'overhead p50 / p95 / p99',
      `${fmt(result.overheadMs.p50)} / ${fmt(result.overheadMs.p95)} / ${fmt(result.overheadMs.p99)} ms`,
      `target p95 ≤ 5: ${ok(result.overheadMs.p95 <= 5)}`,
    ],
    [
      'barge-in at carrier p50 / p95',
      `${fmt(result.bargeInMs.p50)} / ${fmt(result.bargeInMs.p95)} ms (${result.bargeInMs.count} clears, ${result.bargeInMs.missed} interruptions without clear)`,
      `target p95 ≤ ${targets.bargeInMs}: ${ok(result.bargeInMs.p95 <= targets.bargeInMs)}`,
    ],
    [
      'barge-in server (VAD onset) p50 / p95',
      `${fmt(result.serverBargeInMs.p50)} / ${fmt(result.serverBargeInMs.p95)} ms (${result.serverBargeInMs.count}); decided after ${fmt(result.serverBargeInDecisionMs.p50)} / ${fmt(result.serverBargeInDecisionMs.p95)} ms; ${result.spuriousBargeIns} with no callee interruption behind them`,
    ],
    ['voice-to-voice p50 / p95', `${fmt(result.voiceToVoiceMs.p50)} / ${fmt(result.voiceToVoiceMs.p95)} ms`],
    [
      'turn-end wait p50 / p95 / p99',
      `${fmt(result.turnEndMs.p50)} / ${fmt(result.turnEndMs.p95)} / ${fmt(result.turnEndMs.p99)} ms (VAD stopSecs 800 + VAD lag; not part of overhead)`,
    ],
    [
      'stage medians',
      `turn end ${fmt(result.stageMediansMs.turnEndMs)}, STT final ${fmt(result.stageMediansMs.sttFinalMs)}, LLM first token ${fmt(result.stageMediansMs.llmFirstTokenMs)}, TTS first audio ${fmt(result.stageMediansMs.ttsFirstAudioMs)}, first audio out ${fmt(result.stageMediansMs.voiceToVoiceMs)} (provider ${fmt(result.stageMediansMs.providerMs)}, overhead ${fmt(result.stageMediansMs.overheadMs)}) ms`,
    ],
    [
      'server CPU',
      `${fmt(s.cpuMsPerCallSecond, 2)} ms per call-second (main thread ${fmt(s.cpuMsPerCallSecondByThread.main, 2)}, helper threads ${fmt(s.cpuMsPerCallSecondByThread.helpers, 2)}; ${fmt(s.cpuPctOfCore)} % of a core); during call set-up ${fmt(s.rampCpuPctOfCore.mean)} %, busiest second ${fmt(s.rampCpuPctOfCore.peak1s)} %`,
    ],
    ['calls per core', fmt(s.callsPerCore), `target ≥ 100: ${ok(s.callsPerCore >= 100)}`],
    ['server RSS', `${fmt(s.rssBaselineMb)} MB after warm-up → ${fmt(s.rssSteadyMb)} MB steady (peak ${fmt(s.rssPeakMb)})`],
    ['RSS per call', `${fmt(s.rssMbPerCall, 2)} MB`, `target ≤ 5: ${ok(s.rssMbPerCall <= 5)}`],
    [
      'late frames',
      `${lf.lateFrames} of ${lf.framesReceived} (${fmt(lf.pct, 3)} %), ${lf.inWindow} in the steady window, worst ${fmt(lf.maxLatenessMs)} ms late`,
      `target < 1 %: ${ok(lf.pct < 1)}`,
    ],
    [
      'failed calls',
      `${f.total + f.placeFailures} (${f.notCompleted} not completed${Object.keys(f.statuses).length ? ` ${JSON.stringify(f.statuses)}` : ''}, ${f.withErrors} with pipeline errors, ${f.placeFailures} not placed)`,
    ],
    ['server log', `${s.log.warnings} warnings, ${s.log.errors} errors; exit ${s.exit.code ?? s.exit.signal}`],
    [
      'generator CPU',
      `${fmt(g.cpuPctOfCore)} % of a core; event-loop delay p99 ${fmt(g.eventLoopDelayMs.p99)} ms, max ${fmt(g.eventLoopDelayMs.max)} ms; whole machine busy ${fmt(g.machineBusyPct)} % of a core`,
    ],
    [
      'generator media clock',
      `wake-up lateness mean ${fmt(g.clock.meanLatenessMs, 2)} ms (window), p99 ${fmt(g.clock.p99LatenessMs, 2)} ms, max ${fmt(g.clock.maxLatenessMs)} ms (run); ${g.clock.catchUpTicks} catch-up, ${g.clock.skippedTicks} skipped ticks`,
    ],
    [
      'generator TTS cache',
      `${g.speechCache.hits} hits, ${g.speechCache.misses} syntheses; ${g.protocolErrors} protocol errors, ${g.failedWebhooks} failed webhooks`,
    ],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines = [
    `\nLoad: ${result.calls} concurrent Twilio calls (${result.workload === 'conversation' ? 'conversation workload, inbound' : 'reminder workload, outbound'}), provider latency ${result.latency}`,
    '-'.repeat(width + 60),
  ];
  for (const [name, value, verdict] of rows) lines.push(`${name.padEnd(width)}  ${value}${verdict ? `   [${verdict}]` : ''}`);
  const messages = Object.entries(s.log.messages);
  if (messages.length > 0) {
    lines.push('server log lines:');
    for (const [message, count] of messages) lines.push(`  ${count} × ${message}`);
  }
  const errors = Object.entries(f.errors);
  if (errors.length > 0) {
    lines.push('pipeline errors:');
    for (const [message, count] of errors) lines.push(`  ${count} × ${message}`);
  }
  if (result.profile) {
    const spot = (s: { selfPct: number; selfMs: number }, what: string) =>
      `  ${fmt(s.selfPct).padStart(5)} %  ${fmt(s.selfMs, 0).padStart(7)} ms  ${what}`;
    lines.push(`server CPU profile ${result.profile.file}`);
    lines.push('  steady window, top self time by function:');
    for (const s of result.profile.steady) lines.push(spot(s, `${s.functionName}  ${s.location}`));
    lines.push('  steady window, self time by file:');
    for (const s of result.profile.steadyByFile) lines.push(spot(s, s.file));
    lines.push('  call set-up (first call placed → window), top self time by function:');
    for (const s of result.profile.setUp) lines.push(spot(s, `${s.functionName}  ${s.location}`));
  }
  return `${lines.join('\n')}\n`;
}
