/**
 * A tiny seeded generator for property tests, standing in for fast-check (not installed) with the same shape of
 * use: a seed, a number of runs, generators composed from smaller ones. Runs are reproducible from the seed
 * printed with each failure. Swap for `fc.assert(fc.property(...))` when fast-check is available.
 */

/** mulberry32: small, fast, good enough to spread test inputs. */
export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(values: readonly T[]): T {
    return values[this.int(0, values.length - 1)] as T;
  }
}

export type Gen<T> = (rng: Rng) => T;

/** Numbers carriers never send, next to the ones they do. */
const NUMBERS = [0, -0, 1, -1, 3, 8000, 16000, 7919, 8000.5, 1e9, 1e12, 1e308, -1e308, 2 ** 53, Number.MIN_VALUE, 0.1, -8000];

/** Strings of every troublesome kind: empty, huge, unicode, numeric, JSON-looking, not base64. */
export const anyString: Gen<string> = (rng) => {
  switch (rng.int(0, 9)) {
    case 0:
      return '';
    case 1:
      return 'x'.repeat(rng.int(1000, 70_000));
    case 2:
      return String(rng.pick(NUMBERS));
    case 3:
      return '\u0000\uFFFF\uD800😀';
    case 4:
      return '{"event":"media"';
    case 5:
      return '!!not base64!!';
    case 6:
      return Buffer.alloc(rng.int(0, 400), rng.int(0, 255)).toString('base64');
    case 7:
      return rng.pick(['inbound', 'outbound', 'audio/x-mulaw', 'audio/x-l16', 'MULAW', '1', '#', '*', 'A']);
    default:
      return rng
        .next()
        .toString(36)
        .slice(2, 2 + rng.int(0, 12));
  }
};

/** Any JSON value, nested up to `depth`. */
export function anyJson(depth = 3): Gen<unknown> {
  return (rng) => {
    const kind = rng.int(0, depth > 0 ? 7 : 4);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return rng.bool();
      case 2:
        return rng.pick(NUMBERS);
      case 3:
      case 4:
        return anyString(rng);
      case 5:
        return Array.from({ length: rng.int(0, 4) }, () => anyJson(depth - 1)(rng));
      default: {
        const object: Record<string, unknown> = {};
        for (let i = rng.int(0, 4); i > 0; i--)
          object[rng.pick(['event', 'media', 'payload', 'name', 'start', 'x'])] = anyJson(depth - 1)(rng);
        return object;
      }
    }
  };
}

/**
 * Takes a well-formed message and breaks it the way hostile or buggy peers do: a field removed, replaced with a
 * value of the wrong type or an absurd number, or the whole text truncated or wrapped.
 */
export function mutate(rng: Rng, message: Record<string, unknown>): string {
  const copy = structuredClone(message) as Record<string, unknown>;
  for (let n = rng.int(1, 3); n > 0; n--) {
    const paths = leafPaths(copy); // again each time: an earlier change may have replaced a parent
    if (paths.length === 0) break;
    const path = rng.pick(paths);
    const parent = path.slice(0, -1).reduce<Record<string, unknown>>((node, key) => node[key] as Record<string, unknown>, copy);
    const key = path[path.length - 1] as string;
    if (rng.bool(0.3)) delete parent[key];
    else parent[key] = anyJson(2)(rng);
  }
  const text = JSON.stringify(copy);
  switch (rng.int(0, 9)) {
    case 0:
      return text.slice(0, rng.int(0, text.length));
    case 1:
      return `[${text}]`;
    case 2:
      return JSON.stringify(anyJson(3)(rng)) ?? 'undefined';
    default:
      return text;
  }
}

function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return prefix.length > 0 ? [prefix] : [];
  const paths: string[][] = prefix.length > 0 ? [prefix] : [];
  for (const [key, child] of Object.entries(value)) paths.push(...leafPaths(child, [...prefix, key]));
  return paths;
}

/** Runs `property` on `runs` generated inputs; a failure names the seed and run. Returns the count tried. */
export function check<T>(name: string, seed: number, runs: number, gen: Gen<T>, property: (input: T) => void): number {
  const rng = new Rng(seed);
  for (let run = 0; run < runs; run++) {
    const input = gen(rng);
    try {
      property(input);
    } catch (error) {
      const shown = typeof input === 'string' ? input.slice(0, 300) : JSON.stringify(input)?.slice(0, 300);
      throw new Error(`${name}: property failed on run ${run} (seed ${seed}): ${(error as Error).message}\ninput: ${shown}`);
    }
  }
  return runs;
}
