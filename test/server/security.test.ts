/**
 * Rejections at the public surface: carrier webhooks without a valid signature, media sockets without a
 * valid per-call token, API calls without the key, and bad input — each a 4xx with a reason.
 */
import twilio from 'twilio';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plivoSignatureHeaders } from '../../src/telephony/plivo/emulator/signature.ts';
import type { RunningSwitchboard } from '../../src/server/start.ts';
import { createMediaToken } from '../../src/telephony/media-token.ts';
import { postJson, sandboxProviderEnv, startTestServer, waitForCallEnd } from './helpers.ts';
import type { TwilioEmulator } from '../../src/telephony/twilio/emulator/index.ts';
import type { TwilioSettings } from '../../src/telephony/twilio/index.ts';
import type { PlivoSettings } from '../../src/telephony/plivo/index.ts';

let server: RunningSwitchboard;
let locked: RunningSwitchboard;
const API_KEY = 'test-api-key-0123456789';

beforeAll(async () => {
  [server, locked] = await Promise.all([startTestServer(), startTestServer({ SWITCHBOARD_API_KEY: API_KEY })]);
});

afterAll(async () => {
  await Promise.allSettled([server?.close(), locked?.close()]);
});

function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

async function postForm(url: string, params: Record<string, string>, headers: Record<string, string>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: form(params),
  });
  const text = await response.text();
  return { status: response.status, text };
}

/** Opens a media socket and reports the HTTP status of the upgrade (101 when accepted). */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.on('open', () => {
      resolve(101);
      socket.close();
    });
    socket.on('error', (error) => {
      if (!/Unexpected server response/.test(String(error))) reject(error);
    });
  });
}

