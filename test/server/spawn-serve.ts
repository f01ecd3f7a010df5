/**
 * `switchboard serve` as a child process, the way an operator runs it, on free ports so parallel test files never
 * collide: PORT, and the SIP and Daily SIP endpoints (which default to the fixed 5060/5062). A child that exits
 * before it answers /healthz fails the test with its own stderr instead of a bare timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface ServeOptions {
  port: number;
  dataDir: string;
  /** How long a cold first start (tsx compiling the server) may take on a loaded CI machine. */
  startTimeoutMs?: number;
}

export async function spawnServe({ port, dataDir, startTimeoutMs = 90_000 }: ServeOptions): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['bin/switchboard', 'serve'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      SIP_PORT: '0',
      DAILY_SIP_PORT: '0',
      SWITCHBOARD_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  let exitCode: number | null | undefined;
  child.once('exit', (code) => {
    exitCode = code;
  });
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`switchboard serve exited (${exitCode}) before it came up:\n${stderr}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`switchboard serve did not come up in ${startTimeoutMs} ms:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
