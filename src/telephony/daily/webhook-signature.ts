/**
 * Daily's signed webhooks. Pinless dial-in (`room_creation_api`): `X-Pinless-Timestamp` and `X-Pinless-Signature`
 * = base64(HMAC-SHA256(key = base64-decoded `hmac` of the dial-in config, message = `${timestamp}.${rawBody}`)).
 * Daily's own example server skips the check when the headers are missing; we refuse instead.
 *
 * The generic `dialin.*`/`dialout.*` webhooks: that they are signed the same way with `X-Webhook-Timestamp` /
 * `X-Webhook-Signature` and the webhook's `hmac` is our reading of Daily's webhook docs, not confirmed against a
 * real account (README "Daily").
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookVerification } from '../webhook-verification.ts';

export const PINLESS_TIMESTAMP_HEADER = 'x-pinless-timestamp';
export const PINLESS_SIGNATURE_HEADER = 'x-pinless-signature';
export const WEBHOOK_TIMESTAMP_HEADER = 'x-webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'x-webhook-signature';

/** base64(HMAC-SHA256(base64decode(secret), `${timestamp}.${body}`)) */
export function dailySignature(secret: string, timestamp: string, rawBody: string): string {
  return createHmac('sha256', Buffer.from(secret, 'base64')).update(`${timestamp}.${rawBody}`).digest('base64');
}

export interface DailyWebhookCheck {
  /** The base64 `hmac`; absent: every request is refused (nothing to check against). */
  secret: string | undefined;
  timestamp: string | string[] | undefined;
  signature: string | string[] | undefined;
  rawBody: string;
  /** Now, Unix ms. */
  nowMs: number;
  /** Timestamps further than this from now are stale. */
  maxAgeSec: number;
  /** Header names, for the reasons given. */
  names: { timestamp: string; signature: string };
}

/**
 * Checks one signed Daily webhook. Timestamps are read as Unix seconds, or milliseconds when they are that large
 * (Daily's SIP-trunk webhooks use ms; which unit the pinless webhook uses is not documented).
 */
export function verifyDailyWebhook(check: DailyWebhookCheck): WebhookVerification {
  if (!check.secret) return { ok: false, reason: 'signature-mismatch', message: 'no hmac secret is configured for this webhook' };
  const timestamp = Array.isArray(check.timestamp) ? check.timestamp[0] : check.timestamp;
  const signature = Array.isArray(check.signature) ? check.signature[0] : check.signature;
  if (!timestamp || !signature)
    return { ok: false, reason: 'missing-signature', message: `missing ${check.names.timestamp} or ${check.names.signature} header` };
  const value = Number(timestamp);
  if (!Number.isFinite(value)) return { ok: false, reason: 'stale-timestamp', message: `${check.names.timestamp} is not a number` };
  const atMs = value > 1e11 ? value : value * 1000;
  if (Math.abs(check.nowMs - atMs) > check.maxAgeSec * 1000)
    return { ok: false, reason: 'stale-timestamp', message: `${check.names.timestamp} is more than ${check.maxAgeSec} s from now` };
  const expected = Buffer.from(dailySignature(check.secret, timestamp, check.rawBody));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'signature-mismatch', message: `${check.names.signature} does not match` };
  return { ok: true };
}
