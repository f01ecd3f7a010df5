#!/usr/bin/env node
// The build's non-TypeScript files: every file under src/ that is not TypeScript (sandbox policies, READMEs) is
// copied to the same place under dist/, where the built code looks for it.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'src');
const walk = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
for (const file of walk(src).filter((path) => !path.endsWith('.ts'))) {
  cpSync(file, join(root, 'dist', relative(src, file)));
}
