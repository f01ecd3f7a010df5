#!/usr/bin/env node
// `npm run example <name>`: runs examples/<name>/index.ts from this checkout, with `switchboard` imports resolved
// to the TypeScript source (the package's `switchboard-source` export condition) through tsx.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const name = process.argv[2];
const names = readdirSync(new URL('examples/', root), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
if (!name || !names.includes(name)) {
  process.stderr.write(`usage: npm run example <name>; one of: ${names.join(', ')}\n`);
  process.exit(2);
}
const entry = new URL(`examples/${name}/index.ts`, root);
if (!existsSync(entry)) process.exit(2);
const child = spawn(process.execPath, ['--conditions=switchboard-source', '--import', 'tsx', entry.pathname, ...process.argv.slice(3)], {
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
