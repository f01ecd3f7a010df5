import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { verifyTwilioWebhook } from '../../../src/telephony/twilio/webhook-signature.ts';
import { publicRequestUrl } from '../../../src/telephony/webhook-verification.ts';

// Test vectors from Twilio's own request-validator tests (see the telephony reference §1.6).
const VECTOR_TOKEN = '12345';
const VECTOR_PARAMS = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+14158675309',
  Digits: '1234',
  From: '+14158675309',
  To: '+18005551212',
};

describe('verifyTwilioWebhook', () => {
  it("accepts Twilio's published test vector", () => {
    const result = verifyTwilioWebhook({
      authToken: VECTOR_TOKEN,
      signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=',
      publicBaseUrl: 'https://mycompany.com',
      requestUrl: '/myapp.php?foo=1&bar=2',
      formParams: VECTOR_PARAMS,
    });
    expect(result).toEqual({ ok: true });
  });

  it('accepts the signature Twilio computes with the standard port added', () => {
    const result = verifyTwilioWebhook({
      authToken: VECTOR_TOKEN,
      signature: 'kvajT1Ptam85bY51eRf/AJRuM3w=',
      publicBaseUrl: 'https://mycompany.com',
      requestUrl: '/myapp.php?foo=1&bar=2',
      formParams: VECTOR_PARAMS,
    });
    expect(result.ok).toBe(true);
  });

  it('accepts the JSON-body vector and checks the body against bodySHA256', () => {
    const url = '/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620';
    const base = {
      authToken: VECTOR_TOKEN,
      signature: 'a9nBmqA0ju/hNViExpshrM61xv4=',
      publicBaseUrl: 'https://mycompany.com',
      requestUrl: url,
    };
    expect(verifyTwilioWebhook({ ...base, rawBody: '{"property": "value", "boolean": true}' })).toEqual({ ok: true });
    const tampered = verifyTwilioWebhook({ ...base, rawBody: '{"property": "other", "boolean": true}' });
    expect(tampered).toMatchObject({ ok: false, reason: 'body-hash-mismatch' });
  });

  it('accepts a form POST signed by the SDK for the public URL, even though the server sees another host', () => {
    const authToken = 'auth-token-for-tests';
    const params = { CallSid: 'CA1', CallStatus: 'completed', CallDuration: '42', StatusCallbackEvent: ['ringing', 'answered'] };
    const signature = twilio.getExpectedTwilioSignature(authToken, 'https://agent.example.com/twilio/status?call=c_1', params);
    const request = { authToken, signature, requestUrl: '/twilio/status?call=c_1', formParams: params };
    expect(verifyTwilioWebhook({ ...request, publicBaseUrl: 'https://agent.example.com' })).toEqual({ ok: true });
    // The URL behind the proxy is not what Twilio signed.
    expect(verifyTwilioWebhook({ ...request, publicBaseUrl: 'http://10.0.0.5:3000' })).toMatchObject({
      ok: false,
      reason: 'signature-mismatch',
    });
  });

  it('accepts a GET webhook signed over its query string', () => {
    const authToken = 'auth-token-for-tests';
    const signature = twilio.getExpectedTwilioSignature(authToken, 'https://agent.example.com/twilio/answer?CallSid=CA1&From=%2B1555', {});
    expect(
      verifyTwilioWebhook({
        authToken,
        signature,
        publicBaseUrl: 'https://agent.example.com/',
        requestUrl: '/twilio/answer?CallSid=CA1&From=%2B1555',
      }),
    ).toEqual({ ok: true });
  });

  it('rejects a missing header with its own reason', () => {
    const result = verifyTwilioWebhook({
      authToken: VECTOR_TOKEN,
      signature: undefined,
      publicBaseUrl: 'https://mycompany.com',
      requestUrl: '/myapp.php',
      formParams: {},
    });
    expect(result).toMatchObject({ ok: false, reason: 'missing-signature' });
  });

  it('rejects forged signatures, tampered parameters and the wrong token', () => {
    const base = { publicBaseUrl: 'https://mycompany.com', requestUrl: '/myapp.php?foo=1&bar=2' };
    expect(
      verifyTwilioWebhook({ ...base, authToken: VECTOR_TOKEN, signature: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=', formParams: VECTOR_PARAMS }),
    ).toMatchObject({
      ok: false,
      reason: 'signature-mismatch',
    });
    expect(
      verifyTwilioWebhook({
        ...base,
        authToken: VECTOR_TOKEN,
        signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=',
        formParams: { ...VECTOR_PARAMS, Digits: '9999' },
      }),
    ).toMatchObject({ ok: false, reason: 'signature-mismatch' });
    expect(
      verifyTwilioWebhook({ ...base, authToken: '54321', signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', formParams: VECTOR_PARAMS }),
    ).toMatchObject({
      ok: false,
      reason: 'signature-mismatch',
    });
  });
});

describe('publicRequestUrl', () => {
  it('joins the public base (with or without a path prefix) and the path the server saw', () => {
    expect(publicRequestUrl('https://agent.example.com', '/twilio/status?x=1')).toBe('https://agent.example.com/twilio/status?x=1');
    expect(publicRequestUrl('https://example.com/switchboard/', '/twilio/status')).toBe('https://example.com/switchboard/twilio/status');
    expect(publicRequestUrl('https://agent.example.com', 'http://10.0.0.5:3000/a/b?c=d')).toBe('https://agent.example.com/a/b?c=d');
    expect(publicRequestUrl('https://agent.example.com', '*')).toBe('https://agent.example.com/*');
  });
});
