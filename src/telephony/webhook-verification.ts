/** Why a carrier webhook failed verification; the server answers 403 with it. */
export type WebhookRejection = 'missing-signature' | 'missing-nonce' | 'signature-mismatch' | 'body-hash-mismatch' | 'stale-timestamp';

export type WebhookVerification = { ok: true } | { ok: false; reason: WebhookRejection; message: string };

/**
 * The URL the carrier requested, rebuilt from our public base URL and the path+query our server saw. Behind a proxy
 * or tunnel the server sees `http://10.0.0.5:3000/twilio/status`, while the carrier signed
 * `https://agent.example.com/twilio/status`; signatures only match the latter.
 *
 * @param publicBaseUrl the public URL of our server's root path, e.g. `https://agent.example.com` or
 *   `https://example.com/switchboard` (a proxy that strips `/switchboard`)
 * @param requestUrl the request target as the server saw it: path and query, e.g. `/twilio/status?x=1`
 */
export function publicRequestUrl(publicBaseUrl: string, requestUrl: string): string {
  const base = publicBaseUrl.endsWith('/') ? publicBaseUrl.slice(0, -1) : publicBaseUrl;
  // An absolute-form target (proxies may forward one) keeps only its path and query.
  let target = requestUrl;
  if (!target.startsWith('/')) {
    try {
      const parsed = new URL(target);
      target = parsed.pathname + parsed.search;
    } catch {
      // Not a URL (e.g. `*`): treat it as a path; the signature check then simply fails.
      target = `/${target}`;
    }
  }
  return base + target;
}
