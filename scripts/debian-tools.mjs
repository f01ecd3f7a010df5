#!/usr/bin/env node
// The one place that knows which Debian tools the test suite needs. `npm test` runs it first; `.ci/run` relies on
// it through `npm test`. Missing tools are installed with apt-get when we can (root with apt-get, as on CI);
// otherwise it stops with the exact command to run.
import { execFileSync, spawnSync } from 'node:child_process';

/** command on PATH → Debian package that provides it (and what uses it). */
const TOOLS = [
  { command: 'sox', pkg: 'sox', why: 'audio fixtures' },
  { command: 'espeak-ng', pkg: 'espeak-ng', why: 'sandbox callee voices' },
  { command: 'baresip', pkg: 'baresip-core', why: 'SIP peer tests' },
  { command: 'sipp', pkg: 'sip-tester', why: 'SIP scenario tests' },
  { command: 'chromium', pkg: 'chromium', why: 'dashboard browser test' },
];

const onPath = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const missing = TOOLS.filter((tool) => !onPath(tool.command));
if (missing.length === 0) process.exit(0);

const packages = [...new Set(missing.map((tool) => tool.pkg))];
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (isRoot && onPath('apt-get')) {
  process.stderr.write(`Installing Debian packages the tests need: ${packages.join(' ')}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env });
  const still = TOOLS.filter((tool) => packages.includes(tool.pkg) && !onPath(tool.command));
  if (still.length === 0) process.exit(0);
  process.stderr.write(`apt-get ran but these are still missing: ${still.map((t) => t.command).join(', ')}\n`);
  process.exit(1);
}
process.stderr.write(
  `The tests need these Debian tools: ${missing.map((t) => `${t.command} (${t.why})`).join(', ')}.\nInstall them with:\n  sudo apt-get install -y ${packages.join(' ')}\n`,
);
process.exit(1);