describe('carrier webhook signatures', () => {
  const callSid = 'CA' + 'a'.repeat(32);
  const params = { CallSid: callSid, From: '+15557770002', To: '+15550100000', CallStatus: 'ringing', AccountSid: 'AC' + 'b'.repeat(32) };

  it('Twilio: a request signed by the SDK with the account token is served TwiML', async () => {
    const url = `${server.publicUrl}/twilio/voice`;
    const signature = twilio.getExpectedTwilioSignature((server.config.carriers.twilio as TwilioSettings).authToken!, url, params);
    const response = await postForm(`${server.url}/twilio/voice`, params, { 'x-twilio-signature': signature });
    expect(response.status).toBe(200);
    expect(response.text).toContain('<Connect><Stream url="ws://localhost:');
    expect(response.text).toMatch(/\/ws\/v1\.[^"]+"/);
  });

  it('Twilio: forged or missing signatures get 403 with the reason, on markup and status routes', async () => {
    const forged = twilio.getExpectedTwilioSignature('not-the-token', `${server.publicUrl}/twiml`, params);
    for (const path of ['/twiml', '/twilio/voice', '/twilio/status']) {
      const bad = await postForm(`${server.url}${path}`, params, { 'x-twilio-signature': forged });
      expect(bad.status).toBe(403);
      expect(JSON.parse(bad.text)).toMatchObject({ error: 'forbidden', reason: 'signature-mismatch' });
      const missing = await postForm(`${server.url}${path}`, params, {});
      expect(missing.status).toBe(403);
      expect(JSON.parse(missing.text)).toMatchObject({ reason: 'missing-signature' });
    }
    // A valid signature over different parameters is still a forgery.
    const signedOther = twilio.getExpectedTwilioSignature(
      (server.config.carriers.twilio as TwilioSettings).authToken!,
      `${server.publicUrl}/twilio/status`,
      {
        ...params,
        CallStatus: 'completed',
      },
    );
    expect((await postForm(`${server.url}/twilio/status`, params, { 'x-twilio-signature': signedOther })).status).toBe(403);
  });

  it('Plivo: V3 signatures are required on answer and status routes', async () => {
    const plivoParams = { CallUUID: '0f8f1f8c-6c2e-4c47-9c2a-6f3d2c1b0a99', From: '15557770003', To: '15550100000', Direction: 'inbound' };
    const good = plivoSignatureHeaders(
      'POST',
      `${server.publicUrl}/answer`,
      plivoParams,
      (server.config.carriers.plivo as PlivoSettings).authToken!,
    );
    const ok = await postForm(`${server.url}/answer`, plivoParams, good);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('<Stream');
    expect(ok.text).toContain('bidirectional="true"');
    const forged = plivoSignatureHeaders('POST', `${server.publicUrl}/answer`, plivoParams, 'wrong-token');
    for (const path of ['/answer', '/plivo/answer', '/plivo/status']) {
      const bad = await postForm(`${server.url}${path}`, plivoParams, forged);
      expect(bad.status).toBe(403);
      expect(JSON.parse(bad.text)).toMatchObject({ reason: 'signature-mismatch' });
      expect((await postForm(`${server.url}${path}`, plivoParams, {})).status).toBe(403);
    }
  });
});

describe('media socket tokens', () => {
  const wsBase = () => server.url.replace(/^http/, 'ws');

  it('refuses sockets without a valid per-call token with 403 before the upgrade', async () => {
    expect(await upgradeStatus(`${wsBase()}/ws`)).toBe(403);
    expect(await upgradeStatus(`${wsBase()}/ws/not-a-token`)).toBe(403);
    const forged = createMediaToken('call_does_not_matter', { secret: 'some-other-secret-0123456789' });
    expect(await upgradeStatus(`${wsBase()}/ws/${forged}`)).toBe(403);
  });

  it('accepts the token the markup carried, and refuses a second socket for the same call', async () => {
    const callSid = 'CA' + 'c'.repeat(32);
    const params = { CallSid: callSid, From: '+15557770004', To: '+15550100000', CallStatus: 'ringing' };
    const signature = twilio.getExpectedTwilioSignature(
      (server.config.carriers.twilio as TwilioSettings).authToken!,
      `${server.publicUrl}/twilio/voice`,
      params,
    );
    const twiml = (await postForm(`${server.url}/twilio/voice`, params, { 'x-twilio-signature': signature })).text;
    const streamUrl = /url="([^"]+)"/.exec(twiml)![1]!.replace('localhost', '127.0.0.1');
    const first = new WebSocket(streamUrl);
    await new Promise((resolve, reject) => {
      first.on('open', resolve);
      first.on('error', reject);
    });
    // The first socket is attached only once the carrier's start message arrives; send it like Twilio does.
    first.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    first.send(
      JSON.stringify({
        event: 'start',
        sequenceNumber: '1',
        streamSid: 'MZ' + 'e'.repeat(32),
        start: {
          accountSid: 'AC' + 'b'.repeat(32),
          streamSid: 'MZ' + 'e'.repeat(32),
          callSid,
          tracks: ['inbound'],
          customParameters: {},
          mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        },
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await upgradeStatus(streamUrl)).toBe(403);
    first.close();
  });
});

describe('API key', () => {
  it('requires Authorization: Bearer <key> on /calls, /dialout and /start when a key is set', async () => {
    for (const [path, body] of [
      ['/calls', { to: '+15550100003' }],
      ['/dialout', { to_number: '+15550100003' }],
      ['/start', { phone_number: '+15550100003', body: {} }],
    ] as const) {
      const none = await postJson(`${locked.url}${path}`, body);
      expect(none.status).toBe(401);
      expect(none.json.message).toContain('Authorization: Bearer');
      const wrong = await postJson(`${locked.url}${path}`, body, { authorization: 'Bearer nope' });
      expect(wrong.status).toBe(403);
    }
    expect((await fetch(`${locked.url}/calls`)).status).toBe(401);
    const ok = await postJson(`${locked.url}/calls`, { to: '+15550100003' }, { authorization: `Bearer ${API_KEY}` });
    expect(ok.status).toBe(201);
    const record = await waitForCallEnd(locked.url, ok.json.id as string, 30_000, { authorization: `Bearer ${API_KEY}` });
    expect(record.status).toBe('busy');
    expect((await fetch(`${locked.url}/healthz`)).status).toBe(200); // health stays open
  });
});

describe('bad input', () => {
  it('answers 4xx with a reason, never 500', async () => {
    const bad = await postJson(`${server.url}/calls`, { to: '555-0100' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: 'invalid_request' });
    expect(bad.json.message).toContain('E.164');
    expect((await postJson(`${server.url}/calls`, { to: '+15550100001', carrier: 'vonage' })).status).toBe(400);
    expect((await postJson(`${server.url}/calls`, { to: '+15550100001', agent: 'nobody' })).json).toMatchObject({ error: 'unknown_agent' });
    const huge = await postJson(`${server.url}/start`, { phone_number: '+15550100001', body: { blob: 'x'.repeat(70_000) } });
    expect(huge.status).toBe(413);
    expect((await postJson(`${server.url}/start`, { phone_number: '+15550100001', body: [1, 2] })).status).toBe(400);
    const notJson = await fetch(`${server.url}/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"to":' });
    expect(notJson.status).toBe(400);
    const missing = await fetch(`${server.url}/calls/call_nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'call_not_found' });
  });

  it('a carrier refusal is a 502 with the carrier code, and the record says failed', async () => {
    const misconfigured = await startTestServer({
      TWILIO_ACCOUNT_SID: 'AC' + 'd'.repeat(32),
      TWILIO_AUTH_TOKEN: 'wrong-token',
      TWILIO_API_BASE_URL: server.sandbox!.emulator<TwilioEmulator>('twilio')!.url,
      TWILIO_PHONE_NUMBER: '+15550100000',
      ...sandboxProviderEnv(server),
    });
    try {
      const refused = await postJson(`${misconfigured.url}/calls`, { to: '+15550100001', carrier: 'twilio' });
      expect(refused.status).toBe(502);
      expect(refused.json).toMatchObject({ error: 'carrier_error', carrier: 'twilio', carrierCode: 20003 });
      const record = (await (await fetch(`${misconfigured.url}/calls/${refused.json.callId}`)).json()) as {
        status: string;
        error: { carrierErrorCode: number };
      };
      expect(record.status).toBe('failed');
      expect(record.error.carrierErrorCode).toBe(20003);
    } finally {
      await misconfigured.close();
    }
  });
});
