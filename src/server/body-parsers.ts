import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../errors.ts';

/**
 * Bounds on what the server reads and parses from a request body, before any signature or key is checked.
 *
 * Form bodies are carrier webhooks only (the API takes JSON): a real Twilio or Plivo callback is about 1–2 KB with
 * 20–45 parameters (Twilio's voice and status callbacks with every geographic, SIP and STIR field; Plivo's hangup
 * callback with its `X-PH-*` SIP headers), so the limits below leave room of about ten times that and no more. An
 * unauthenticated flood of large forms then costs a fixed, small amount of CPU per request.
 */
export interface BodyLimits {
  /** Largest form-encoded body (carrier webhooks); a larger one is refused with 413 before it is read. @default 16_384 */
  formBytes: number;
  /** Most parameters in a form-encoded body; more is a 413 before any of them is decoded. @default 128 */
  formParameters: number;
  /** Largest JSON body (the API). @default 262_144 */
  jsonBytes: number;
  /** Deepest nesting of objects and arrays in a JSON body (the body itself is depth 1). @default 32 */
  jsonDepth: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = {
  formBytes: 16 * 1024,
  formParameters: 128,
  jsonBytes: 256 * 1024,
  jsonDepth: 32,
};

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

/**
 * Replaces Fastify's body parsers with bounded ones: form bodies (carrier webhooks) limited in size and parameter
 * count, JSON bodies (the API) in size and nesting depth. Every refusal is a 4xx with a reason.
 */
export function registerBodyParsers(app: FastifyInstance, limits: BodyLimits = DEFAULT_BODY_LIMITS): void {
  app.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: limits.formBytes }, (_request, body, done) => {
    try {
      done(null, parseForm(body as string, limits.formParameters));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(JSON_TYPE);
  app.addContentTypeParser(JSON_TYPE, { parseAs: 'string', bodyLimit: limits.jsonBytes }, (request, body, done) => {
    void parseJson(request, body as string, (error, value) => {
      if (error) return done(error, undefined);
      const depth = jsonDepthOver(value, limits.jsonDepth);
      if (depth) {
        return done(new HttpError(400, 'invalid_request', `JSON body is nested deeper than ${limits.jsonDepth} levels`), undefined);
      }
      done(null, value);
    });
  });
}

/**
 * Form parameters (repeated keys as arrays, as carriers' signature checks expect them). Counts the separators
 * before decoding anything, so an oversized form costs one pass over its bytes.
 */
export function parseForm(body: string, maxParameters: number = DEFAULT_BODY_LIMITS.formParameters): Record<string, string | string[]> {
  let count = body.length > 0 ? 1 : 0;
  for (let i = body.indexOf('&'); i !== -1; i = body.indexOf('&', i + 1)) {
    if (++count > maxParameters) {
      throw new HttpError(413, 'too_many_parameters', `form has more than ${maxParameters} parameters`);
    }
  }
  const params: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [key, value] of new URLSearchParams(body)) {
    const existing = params[key];
    if (existing === undefined) params[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else params[key] = [existing, value];
  }
  return params;
}

/** True when `value` nests objects/arrays deeper than `maxDepth` (checked without recursion). */
export function jsonDepthOver(value: unknown, maxDepth: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (typeof item !== 'object' || item === null) continue;
    if (depth > maxDepth) return true;
    for (const child of Object.values(item)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * `onRequest` hook for API routes that take a JSON body (`POST /calls`, `/dialout`, `/start`): anything but
 * `application/json` is a 415 before the body is read. Form posts and `text/plain` are what a browser sends
 * cross-site without a CORS preflight, so this is what stops any web page from placing calls through a visitor's
 * browser when no API key is set.
 */
export async function requireJsonBody(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const type = (request.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (type === JSON_TYPE) return;
  request.log.warn({ route: request.url, contentType: type || null }, 'API request rejected: not JSON');
  await reply.code(415).send({
    error: 'unsupported_media_type',
    message: `this route takes application/json only (got ${type || 'no content type'})`,
  });
}
