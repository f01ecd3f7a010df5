/**
 * Plivo request signatures, as Plivo's SDKs validate them.
 *
 * V3 (`X-Plivo-Signature-V3` + `X-Plivo-Signature-V3-Nonce`): HMAC-SHA256 over the URL without its query,
 * then the sorted query (`k=v&…`), then for POST the sorted body params (`kv…`), then `.` + nonce:
 *
 * ```
 * GET:  base [+ "?" + query]                          (params merged into the query)
 * POST: base [+ "?" + query] [+ "." if both] + params  ("?" appears when either is non-empty)
 * signature = base64(HMAC-SHA256(authToken, string + "." + nonce))
 * ```
 *
 * V2 (`X-Plivo-Signature-V2`): base64(HMAC-SHA256(authToken, urlWithoutQuery + nonce)).
 */
import { createHmac, randomInt } from 'node:crypto';
import type { FormFields } from '../../../sandbox/carriers/shared/http-util.ts';
import type { WebhookSigner } from '../../../sandbox/carriers/shared/webhook.ts';

function sortedValues(value: string | string[]): string[] {
  return (Array.isArray(value) ? [...value] : [value]).sort();
}

/** The URL as written, without query and fragment (`https://answer.url` stays without a trailing `/`). */
function baseUrl(uri: string): string {
  return uri.split(/[?#]/, 1)[0] as string;
}

/** The string Plivo signs for V3 (before `.nonce`). */
export function plivoV3SignedString(method: 'GET' | 'POST', uri: string, params: FormFields): string {
  const url = new URL(uri);
  const query = Object.create(null) as Record<string, string[]>;
  for (const [key, value] of url.searchParams) (query[key] ??= []).push(value);
  if (method === 'GET') {
    for (const [key, value] of Object.entries(params)) (query[key] ??= []).push(...sortedValues(value));
  }
  const queryString = Object.keys(query)
    .sort()
    .flatMap((key) => sortedValues(query[key] as string[]).map((v) => `${key}=${v}`))
    .join('&');
  let s = baseUrl(uri);
  if (method === 'GET') return queryString ? `${s}?${queryString}` : s;
  const keys = Object.keys(params).sort();
  if (queryString || keys.length > 0) s += `?${queryString}`;
  if (queryString && keys.length > 0) s += '.';
  for (const key of keys) for (const v of sortedValues(params[key] as string | string[])) s += key + v;
  return s;
}

export function plivoV3Signature(method: 'GET' | 'POST', uri: string, params: FormFields, nonce: string, authToken: string): string {
  return createHmac('sha256', authToken)
    .update(`${plivoV3SignedString(method, uri, params)}.${nonce}`, 'utf8')
    .digest('base64');
}

export function plivoV2Signature(uri: string, nonce: string, authToken: string): string {
  return createHmac('sha256', authToken)
    .update(baseUrl(uri) + nonce, 'utf8')
    .digest('base64');
}

/** A 20-digit nonce, like Plivo's. */
export function plivoNonce(): string {
  let nonce = String(randomInt(1, 10));
  for (let i = 1; i < 20; i++) nonce += String(randomInt(0, 10));
  return nonce;
}

/** Signing headers for one request (V3 with the account token and, as main account, Ma-V3; plus V2). */
export function plivoSignatureHeaders(method: 'GET' | 'POST', uri: string, params: FormFields, authToken: string): Record<string, string> {
  const v3Nonce = plivoNonce();
  const v2Nonce = plivoNonce();
  const v3 = plivoV3Signature(method, uri, params, v3Nonce, authToken);
  return {
    'X-Plivo-Signature-V3': v3,
    'X-Plivo-Signature-Ma-V3': v3,
    'X-Plivo-Signature-V3-Nonce': v3Nonce,
    'X-Plivo-Signature-V2': plivoV2Signature(uri, v2Nonce, authToken),
    'X-Plivo-Signature-Ma-V2': plivoV2Signature(uri, v2Nonce, authToken),
    'X-Plivo-Signature-V2-Nonce': v2Nonce,
  };
}

export function plivoSigner(authToken: string): WebhookSigner {
  // For GET the params are already in the URL's query string.
  return (url, bodyParams, method) => plivoSignatureHeaders(method, url, method === 'GET' ? {} : bodyParams, authToken);
}
