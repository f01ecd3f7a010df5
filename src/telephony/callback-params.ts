import type { FastifyRequest } from 'fastify';

/** Parsed form/query parameters of a carrier callback (repeated keys as arrays), as body parsers produce them. */
export type CallbackParams = Record<string, string | string[] | undefined>;

/** One parameter's value; `null` when absent or empty (carriers send empty strings for "not applicable"). */
export function param(params: CallbackParams, name: string): string | null {
  const value = params[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text === '' ? null : text;
}

/** A numeric parameter; `null` when absent or not a number. */
export function numberParam(params: CallbackParams, name: string): number | null {
  const text = param(params, name);
  if (text === null) return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** A date parameter parsed with `parse`; `null` when absent or unparseable. */
export function dateParam(params: CallbackParams, name: string, parse: (text: string) => Date): Date | null {
  const text = param(params, name);
  if (text === null) return null;
  const date = parse(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Form parameters of a POST webhook as the body parser left them (repeated keys as arrays); `{}` for other bodies. */
export function formParams(request: FastifyRequest): Record<string, string | string[]> {
  const body = request.body;
  return body && typeof body === 'object' ? (body as Record<string, string | string[]>) : {};
}
