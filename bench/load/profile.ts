/**
 * Reads a V8 CPU profile (`node --cpu-prof`) and ranks functions by self time.
 *
 * The server runs TypeScript through tsx, so the profile's line numbers are those of the transpiled code.
 * Types are stripped and code reprinted, which moves lines a little; for named functions in our `.ts` files
 * the source line is recovered by finding the function's declaration nearest to the reported line.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { relative, resolve } from 'node:path';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  /** Function name, or `(anonymous)`, `(garbage collector)`, `(program)`. */
  functionName: string;
  /** `path:line` (repo-relative for our files, package-relative for dependencies, `node:` for built-ins). */
  location: string;
  selfMs: number;
  /** Share of all non-idle samples (%). */
  selfPct: number;
}

function displayPath(url: string): string {
  if (!url) return '';
  if (!url.startsWith('file://')) return url;
  const path = fileURLToPath(url);
  const inModules = path.lastIndexOf('node_modules/');
  if (inModules >= 0) return path.slice(inModules);
  return relative(REPO_ROOT, path);
}

const sourceCache = new Map<string, string[] | null>();

/** The line (1-based) of `name`'s declaration in the TypeScript source nearest to `generatedLine`. */
function sourceLine(url: string, name: string, generatedLine: number): number | undefined {
  if (!url.startsWith('file://') || !url.endsWith('.ts') || !name || name.startsWith('(')) return undefined;
  const path = fileURLToPath(url);
  if (!sourceCache.has(path)) {
    try {
      sourceCache.set(path, readFileSync(path, 'utf8').split('\n'));
    } catch {
      sourceCache.set(path, null);
    }
  }
  const lines = sourceCache.get(path);
  if (!lines) return undefined;
  const bare = name.split('.').pop() as string;
  const escaped = bare.replace(/[$]/g, '\\$');
  const declaration = new RegExp(
    `(?:function\\*?\\s+${escaped}\\b|^\\s*(?:(?:private|public|protected|static|async|readonly|override|get|set)\\s+)*${escaped}\\s*(?:<[^>]*>)?\\s*\\(|\\b${escaped}\\s*(?::[^=]+)?=\\s*(?:async\\s*)?(?:\\([^)]*\\)|\\w+)\\s*(?::[^=]+)?=>|\\b${escaped}\\s*=\\s*(?:async\\s+)?function)`,
  );
  let best: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    if (!declaration.test(lines[i] as string)) continue;
    if (best === undefined || Math.abs(i + 1 - generatedLine) < Math.abs(best - generatedLine)) best = i + 1;
  }
  return best;
}

/**
 * Part of a profile by time: `fromMs`/`toMs` are ms since the profile started (the process started
 * profiling at launch, so this is roughly ms since the process was spawned).
 */
export interface ProfileSpan {
  fromMs: number;
  toMs: number;
}

/** Self time per profile node, over the samples inside `span` (all samples without one). */
function selfTimes(profile: CpuProfile, span: ProfileSpan | undefined): Map<number, number> {
  const selfUs = new Map<number, number>();
  let t = 0;
  // timeDeltas[i] is the time since the previous sample; charge it to sample i's node.
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = Math.max(0, profile.timeDeltas[i] ?? 0);
    t += delta;
    if (span && (t / 1000 < span.fromMs || t / 1000 >= span.toMs)) continue;
    const id = profile.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  return selfUs;
}

/** Top `limit` functions by self time (idle time left out), over the whole profile or a `span` of it. */
export function analyseCpuProfile(file: string, limit = 20, span?: ProfileSpan): HotSpot[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = selfTimes(profile, span);
  const byFunction = new Map<string, { functionName: string; location: string; us: number }>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    totalUs += us;
    const name = functionName || '(anonymous)';
    const generatedLine = lineNumber + 1;
    const line = sourceLine(url, functionName, generatedLine);
    const path = displayPath(url);
    const location = path ? `${path}:${line ?? `~${generatedLine}`}` : '';
    const key = `${name}@${location}`;
    const entry = byFunction.get(key) ?? { functionName: name, location, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
  }
  return [...byFunction.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, limit)
    .map((e) => ({
      functionName: e.functionName,
      location: e.location,
      selfMs: e.us / 1000,
      selfPct: totalUs > 0 ? (e.us / totalUs) * 100 : 0,
    }));
}

export interface FileSelfTime {
  /** Repo-relative file, `node_modules/<package>`, `node:` module, or a V8 bucket like `(garbage collector)`. */
  file: string;
  selfMs: number;
  selfPct: number;
}

/** Self time summed per file (our files, and each dependency package), top `limit`. */
export function selfTimeByFile(file: string, limit = 15, span?: ProfileSpan): FileSelfTime[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFile = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfTimes(profile, span)) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    totalUs += us;
    let key = displayPath(node.callFrame.url) || node.callFrame.functionName || '(native)';
    const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(key);
    if (pkg) key = `node_modules/${pkg[1]}`;
    byFile.set(key, (byFile.get(key) ?? 0) + us);
  }
  return [...byFile.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([f, us]) => ({ file: f, selfMs: us / 1000, selfPct: totalUs > 0 ? (us / totalUs) * 100 : 0 }));
}
