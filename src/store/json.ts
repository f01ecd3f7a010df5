import type { JsonObject, JsonValue } from './types.ts';
import { SwitchboardError } from '../errors.ts';

/** Where in a value a JSON problem sits: object keys and array indexes from the root. */
export type JsonPath = ReadonlyArray<string | number>;

/**
 * Deepest nesting of objects and arrays a stored value may have. SQLite's JSON functions refuse more than 1000
 * levels and `JSON.stringify` overflows the stack at a few thousand; the API refuses bodies nested deeper than 32
 * levels before they get here, so this only stops values built in code.
 */
export const MAX_JSON_DEPTH = 64;

/** A value that JSON cannot carry unchanged. */
export class JsonValueError extends SwitchboardError {
  constructor(
    readonly path: JsonPath,
    readonly detail: string,
  ) {
    super(`${formatJsonPath(path)}: ${detail}`, { code: 'invalid_json_value', httpStatus: 400 });
  }
}

/**
 * Checks that `value` survives a JSON round-trip unchanged and returns a copy without `undefined`
 * object properties (which JSON drops anyway, and which optional fields produce all the time).
 * Anything else JSON would silently change — NaN, Infinity, Dates, Maps, class instances, functions,
 * bigints, `undefined` in arrays, cycles, nesting deeper than {@link MAX_JSON_DEPTH} — is an error naming the path, so a record never reads back
 * different from what was written.
 */
export function toJsonValue(value: unknown): JsonValue {
  return normalise(value, [], new Set());
}

/** {@link toJsonValue} for values that must be objects (metadata, latency). */
export function toJsonObject(value: unknown): JsonObject {
  if (!isPlainObject(value)) throw new JsonValueError([], `expected a plain object, got ${describe(value)}`);
  return normalise(value, [], new Set()) as JsonObject;
}

export function formatJsonPath(path: JsonPath): string {
  if (path.length === 0) return '(root)';
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

function normalise(value: unknown, path: JsonPath, seen: Set<object>): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new JsonValueError(path, `${value} is not representable in JSON`);
    return value;
  }
  if (typeof value !== 'object') throw new JsonValueError(path, `${describe(value)} is not representable in JSON`);
  if (path.length >= MAX_JSON_DEPTH) throw new JsonValueError(path, `nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (seen.has(value)) throw new JsonValueError(path, 'circular reference');
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      return value.map((item: unknown, i) => {
        if (item === undefined) throw new JsonValueError([...path, i], 'undefined inside an array is not representable in JSON');
        return normalise(item, [...path, i], seen);
      });
    }
    if (!isPlainObject(value)) throw new JsonValueError(path, `${describe(value)} is not a plain JSON object`);
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      out[key] = normalise(item, [...path, key], seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `a ${(value as { constructor?: { name?: string } }).constructor?.name ?? 'object'}`;
  return `a ${typeof value}`;
}
