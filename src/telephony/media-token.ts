import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Per-call media token: binds a carrier media WebSocket to our call id. The server puts it in the socket URL path
 * (`wss://host/ws/<token>`; Twilio forbids query strings on stream URLs but allows paths) and refuses upgrades
 * without a valid one.
 *
 * Format: `v1.<base64url(callId)>.<expiry, unix seconds, base 36>.<base64url(HMAC-SHA256(secret, "v1.<id>.<exp>"))>`.
 * Every character is URL-path safe (`[A-Za-z0-9_.-]`).
 */

const VERSION = 'v1';
/** 32 bytes of HMAC-SHA256 in base64url without padding. */
const SIGNATURE_LENGTH = 43;
const MIN_SECRET_BYTES = 16;

export interface CreateMediaTokenOptions {
  /** HMAC key; at least 16 bytes. */
  secret: string | Uint8Array;
  /**
   * Lifetime in seconds. Long enough to cover ringing plus answer when the markup is generated at placement time
   * (Twilio `Timeout` ≤ 600 s).
   * @default 900
   */
  ttlSec?: number;
  /** Clock, for tests. @default Date.now() */
  nowMs?: number;
}

export interface VerifyMediaTokenOptions {
  secret: string | Uint8Array;
  /** Clock, for tests. @default Date.now() */
  nowMs?: number;
}

export type MediaTokenFailure = 'malformed' | 'bad-signature' | 'expired';

export type MediaTokenVerification =
  { ok: true; callId: string; expiresAt: Date } | { ok: false; reason: MediaTokenFailure; message: string };

function keyOf(secret: string | Uint8Array): Buffer {
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (key.length < MIN_SECRET_BYTES) throw new RangeError(`media token secret must be at least ${MIN_SECRET_BYTES} bytes`);
  return key;
}

function sign(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}

/** Issue a token for `callId`, valid for `ttlSec`. */
export function createMediaToken(callId: string, options: CreateMediaTokenOptions): string {
  if (callId.length === 0) throw new RangeError('media token needs a call id');
  const key = keyOf(options.secret);
  const ttlSec = options.ttlSec ?? 900;
  if (!(ttlSec > 0)) throw new RangeError('media token ttlSec must be positive');
  const expiry = Math.floor((options.nowMs ?? Date.now()) / 1000 + ttlSec);
  const body = `${VERSION}.${Buffer.from(callId, 'utf8').toString('base64url')}.${expiry.toString(36)}`;
  return `${body}.${sign(key, body)}`;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const BASE36 = /^[0-9a-z]{1,12}$/;

/**
 * Check a token. The signature is checked (constant time) before the expiry, so `expired` is only ever reported
 * for a token we issued.
 */
export function verifyMediaToken(token: string, options: VerifyMediaTokenOptions): MediaTokenVerification {
  const key = keyOf(options.secret);
  const parts = token.split('.');
  if (parts.length !== 4) return { ok: false, reason: 'malformed', message: 'media token must have 4 dot-separated parts' };
  const [version, idPart, expiryPart, signature] = parts as [string, string, string, string];
  if (version !== VERSION) return { ok: false, reason: 'malformed', message: `unknown media token version "${version.slice(0, 8)}"` };
  if (!BASE64URL.test(idPart) || !BASE36.test(expiryPart) || signature.length !== SIGNATURE_LENGTH || !BASE64URL.test(signature)) {
    return { ok: false, reason: 'malformed', message: 'media token has invalid characters or lengths' };
  }
  const expected = Buffer.from(sign(key, `${version}.${idPart}.${expiryPart}`), 'utf8');
  if (!timingSafeEqual(expected, Buffer.from(signature, 'utf8'))) {
    return { ok: false, reason: 'bad-signature', message: 'media token signature does not match' };
  }
  const expiresAt = new Date(parseInt(expiryPart, 36) * 1000);
  if ((options.nowMs ?? Date.now()) >= expiresAt.getTime()) {
    return { ok: false, reason: 'expired', message: `media token expired at ${expiresAt.toISOString()}` };
  }
  return { ok: true, callId: Buffer.from(idPart, 'base64url').toString('utf8'), expiresAt };
}
