/**
 * Switchboard as a user installs it: `npm pack`, install the tarball into an empty project, then the CLI, the
 * package's two entry points, and a sandbox call with `npx switchboard call`, with no tsx and no source.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = new URL('../..', import.meta.url).pathname;
let dir: string;
let app: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-pack-'));
  app = join(dir, 'app');
  // Pack a copy of the checkout (its files, this checkout's node_modules): the build that `npm pack` runs then
  // cannot disturb tests that read this checkout's dist/ meanwhile.
  const source = join(dir, 'source');
  const { stdout: listed } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: repo,
    maxBuffer: 16 * 1024 * 1024,
  });
  for (const file of listed.split('\n').filter((name) => name !== '' && existsSync(join(repo, name)))) {
    cpSync(join(repo, file), join(source, file));
  }
  symlinkSync(join(repo, 'node_modules'), join(source, 'node_modules'));
  await run('npm', ['pack', '--pack-destination', dir], { cwd: source, maxBuffer: 16 * 1024 * 1024 });
  const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack made no tarball');
  cpSync(join(repo, 'test/package/app-template'), app, { recursive: true });
  // Tarballs come from npm's cache (filled by `npm ci`); only package metadata is fetched from the registry.
  // Install scripts are skipped: the one native module that builds on install (better-sqlite3) gets the binary this
  // machine already built, as a user with internet access would get its prebuilt one.
  await run('npm', ['install', join(dir, tarball), '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: app,
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
    maxBuffer: 16 * 1024 * 1024,
  });
  cpSync(join(repo, 'node_modules/better-sqlite3/build'), join(app, 'node_modules/better-sqlite3/build'), { recursive: true });
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the installed package', () => {
  it('ships built JavaScript and no TypeScript source, and `npx switchboard --help` lists the commands', async () => {
    const files = readdirSync(join(app, 'node_modules/switchboard'));
    expect(files).toEqual(expect.arrayContaining(['dist', 'bin', 'LICENSE', 'README.md', 'package.json']));
    expect(files).not.toContain('src');
    expect(readdirSync(join(app, 'node_modules'))).not.toContain('tsx');
    const { stdout } = await run('npx', ['switchboard', '--help'], { cwd: app });
    expect(stdout).toContain('serve');
    expect(stdout).toContain('call');
  });

  it("imports 'switchboard' and 'switchboard/sandbox' from a user's script", async () => {
    const { stdout } = await run('node', ['check.mjs'], { cwd: app });
    expect(stdout.trim()).toBe('function function function twilio function');
  });

  it('places a sandbox call with `npx switchboard call +15550100001` that completes', { timeout: 180_000 }, async () => {
    // Nothing listens at SWITCHBOARD_URL, so the CLI starts its own private sandbox.
    const { stdout } = await run('npx', ['switchboard', 'call', '+15550100001', '--json'], {
      cwd: app,
      env: { ...process.env, SWITCHBOARD_URL: 'http://127.0.0.1:9', LOG_LEVEL: 'warn' },
      maxBuffer: 16 * 1024 * 1024,
    });
    const record = JSON.parse(stdout.slice(stdout.indexOf('\n{') + 1)) as { status: string; turns: Array<{ role: string }> };
    expect(record.status).toBe('completed');
    expect(record.turns.filter((t) => t.role === 'user').length).toBeGreaterThanOrEqual(2);
    expect(record.turns.filter((t) => t.role === 'assistant').length).toBeGreaterThanOrEqual(2);
  });
});
