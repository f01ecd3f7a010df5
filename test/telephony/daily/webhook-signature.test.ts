import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dailySignature, verifyDailyWebhook } from '../../../src/telephony/daily/webhook-signature.ts';

const secret = Buffer.alloc(32, 3).toString('base64');
const body = '{"To":"+15550100000","From":"+15550100009","callId":"c1","callDomain":"d1"}';
const now = 1_790_000_000_000;
const names = { timestamp: 'X-Pinless-Timestamp', signature: 'X-Pinless-Signature' };
const check = (timestamp: string | undefined, signature: string | undefined, rawBody = body, key: string | undefined = secret) =>
  verifyDailyWebhook({ secret: key, timestamp, signature, rawBody, nowMs: now, maxAgeSec: 300, names });

describe('Daily webhook signatures', () => {
  it('is base64 HMAC-SHA256 over `${timestamp}.${body}` keyed with the base64-decoded secret', () => {
    const expected = createHmac('sha256', Buffer.alloc(32, 3)).update(`1790000000.${body}`).digest('base64');
    expect(dailySignature(secret, '1790000000', body)).toBe(expected);
  });

  it('accepts a fresh, matching signature (timestamps in seconds or milliseconds)', () => {
    expect(check('1790000000', dailySignature(secret, '1790000000', body))).toEqual({ ok: true });
    expect(check('1790000000123', dailySignature(secret, '1790000000123', body))).toEqual({ ok: true });
  });

  it('refuses unsigned, forged, tampered and stale requests, and everything when no secret is configured', () => {
    expect(check(undefined, undefined)).toMatchObject({ ok: false, reason: 'missing-signature' });
    expect(check('1790000000', dailySignature(Buffer.alloc(32, 4).toString('base64'), '1790000000', body))).toMatchObject({
      ok: false,
      reason: 'signature-mismatch',
    });
    expect(check('1790000000', dailySignature(secret, '1790000000', body), body.replace('c1', 'c2'))).toMatchObject({
      ok: false,
      reason: 'signature-mismatch',
    });
    expect(check('1789999000', dailySignature(secret, '1789999000', body))).toMatchObject({ ok: false, reason: 'stale-timestamp' });
    const signature = dailySignature(secret, '1790000000', body);
    expect(
      verifyDailyWebhook({ secret: undefined, timestamp: '1790000000', signature, rawBody: body, nowMs: now, maxAgeSec: 300, names }),
    ).toMatchObject({
      ok: false,
    });
  });
});
