/**
 * Runs sipp (Debian `sip-tester`) headless against our endpoint: one call of an XML scenario from
 * `scenarios/`, on free loopback ports, in a temporary directory (sipp writes its logs to the cwd).
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const SCENARIOS = path.join(import.meta.dirname, 'scenarios');

/** A UDP port that was free a moment ago (sipp needs explicit ports: its default is 5060). */
export async function freeUdpPort(address = '127.0.0.1'): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export interface SippRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Contents of sipp's error trace (unexpected messages), if any. */
  errors: string;
  /** The messages sipp sent and received (-trace_msg). */
  messages: string;
}

export interface SippOptions {
  /** Scenario file name in `scenarios/`. */
  scenario: string;
  /** Where to send (UAC scenarios); omit for UAS scenarios. */
  target?: string;
  /** Local signalling address. @default 127.0.0.1 */
  localIp?: string;
  /** Local SIP port. @default a free one */
  port?: number;
  /** `-key name value` pairs for the scenario. */
  keys?: Record<string, string>;
  /** More sipp arguments. */
  args?: string[];
  /** Kill sipp after this long. @default 15000 */
  timeoutMs?: number;
  /** Called once sipp is running (UAS scenarios: place the call then). */
  onStarted?: () => void;
}

/** Runs one call of a scenario and resolves when sipp exits. */
export async function runSipp(options: SippOptions): Promise<SippRun & { port: number }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sipp-'));
  const port = options.port ?? (await freeUdpPort(options.localIp));
  const mediaPort = await freeUdpPort(options.localIp);
  const args = [
    ...(options.target ? [options.target] : []),
    '-sf',
    path.join(SCENARIOS, options.scenario),
    '-i',
    options.localIp ?? '127.0.0.1',
    '-p',
    String(port),
    '-mp',
    String(mediaPort),
    '-m',
    '1',
    '-nostdin',
    '-timeout',
    `${Math.ceil((options.timeoutMs ?? 15_000) / 1000)}s`,
    '-timeout_error',
    '-trace_err',
    '-trace_msg',
    ...Object.entries(options.keys ?? {}).flatMap(([k, v]) => ['-key', k, v]),
    ...(options.args ?? []),
  ];
  const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), (options.timeoutMs ?? 15_000) + 5000);
  if (options.onStarted) setTimeout(options.onStarted, 300);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(killer);
  const files = await readdir(dir);
  const read = async (suffix: string) => {
    const name = files.find((f) => f.endsWith(suffix));
    return name ? readFile(path.join(dir, name), 'utf8') : '';
  };
  const run = { exitCode, stdout, stderr, errors: await read('_errors.log'), messages: await read('_messages.log'), port };
  await rm(dir, { recursive: true, force: true });
  return run;
}
