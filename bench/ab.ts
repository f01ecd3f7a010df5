/**
 * A/B of the server at two commits on one load workload, rounds interleaved.
 *
 *   npx tsx bench/ab.ts --before <commit> --after <commit> [--calls 50,100] [--rounds 3]
 *                       [--workload conversation] [--latency realistic] [--out /tmp/ab.jsonl]
 *
 * Each commit is checked out once as a detached git worktree under /tmp (`/tmp/switchboard-ab-<sha>`, with this
 * checkout's node_modules symlinked in); the load generator (emulators, callees, measurement) is this
 * checkout's, so both servers face the identical workload and only the server differs. Runs go round by round,
 * call count by call count, with the order of the two commits alternating between rounds (A B, B A, …) so a
 * drift in machine load falls on both. Every run's summary is appended to `--out` as it finishes (JSON
 * lines); the end prints medians per commit and call count, the after/before ratio of server CPU per
 * call-second, and RSS per call fitted over all of each commit's runs.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fitRss } from './load.ts';
import type { LatencyMode } from './load/generator.ts';
import { summarise, type LoadSummary } from './load/report.ts';
import { runLoad, type LoadRunResult, type Workload } from './load/run.ts';

const REPO_ROOT = resolve(import.meta.dirname, '..');

/** A detached worktree of `commit` under /tmp with node_modules linked; returns its path. */
export function worktreeOf(commit: string): string {
  const sha = execFileSync('git', ['-C', REPO_ROOT, 'rev-parse', `${commit}^{commit}`], { encoding: 'utf8' }).trim();
  const dir = `/tmp/switchboard-ab-${sha.slice(0, 12)}`;
  if (!existsSync(join(dir, 'bin', 'switchboard'))) {
    execFileSync('git', ['-C', REPO_ROOT, 'worktree', 'add', '--detach', dir, sha], { stdio: 'ignore' });
  }
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(resolve(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const median = (values: number[]) => {
  const s = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

interface AbRun {
  side: 'before' | 'after';
  commit: string;
  round: number;
  summary: LoadSummary;
  result: LoadRunResult;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      before: { type: 'string' },
      after: { type: 'string', default: 'HEAD' },
      calls: { type: 'string', default: '50,100' },
      rounds: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '40' },
      workload: { type: 'string', default: 'conversation' },
      latency: { type: 'string', default: 'realistic' },
      out: { type: 'string', default: '/tmp/switchboard-ab.jsonl' },
    },
  });
  if (!values.before) throw new Error('--before <commit> is required');
  const counts = values.calls.split(',').map(Number);
  const rounds = Number(values.rounds);
  const sides = {
    before: { commit: values.before, root: worktreeOf(values.before) },
    after: { commit: values.after, root: worktreeOf(values.after) },
  };
  const say = (line: string) => process.stderr.write(`${line}\n`);
  say(`[ab] before ${sides.before.commit} → ${sides.before.root}; after ${sides.after.commit} → ${sides.after.root}`);
  const runs: AbRun[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const calls of counts) {
      const order: Array<'before' | 'after'> = round % 2 === 1 ? ['before', 'after'] : ['after', 'before'];
      for (const side of order) {
        say(`[ab] round ${round}, ${calls} calls, ${side} (${new Date().toISOString()})`);
        const result = await runLoad({
          workload: values.workload as Workload,
          calls,
          seconds: Number(values.seconds),
          latency: values.latency as LatencyMode,
          serverRoot: sides[side].root,
          progress: say,
        });
        const run: AbRun = { side, commit: sides[side].commit, round, summary: summarise(result), result };
        runs.push(run);
        appendFileSync(
          values.out,
          `${JSON.stringify({ at: new Date().toISOString(), side, commit: run.commit, round, ...run.summary, machineBusyPct: result.generator.machineBusyPct })}\n`,
        );
        say(
          `[ab]   ${side}: ${run.summary.serverCpuMsPerCallSecond} ms/call-s (main ${run.summary.serverCpuMsPerCallSecondByThread.main}, helpers ${run.summary.serverCpuMsPerCallSecondByThread.helpers}), late ${run.summary.lateFramePct} %, barge-in p95 ${run.summary.bargeInMs.p95} ms, v2v p95 ${run.summary.voiceToVoiceMs.p95} ms, machine busy ${result.generator.machineBusyPct.toFixed(0)} %`,
        );
      }
    }
  }
  const lines = [`\nA/B ${values.workload} workload, ${values.latency} latency, ${rounds} rounds interleaved (medians)`];
  for (const calls of counts) {
    const stat = (side: 'before' | 'after') => {
      const mine = runs.filter((r) => r.side === side && r.summary.calls === calls).map((r) => r.summary);
      return {
        cpu: median(mine.map((s) => s.serverCpuMsPerCallSecond)),
        main: median(mine.map((s) => s.serverCpuMsPerCallSecondByThread.main)),
        helpers: median(mine.map((s) => s.serverCpuMsPerCallSecondByThread.helpers)),
        late: median(mine.map((s) => s.lateFramePct)),
        bargeP95: median(mine.map((s) => s.bargeInMs.p95)),
        v2vP95: median(mine.map((s) => s.voiceToVoiceMs.p95)),
        idle: median(mine.map((s) => s.rssBaselineMb)),
        failed: mine.reduce((n, s) => n + s.failedCalls, 0),
        all: mine.map((s) => s.serverCpuMsPerCallSecond).join(', '),
      };
    };
    const b = stat('before');
    const a = stat('after');
    for (const [side, s] of [
      ['before', b],
      ['after', a],
    ] as const) {
      lines.push(
        `  ${String(calls).padStart(3)} calls ${side.padEnd(6)}  CPU ${s.cpu.toFixed(2)} ms/call-s (main ${s.main.toFixed(2)}, helpers ${s.helpers.toFixed(2)}; runs ${s.all})  late ${s.late.toFixed(3)} %  barge-in p95 ${s.bargeP95.toFixed(0)} ms  v2v p95 ${s.v2vP95.toFixed(0)} ms  idle RSS ${s.idle.toFixed(1)} MB  failed ${s.failed}`,
      );
    }
    lines.push(`  ${String(calls).padStart(3)} calls after/before CPU ratio ${(a.cpu / b.cpu).toFixed(2)}`);
  }
  for (const side of ['before', 'after'] as const) {
    const fit = fitRss(runs.filter((r) => r.side === side).map((r) => r.result));
    lines.push(
      `  RSS per call ${side}: ${fit.mbPerCall.toFixed(2)} MB (least squares over ${fit.points.length} runs, r² ${fit.r2.toFixed(2)})`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
