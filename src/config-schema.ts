import { z } from 'zod';

/**
 * Building blocks for environment-variable schemas, shared by the core configuration and by each carrier's own
 * variables (a carrier adapter declares its variables with these, and `loadConfig` merges them in).
 */

/** A string setting where empty means unset. */
export const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

/** An absolute http(s)/ws(s) URL without trailing slashes; the message names the variable. */
export const url = (name: string) =>
  z
    .string()
    .trim()
    .refine((v) => /^(https?|wss?):\/\/[^\s]+$/.test(v), `${name} must be an absolute http(s) or ws(s) URL`)
    .transform((v) => v.replace(/\/+$/, ''));

/** Like {@link url}, where empty means unset. */
export const optionalUrl = (name: string) =>
  z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(url(name).optional())
    .optional();

/** Drops undefined fields, so settings objects carry only what was set. */
export function definedFields<T extends Record<string, unknown>>(obj: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) if (value !== undefined) out[key] = value;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}
