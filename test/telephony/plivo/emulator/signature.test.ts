import plivo from 'plivo';
import { describe, expect, it } from 'vitest';
import {
  plivoSignatureHeaders,
  plivoV2Signature,
  plivoV3Signature,
  plivoV3SignedString,
} from '../../../../src/telephony/plivo/emulator/index.ts';

describe('Plivo signatures', () => {
  it('V3 matches the reference vectors', () => {
    const params = { CallUUID: 'abc', To: '15551234567', From: '15557654321' };
    expect(plivoV3SignedString('POST', 'https://example.com/answer/', params)).toBe(
      'https://example.com/answer/?CallUUIDabcFrom15557654321To15551234567',
    );
    expect(plivoV3Signature('POST', 'https://example.com/answer/', params, '12345', 'my_auth_token')).toBe(
      '/0XGQUtbGJMMFlA+DOQspaKdk1fzr3CiG7DUXifkG+E=',
    );
    expect(plivoV3Signature('POST', 'https://example.com/answer/?x=1', { CallUUID: 'abc' }, '12345', 'my_auth_token')).toBe(
      'xjz/hQA++MPK5zazW7Lr8kRs+c+PeSwSxiXxl4gL24k=',
    );
    expect(plivoV3Signature('POST', 'https://example.com/answer/', {}, '12345', 'my_auth_token')).toBe(
      '5TEt2q+aUFkNfuE19svlYCxzcFLYNYRRPQFI11CQhYI=',
    );
    expect(plivoV3Signature('GET', 'https://example.com/ws?a=2&b=1', {}, '12345', 'my_auth_token')).toBe(
      'vn5Sr2Cbzz58H/AV+EXycb1kVguf9pqeO/Yso5dKvWQ=',
    );
  });

  it('V2 matches the official SDK test vector', () => {
    expect(plivoV2Signature('https://answer.url', '12345', 'my_auth_token')).toBe('ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc=');
  });

  it('headers are accepted by the official SDK validators', () => {
    const url = 'http://127.0.0.1:4000/plivo/hangup?tenant=t1';
    const params = { CallUUID: 'u1', HangupCause: 'NORMAL_CLEARING', Duration: '12' };
    const h = plivoSignatureHeaders('POST', url, params, 'tok');
    expect(
      plivo.validateV3Signature('POST', url, h['X-Plivo-Signature-V3-Nonce'] as string, 'tok', h['X-Plivo-Signature-V3'] as string, params),
    ).toBe(true);
    expect(
      plivo.validateV3Signature('POST', url, h['X-Plivo-Signature-V3-Nonce'] as string, 'bad', h['X-Plivo-Signature-V3'] as string, params),
    ).toBe(false);
    expect(plivo.validateSignature(url, h['X-Plivo-Signature-V2-Nonce'] as string, h['X-Plivo-Signature-V2'] as string, 'tok')).toBe(true);
    const ws = plivoSignatureHeaders('GET', 'http://127.0.0.1:4000/ws?call=1', {}, 'tok');
    expect(
      plivo.validateV3Signature(
        'GET',
        'http://127.0.0.1:4000/ws?call=1',
        ws['X-Plivo-Signature-V3-Nonce'] as string,
        'tok',
        ws['X-Plivo-Signature-V3'] as string,
        {},
      ),
    ).toBe(true);
  });
});
