import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyPlivoWebhook } from '../../../src/telephony/plivo/webhook-signature.ts';

/**
 * Plivo V3 signing, written from the algorithm in the telephony reference §2.5 (plivo-node exports only the
 * validator). Checked against the reference's vectors below before being used to sign other requests.
 */
function plivoSignV3(method: 'GET' | 'POST', uri: string, nonce: string, token: string, postParams: Record<string, string> = {}): string {
  const url = new URL(uri);
  const base = `${url.protocol}//${url.host}${url.pathname}`;
  const query = [...url.searchParams.entries()]
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  let s = base;
  if (method === 'GET') {
    if (query) s += `?${query}`;
  } else {
    const keys = Object.keys(postParams).sort();
    if (query || keys.length > 0) s += `?${query}`;
    if (query && keys.length > 0) s += '.';
    s += keys.map((k) => k + postParams[k]).join('');
  }
  return createHmac('sha256', token).update(`${s}.${nonce}`).digest('base64');
}

interface Vector {
  method: 'GET' | 'POST';
  base: string;
  path: string;
  params: Record<string, string>;
  signature: string;
}

const VECTORS: Vector[] = [
  {
    method: 'POST',
    base: 'https://example.com',
    path: '/answer/',
    params: { CallUUID: 'abc', To: '15551234567', From: '15557654321' },
    signature: '/0XGQUtbGJMMFlA+DOQspaKdk1fzr3CiG7DUXifkG+E=',
  },
  {
    method: 'POST',
    base: 'https://example.com',
    path: '/answer/?x=1',
    params: { CallUUID: 'abc' },
    signature: 'xjz/hQA++MPK5zazW7Lr8kRs+c+PeSwSxiXxl4gL24k=',
  },
  { method: 'POST', base: 'https://example.com', path: '/answer/', params: {}, signature: '5TEt2q+aUFkNfuE19svlYCxzcFLYNYRRPQFI11CQhYI=' },
  {
    method: 'GET',
    base: 'https://example.com',
    path: '/ws?a=2&b=1',
    params: {},
    signature: 'vn5Sr2Cbzz58H/AV+EXycb1kVguf9pqeO/Yso5dKvWQ=',
  },
];

describe('verifyPlivoWebhook', () => {
  it.each(VECTORS)('accepts the reference vector $method $path', (vector) => {
    expect(plivoSignV3(vector.method, vector.base + vector.path, '12345', 'my_auth_token', vector.params)).toBe(vector.signature);
    const result = verifyPlivoWebhook({
      authToken: 'my_auth_token',
      signature: vector.signature,
      nonce: '12345',
      method: vector.method,
      publicBaseUrl: vector.base,
      requestUrl: vector.path,
      formParams: vector.params,
    });
    expect(result).toEqual({ ok: true });
  });

  it('accepts a hang-up callback signed for the public URL, not the proxied one', () => {
    const token = 'plivo-token';
    const params = { CallUUID: 'u-1', CallStatus: 'completed', Duration: '42', HangupCause: 'NORMAL_CLEARING' };
    const signature = plivoSignV3('POST', 'https://agent.example.com/plivo/hangup', 'n0nce', token, params);
    const request = {
      authToken: token,
      signature,
      nonce: 'n0nce',
      method: 'POST' as const,
      requestUrl: '/plivo/hangup',
      formParams: params,
    };
    expect(verifyPlivoWebhook({ ...request, publicBaseUrl: 'https://agent.example.com' })).toEqual({ ok: true });
    expect(verifyPlivoWebhook({ ...request, publicBaseUrl: 'http://127.0.0.1:3000' })).toMatchObject({
      ok: false,
      reason: 'signature-mismatch',
    });
    expect(
      verifyPlivoWebhook({ ...request, publicBaseUrl: 'https://agent.example.com', formParams: { ...params, Duration: '1' } }),
    ).toMatchObject({
      ok: false,
      reason: 'signature-mismatch',
    });
    expect(verifyPlivoWebhook({ ...request, publicBaseUrl: 'https://agent.example.com', nonce: 'other' })).toMatchObject({
      ok: false,
      reason: 'signature-mismatch',
    });
  });

  it('verifies the media WebSocket upgrade (GET with the token in the path)', () => {
    const signature = plivoSignV3('GET', 'https://agent.example.com/ws/v1.abc.def.ghi', 'n', 'tok');
    expect(
      verifyPlivoWebhook({
        authToken: 'tok',
        signature,
        nonce: 'n',
        method: 'GET',
        publicBaseUrl: 'https://agent.example.com',
        requestUrl: '/ws/v1.abc.def.ghi',
      }),
    ).toEqual({ ok: true });
  });

  it('accepts a header listing several signatures when one matches', () => {
    const good = plivoSignV3('POST', 'https://a.example/h', 'n', 'tok', { A: '1' });
    const result = verifyPlivoWebhook({
      authToken: 'tok',
      signature: `bm90LWl0,${good}`,
      nonce: 'n',
      method: 'POST',
      publicBaseUrl: 'https://a.example',
      requestUrl: '/h',
      formParams: { A: '1' },
    });
    expect(result).toEqual({ ok: true });
  });

  it('names what is missing', () => {
    const base = { authToken: 'tok', method: 'POST' as const, publicBaseUrl: 'https://a.example', requestUrl: '/h', formParams: {} };
    expect(verifyPlivoWebhook({ ...base, signature: undefined, nonce: 'n' })).toMatchObject({ ok: false, reason: 'missing-signature' });
    expect(verifyPlivoWebhook({ ...base, signature: 'abc', nonce: undefined })).toMatchObject({ ok: false, reason: 'missing-nonce' });
  });

  it('leaves the caller’s parameter arrays unsorted', () => {
    const params = { Digits: ['3', '1', '2'] };
    verifyPlivoWebhook({
      authToken: 'tok',
      signature: 'x',
      nonce: 'n',
      method: 'POST',
      publicBaseUrl: 'https://a.example',
      requestUrl: '/h',
      formParams: params,
    });
    expect(params.Digits).toEqual(['3', '1', '2']);
  });
});
