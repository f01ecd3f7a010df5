/**
 * The server under test as a child process (`node bin/switchboard serve`), with its CPU time and resident
 * memory read from /proc, its output kept in a log file, and a guaranteed kill when the benchmark exits.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export interface ServerProcessOptions {
  /** Environment on top of the benchmark's own (carrier/provider settings). */
  env: Record<string, string>;
  /** Folder for the call store and the server's log. */
  dataDir: string;
  /** Write a V8 CPU profile (`--cpu-prof`) into this folder when the server exits. @default none */
  cpuProfileDir?: string | undefined;
  /**
   * Checkout whose `bin/switchboard serve` runs (A/B runs against another commit, see bench/ab.ts).
   * @default `SWITCHBOARD_BENCH_SERVER_ROOT`, else this checkout
   */
  root?: string | undefined;
}

export interface ServerProcess {
  readonly pid: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Where the server's stdout and stderr go. */
  readonly logFile: string;
  /** User + system CPU time of the whole process (all threads, living and exited) so far, in ms. */
  cpuMs(): number;
  /** User + system CPU time of the main (JavaScript) thread alone so far, in ms (/proc/<pid>/task/<pid>/stat). */
  mainThreadCpuMs(): number;
  /** Resident set size now, in MB. */
  rssMb(): number;
  /** Resolves once the HTTP API answers. */
  ready(timeoutMs?: number): Promise<void>;
  /** SIGTERM (the server closes and exits, writing its CPU profile), SIGKILL if it has not exited in time. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let clockTicksPerSecond: number | undefined;

/** `getconf CLK_TCK` (the unit of utime/stime in /proc/<pid>/stat); 100 on Linux in practice. */
export function clockTicks(): number {
  if (clockTicksPerSecond === undefined) {
    try {
      clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicksPerSecond = 100;
    }
  }
  return clockTicksPerSecond;
}

/** utime + stime of `pid` (all its threads) in ms, from /proc/<pid>/stat. */
export function processCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/stat`);
}

/**
 * utime + stime of the main thread of `pid` in ms (its task id is the pid). The rest of the process's CPU
 * (processCpuMs − this) is its helper threads: libuv's pool (file system, DNS, zlib), V8's GC and compiler
 * threads, onnxruntime's threads, tsx's loader.
 */
export function mainThreadCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

function statCpuMs(file: string): number {
  const stat = readFileSync(file, 'utf8');
  // Fields after the command name (which may contain spaces) start at ") ": state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / clockTicks();
}

/** CPU time all processes on the machine spent busy so far (user, nice, system, irq, softirq, steal), in ms. */
export function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] as string; // "cpu  user nice system idle iowait irq softirq steal …"
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
  return (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 1000) / clockTicks();
}

/** VmRSS of `pid` in MB, from /proc/<pid>/status. */
export function processRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) / 1024;
}

/** A TCP port free right now on 127.0.0.1 (the server child binds it a moment later). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills every server child still running when the benchmark process goes away (error, Ctrl-C). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const child of live) child.kill('SIGKILL');
      process.exit(130);
    });
  }
}

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  installExitHook();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(options.dataDir, 'server.log');
  const logFd = openSync(logFile, 'a');
  const nodeArgs = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  const root = options.root ?? (process.env.SWITCHBOARD_BENCH_SERVER_ROOT || REPO_ROOT);
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'bin', 'switchboard'), 'serve'], {
    cwd: root, // tsx reads the checkout's tsconfig; every setting the server needs is in env (it wins over .env)
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? options.dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: url,
      SWITCHBOARD_DATA_DIR: join(options.dataDir, 'data'),
      LOG_LEVEL: 'warn',
      // Node flags for the server only (e.g. GC tuning experiments): SWITCHBOARD_BENCH_SERVER_NODE_OPTIONS.
      ...(process.env.SWITCHBOARD_BENCH_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.SWITCHBOARD_BENCH_SERVER_NODE_OPTIONS } : {}),
      ...options.env,
    },
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  live.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolveExit({ code, signal });
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the server process');
  let exitedEarly: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((result) => {
    exitedEarly = result;
  });

  return {
    pid,
    url,
    logFile,
    cpuMs: () => processCpuMs(pid),
    mainThreadCpuMs: () => mainThreadCpuMs(pid),
    rssMb: () => processRssMb(pid),
    async ready(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (exitedEarly) {
          throw new Error(`server exited during start-up (code ${exitedEarly.code}, signal ${exitedEarly.signal}):\n${tail(logFile)}`);
        }
        try {
          const response = await fetch(`${url}/calls?limit=1`);
          if (response.ok) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`server did not answer within ${timeoutMs} ms:\n${tail(logFile)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop(timeoutMs = 15_000) {
      if (exitedEarly) return exitedEarly;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** The last lines of a log file (for error messages). */
export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export interface ServerLogSummary {
  warnings: number;
  errors: number;
  /** Distinct messages (up to 8) with counts. */
  messages: Record<string, number>;
}

/** Counts the warnings and errors the server wrote (pino JSON lines at LOG_LEVEL=warn, or plain stderr lines). */
export function summariseServerLog(file: string): ServerLogSummary {
  const summary: ServerLogSummary = { warnings: 0, errors: 0, messages: {} };
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return summary;
  }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let level = 40;
    let message = line.trim();
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: unknown };
      level = entry.level ?? 40;
      message = `${entry.msg ?? ''}${entry.err ? `: ${typeof entry.err === 'string' ? entry.err : JSON.stringify(entry.err)}` : ''}`;
    } catch {
      // a plain stderr line (e.g. the "API key not set" notice, a Node warning)
    }
    if (level >= 50) summary.errors++;
    else summary.warnings++;
    const key = message.slice(0, 200);
    if (key in summary.messages || Object.keys(summary.messages).length < 8) summary.messages[key] = (summary.messages[key] ?? 0) + 1;
  }
  return summary;
}
