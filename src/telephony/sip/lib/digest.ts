/**
 * SIP digest authentication (RFC 3261 §22, RFC 2617 MD5 with qop=auth): answering a 401/407 challenge as a
 * client (through the `sip` package's digest helpers) and, optionally, challenging inbound requests as a
 * server with stateless, time-limited nonces.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import sip, { type LibMessage } from 'sip';
import digest, { type LibDigestContext } from 'sip/digest.js';
import type { SipCredentials } from '../sip-config.ts';
import type { AuthHeader, SipRequest, SipResponse } from '../sip-message.ts';

/** Per-dialog (or per-registration) client digest state: nonce count for qop=auth. */
export type DigestClientState = { context: LibDigestContext | null };

/**
 * Adds Authorization / Proxy-Authorization answering `challenge` to `request` (mutated). Returns false when the
 * challenge is not one we can answer (no Digest header, a realm we have no credentials for, not MD5).
 */
export function answerDigestChallenge(
  request: SipRequest,
  challenge: SipResponse,
  credentials: SipCredentials,
  state: DigestClientState,
): boolean {
  const header = challenge.status === 407 ? 'proxy-authenticate' : 'www-authenticate';
  const offers = (challenge.headers[header] ?? []) as AuthHeader[];
  const usable = offers.find((offer) => {
    if ((offer.scheme ?? '').toLowerCase() !== 'digest') return false;
    const algorithm = unquote(offer.algorithm)?.toLowerCase();
    if (algorithm && algorithm !== 'md5' && algorithm !== 'md5-sess') return false;
    return !credentials.realm || unquote(offer.realm) === credentials.realm;
  });
  if (!usable) return false;
  const onlyUsable: LibMessage = { ...(challenge as LibMessage), headers: { ...challenge.headers, [header]: [usable] } };
  try {
    state.context = digest.signRequest(state.context ?? {}, request as LibMessage, onlyUsable, {
      user: credentials.username,
      password: credentials.password,
      ...(credentials.realm ? { realm: credentials.realm } : {}),
    });
    // signRequest returns null without qop; keep the context object for the realm/nonce anyway.
    state.context ??= {};
    return true;
  } catch {
    return false;
  }
}

/** Signs a later request with the credentials of an earlier challenge (nonce reuse, next nc). */
export function reuseDigest(request: SipRequest, credentials: SipCredentials, state: DigestClientState): void {
  if (!state.context || !state.context.nonce) return;
  digest.signRequest(state.context, request as LibMessage, undefined, { user: credentials.username, password: credentials.password });
}

function unquote(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/** Server-side digest challenges for inbound requests. */
export class DigestChallenger {
  private readonly secret = randomBytes(32);

  constructor(
    private readonly credentials: SipCredentials & { realm: string },
    private readonly nonceLifetimeMs = 300_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The WWW-Authenticate header for a 401. */
  challenge(): AuthHeader {
    const issued = String(this.now());
    const nonce = `${issued}.${this.sign(issued)}`;
    return { scheme: 'Digest', realm: `"${this.credentials.realm}"`, nonce: `"${nonce}"`, qop: '"auth"', algorithm: 'MD5' };
  }

  /** 'ok', 'stale' (answer with a fresh challenge) or 'invalid'/'missing'. */
  verify(request: SipRequest): 'ok' | 'stale' | 'invalid' | 'missing' {
    const answers = (request.headers.authorization ?? []) as AuthHeader[];
    const answer = answers.find((a) => unquote(a.realm) === this.credentials.realm);
    if (!answer) return 'missing';
    const nonce = unquote(answer.nonce) ?? '';
    const [issued = '', signature = ''] = nonce.split('.');
    const expected = this.sign(issued);
    if (signature.length !== expected.length || !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) return 'invalid';
    if (unquote(answer.username) !== this.credentials.username) return 'invalid';
    const qop = unquote(answer.qop);
    if (qop !== undefined && qop !== 'auth') return 'invalid';
    const uri = unquote(answer.uri) ?? '';
    const ha1 = digest.calculateUserRealmPasswordHash(this.credentials.username, this.credentials.realm, this.credentials.password);
    const response = digest.calculateDigest({
      ha1,
      method: request.method,
      nonce,
      uri,
      ...(qop ? { qop, nc: unquote(answer.nc) ?? '', cnonce: unquote(answer.cnonce) ?? '' } : {}),
    });
    const given = unquote(answer.response) ?? '';
    if (given.length !== response.length || !timingSafeEqual(Buffer.from(given), Buffer.from(response))) return 'invalid';
    return this.now() - Number(issued) > this.nonceLifetimeMs ? 'stale' : 'ok';
  }

  private sign(text: string): string {
    return createHmac('sha256', this.secret).update(text).digest('hex').slice(0, 32);
  }
}

/** Formats one auth header value (for logs and tests). */
export function formatAuthHeader(header: AuthHeader): string {
  return sip.stringifyAuthHeader(header);
}
