import { publicRequestUrl, type WebhookVerification } from '../webhook-verification.ts';
import { twilioSdk } from './sdk.ts';

export const TWILIO_SIGNATURE_HEADER = 'x-twilio-signature';

export interface TwilioWebhookRequest {
  authToken: string;
  /** The `X-Twilio-Signature` header; `undefined` when absent. */
  signature: string | string[] | undefined;
  /** Public URL of our server root (see {@link publicRequestUrl}). */
  publicBaseUrl: string;
  /** Path and query as our server saw them, e.g. `request.url`. */
  requestUrl: string;
  /**
   * Form-encoded POST parameters (repeated keys as arrays). Leave out for GET (the parameters are in the query) and
   * for JSON bodies.
   */
  formParams?: Record<string, string | string[]>;
  /** The raw body of a JSON request (URL carries `bodySHA256`); checked against that hash. */
  rawBody?: string;
}

/**
 * Verify `X-Twilio-Signature` with the SDK's own validator (`validateRequest`, which also tries the URL with and
 * without the standard port) — and, for JSON bodies whose URL carries `bodySHA256`, the body hash (`validateBody`).
 */
export function verifyTwilioWebhook(request: TwilioWebhookRequest): WebhookVerification {
  try {
    return verify(request);
  } catch (error) {
    // The SDK's validator throwing on input it cannot handle: nothing Twilio could have signed.
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: 'signature-mismatch', message: `X-Twilio-Signature cannot be checked: ${detail}` };
  }
}

function verify(request: TwilioWebhookRequest): WebhookVerification {
  const signature = Array.isArray(request.signature) ? request.signature[0] : request.signature;
  if (!signature) return { ok: false, reason: 'missing-signature', message: 'X-Twilio-Signature header is missing' };
  const url = publicRequestUrl(request.publicBaseUrl, request.requestUrl);
  const bodyHash = new URL(url).searchParams.get('bodySHA256');
  if (bodyHash !== null && request.formParams === undefined) {
    if (!twilioSdk().validateRequest(request.authToken, signature, url, {})) {
      return { ok: false, reason: 'signature-mismatch', message: `X-Twilio-Signature does not match ${url}` };
    }
    if (!twilioSdk().validateBody(request.rawBody ?? '', bodyHash)) {
      return { ok: false, reason: 'body-hash-mismatch', message: 'request body does not match its bodySHA256' };
    }
    return { ok: true };
  }
  if (!twilioSdk().validateRequest(request.authToken, signature, url, request.formParams ?? {})) {
    return { ok: false, reason: 'signature-mismatch', message: `X-Twilio-Signature does not match ${url} and its parameters` };
  }
  return { ok: true };
}
