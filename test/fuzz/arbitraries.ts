/**
 * fast-check arbitraries for broken carrier media messages: a well-formed template with fields removed or replaced
 * (wrong types, huge and tiny numbers, bad base64, troublesome strings), then possibly truncated, wrapped in an
 * array, or swapped for arbitrary JSON. Shrinks towards the template, so a failure shows the smallest break.
 */
import fc from 'fast-check';

/** Numbers carriers never send, next to the ones they do. */
const ODD_NUMBERS = [0, -0, 1, -1, 3, 8000, 16000, 7919, 8000.5, 1e9, 1e12, 1e308, -1e308, 2 ** 53, Number.MIN_VALUE, 0.1, -8000];

const oddString = fc.oneof(
  fc.constantFrom(
    '',
    '!!not base64!!',
    '\u0000\uFFFF\uD800😀',
    '{"event":"media"',
    'inbound',
    'outbound',
    'audio/x-mulaw',
    'MULAW',
    '#',
    'A',
  ),
  fc.string({ maxLength: 40 }),
  fc.integer({ min: 1000, max: 70_000 }).map((n) => 'x'.repeat(n)),
  fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  fc.constantFrom(...ODD_NUMBERS).map(String),
);

/** A value of any JSON type, biased to the kinds that break parsers. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, ...ODD_NUMBERS),
  fc.double(),
  oddString,
  fc.jsonValue({ maxDepth: 2 }),
);

interface Edit {
  path: number;
  remove: boolean;
  value: unknown;
}

const edit: fc.Arbitrary<Edit> = fc.record({ path: fc.nat(), remove: fc.boolean(), value: oddValue });

function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return prefix.length > 0 ? [prefix] : [];
  const paths: string[][] = prefix.length > 0 ? [prefix] : [];
  for (const [key, child] of Object.entries(value)) paths.push(...leafPaths(child, [...prefix, key]));
  return paths;
}

function applyEdits(template: Record<string, unknown>, edits: readonly Edit[]): Record<string, unknown> {
  const copy = structuredClone(template);
  for (const { path: index, remove, value } of edits) {
    const paths = leafPaths(copy); // again each time: an earlier edit may have replaced a parent
    if (paths.length === 0) break;
    const path = paths[index % paths.length] as string[];
    const parent = path.slice(0, -1).reduce<Record<string, unknown>>((node, key) => node[key] as Record<string, unknown>, copy);
    const key = path[path.length - 1] as string;
    if (remove) delete parent[key];
    else parent[key] = value;
  }
  return copy;
}

/** The text of `template` broken in up to three places, then maybe truncated, wrapped or replaced outright. */
export function brokenMessage(template: Record<string, unknown>): fc.Arbitrary<string> {
  return fc
    .record({
      edits: fc.array(edit, { maxLength: 3 }),
      shape: fc.oneof(
        { weight: 6, arbitrary: fc.constant<{ kind: 'as-is' }>({ kind: 'as-is' }) },
        { weight: 1, arbitrary: fc.nat().map((at) => ({ kind: 'truncate' as const, at })) },
        { weight: 1, arbitrary: fc.constant<{ kind: 'array' }>({ kind: 'array' }) },
        { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((json) => ({ kind: 'json' as const, json })) },
      ),
    })
    .map(({ edits, shape }) => {
      const text = JSON.stringify(applyEdits(template, edits));
      switch (shape.kind) {
        case 'truncate':
          return text.slice(0, shape.at % (text.length + 1));
        case 'array':
          return `[${text}]`;
        case 'json':
          return JSON.stringify(shape.json) ?? 'null';
        default:
          return text;
      }
    });
}
