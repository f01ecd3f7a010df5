import plivo from 'plivo';
import { publicRequestUrl, type WebhookVerification } from '../webhook-verification.ts';

export const PLIVO_SIGNATURE_HEADER = 'x-plivo-signature-v3';
export const PLIVO_NONCE_HEADER = 'x-plivo-signature-v3-nonce';

export interface PlivoWebhookRequest {
  authToken: string;
  /** `X-Plivo-Signature-V3` (may list several signatures, comma-separated, one per active token). */
  signature: string | string[] | undefined;
  /** `X-Plivo-Signature-V3-Nonce`. */
  nonce: string | string[] | undefined;
  /** GET for query-string webhooks and the media WebSocket upgrade; POST for form webhooks. */
  method: 'GET' | 'POST';
  /** Public URL of our server root (see {@link publicRequestUrl}). */
  publicBaseUrl: string;
  /** Path and query as our server saw them. */
  requestUrl: string;
  /** Form-encoded POST parameters (repeated keys as arrays). Ignored for GET. */
  formParams?: Record<string, string | string[]>;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Verify `X-Plivo-Signature-V3` + nonce with the SDK's own `validateV3Signature`. */
export function verifyPlivoWebhook(request: PlivoWebhookRequest): WebhookVerification {
  const signature = first(request.signature);
  const nonce = first(request.nonce);
  if (!signature) return { ok: false, reason: 'missing-signature', message: 'X-Plivo-Signature-V3 header is missing' };
  if (!nonce) return { ok: false, reason: 'missing-nonce', message: 'X-Plivo-Signature-V3-Nonce header is missing' };
  const url = publicRequestUrl(request.publicBaseUrl, request.requestUrl);
  // Copied (the SDK sorts array values in place), into an object without a prototype (a `__proto__` parameter
  // stays a parameter).
  const params = Object.create(null) as Record<string, string | string[]>;
  if (request.method === 'POST') {
    for (const [key, value] of Object.entries(request.formParams ?? {})) params[key] = Array.isArray(value) ? [...value] : value;
  }
  let valid: boolean;
  try {
    valid = plivo.validateV3Signature(request.method, url, nonce, request.authToken, signature, params) === true;
  } catch (error) {
    // The SDK throws on input it cannot encode (e.g. a lone surrogate in the nonce): nothing Plivo could have signed.
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: 'signature-mismatch', message: `X-Plivo-Signature-V3 cannot be checked: ${detail}` };
  }
  if (!valid) return { ok: false, reason: 'signature-mismatch', message: `X-Plivo-Signature-V3 does not match ${request.method} ${url}` };
  return { ok: true };
}
