import { describe, expect, it } from 'vitest';
import { createMediaToken, verifyMediaToken } from '../../src/telephony/media-token.ts';

const SECRET = 'a-test-secret-of-32-bytes-length!';
const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('media token', () => {
  it('round-trips the call id and is URL-path safe', () => {
    const callId = 'call_01H/ü?#x';
    const token = createMediaToken(callId, { secret: SECRET, ttlSec: 60, nowMs: NOW });
    expect(token).toMatch(/^[A-Za-z0-9_.-]+$/);
    expect(encodeURIComponent(token)).toBe(token);
    const result = verifyMediaToken(token, { secret: SECRET, nowMs: NOW + 59_000 });
    expect(result).toEqual({ ok: true, callId, expiresAt: new Date(NOW + 60_000) });
  });

  it('expires', () => {
    const token = createMediaToken('c1', { secret: SECRET, ttlSec: 60, nowMs: NOW });
    expect(verifyMediaToken(token, { secret: SECRET, nowMs: NOW + 60_000 })).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('defaults to a 15 minute lifetime', () => {
    const token = createMediaToken('c1', { secret: SECRET, nowMs: NOW });
    expect(verifyMediaToken(token, { secret: SECRET, nowMs: NOW + 899_000 }).ok).toBe(true);
    expect(verifyMediaToken(token, { secret: SECRET, nowMs: NOW + 900_000 }).ok).toBe(false);
  });

  it('rejects tokens signed with another secret, or with a changed call id or expiry', () => {
    const token = createMediaToken('c1', { secret: SECRET, ttlSec: 60, nowMs: NOW });
    expect(verifyMediaToken(token, { secret: 'another-secret-of-enough-length', nowMs: NOW })).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
    const [version, , expiry, signature] = token.split('.');
    const otherId = Buffer.from('c2').toString('base64url');
    expect(verifyMediaToken(`${version}.${otherId}.${expiry}.${signature}`, { secret: SECRET, nowMs: NOW })).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
    const later = (parseInt(expiry!, 36) + 3600).toString(36);
    expect(verifyMediaToken(`${version}.${token.split('.')[1]}.${later}.${signature}`, { secret: SECRET, nowMs: NOW })).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('reports bad signature rather than expiry for forged old tokens', () => {
    const token = createMediaToken('c1', { secret: 'someone-elses-secret-value', ttlSec: 1, nowMs: NOW });
    expect(verifyMediaToken(token, { secret: SECRET, nowMs: NOW + 10_000 })).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('calls malformed tokens malformed', () => {
    for (const token of [
      '',
      'abc',
      'v1.a.b',
      'v2.YQ.1.' + 'A'.repeat(43),
      'v1.a b.1.' + 'A'.repeat(43),
      'v1.YQ.1.short',
      'v1.YQ.ZZ.' + 'A'.repeat(43),
    ]) {
      expect(verifyMediaToken(token, { secret: SECRET, nowMs: NOW }), token).toMatchObject({ ok: false, reason: 'malformed' });
    }
  });

  it('refuses short secrets and empty call ids', () => {
    expect(() => createMediaToken('c1', { secret: 'short' })).toThrow(RangeError);
    expect(() => verifyMediaToken('x', { secret: 'short' })).toThrow(RangeError);
    expect(() => createMediaToken('', { secret: SECRET })).toThrow(RangeError);
  });
});
