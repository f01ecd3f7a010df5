/**
 * Hostile input at the HTTP surface (issue 10, defects 3, 6, 7 and 8), against a server with carrier credentials
 * and no providers (nothing is dialled): API routes take JSON only, webhook bodies are bounded before their
 * signature is checked, malformed input is a 4xx with a reason, and secrets in URLs never reach the log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import twilio from 'twilio';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/log.ts';
import { startSwitchboard, type RunningSwitchboard } from '../../../src/server/start.ts';
import { plivoSignatureHeaders } from '../../../src/telephony/plivo/emulator/signature.ts';

const TWILIO_TOKEN = 'twilio-token-0123456789';
const PLIVO_TOKEN = 'plivo-token-0123456789';
const API_KEY = 'api-key-that-must-never-be-logged';

interface Server {
  running: RunningSwitchboard;
  lines: string[];
  close(): Promise<void>;
}

async function startServer(env: Record<string, string> = {}): Promise<Server> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-hostile-'));
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    SWITCHBOARD_DATA_DIR: dataDir,
    TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`,
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    TWILIO_PHONE_NUMBER: '+15550009999',
    PLIVO_AUTH_ID: `MA${'A'.repeat(18)}`,
    PLIVO_AUTH_TOKEN: PLIVO_TOKEN,
    PLIVO_PHONE_NUMBER: '15550009998',
    ...env,
  });
  const running = await startSwitchboard({ config, log: createLogger({ level: 'info', destination }) });
  return {
    running,
    lines,
    close: async () => {
      await running.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let open: Server;
let locked: Server;

beforeAll(async () => {
  [open, locked] = await Promise.all([startServer(), startServer({ SWITCHBOARD_API_KEY: API_KEY })]);
});

afterAll(async () => {
  await Promise.allSettled([open?.close(), locked?.close()]);
});

const post = (url: string, body: string, headers: Record<string, string>) => fetch(url, { method: 'POST', headers, body });
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** A Twilio status callback as Twilio sends it: every geographic, SIP and STIR field (about 1.5 KB, 40 fields). */
function realTwilioCallback(callSid: string): Record<string, string> {
  const params: Record<string, string> = {
    AccountSid: `AC${'1'.repeat(32)}`,
    ApiVersion: '2010-04-01',
    CallSid: callSid,
    CallStatus: 'completed',
    CallDuration: '42',
    Duration: '1',
    Direction: 'outbound-api',
    Timestamp: 'Tue, 31 Aug 2010 20:36:28 +0000',
    CallbackSource: 'call-progress-events',
    SequenceNumber: '3',
    SipResponseCode: '200',
    StirVerstat: 'TN-Validation-Passed-A',
    CallerName: 'SWITCHBOARD TEST',
    ParentCallSid: '',
    ForwardedFrom: '',
  };
  for (const who of ['Called', 'Caller', 'From', 'To']) {
    params[who] = '+15550100001';
    for (const field of ['City', 'State', 'Zip', 'Country']) params[`${who}${field}`] = field === 'Country' ? 'US' : 'SAN FRANCISCO';
  }
  return params;
}

function twilioSignature(server: Server, path: string, params: Record<string, string>): string {
  return twilio.getExpectedTwilioSignature(TWILIO_TOKEN, `${server.running.publicUrl}${path}`, params);
}

/** A forged form like the flood in issue 10: `count` parameters, about `bytes` long. */
function floodForm(count: number, bytes: number): string {
  const value = 'x'.repeat(Math.max(1, Math.floor(bytes / count) - 8));
  return Array.from({ length: count }, (_, i) => `k${i}=${value}`).join('&');
}

describe('defect 3: API routes take JSON only', () => {
  it('POST /calls, /dialout, /start, /outbound-call and /daily/start answer 415 to form, text and untyped bodies, before anything is placed', async () => {
    for (const [path, fields] of [
      ['/calls', { to: '+15550100001' }],
      ['/dialout', { to_number: '+15550100001' }],
      ['/start', { phone_number: '+15550100001' }],
      ['/outbound-call', { phone_number: '+15550100001', from_number: '+15550100000' }],
      ['/daily/start', { body: '{}' }],
    ] as const) {
      const form = await post(`${open.running.url}${path}`, new URLSearchParams(fields).toString(), FORM);
      expect(form.status).toBe(415);
      expect(await form.json()).toMatchObject({ error: 'unsupported_media_type' });
      const text = await post(`${open.running.url}${path}`, JSON.stringify(fields), { 'content-type': 'text/plain' });
      expect(text.status).toBe(415);
      const untyped = await fetch(`${open.running.url}${path}`, { method: 'POST', body: new Blob([JSON.stringify(fields)]) });
      expect(untyped.status).toBe(415);
    }
    expect(((await (await fetch(`${open.running.url}/calls`)).json()) as { calls: unknown[] }).calls).toEqual([]);
    // JSON still goes through to placement (here: 503, no providers configured), charset or not.
    const json = await post(`${open.running.url}/calls`, JSON.stringify({ to: '+15550100001' }), {
      'content-type': 'application/json; charset=utf-8',
    });
    expect(json.status).toBe(503);
  });

  it('with an API key, a form post without the key is refused by the key check first (401)', async () => {
    const response = await post(`${locked.running.url}/calls`, 'to=%2B15550100001', FORM);
    expect(response.status).toBe(401);
  });
});

describe('defect 6: webhook bodies are bounded before their signature is checked', () => {
  it('a forged 200 KB form with 25,000 parameters is refused with 413 on every webhook route', async () => {
    const body = floodForm(25_000, 200 * 1024);
    for (const path of [
      '/twilio/status',
      '/twilio/voice',
      '/twiml',
      '/twilio/amd',
      '/plivo/status',
      '/answer',
      '/plivo/answer',
      '/plivo/amd',
    ]) {
      const response = await post(`${open.running.url}${path}`, body, { ...FORM, 'x-twilio-signature': 'forged' });
      expect(response.status, path).toBe(413);
    }
  });

  it('a small form with too many parameters is 413 with the reason; one just over 16 KB is 413', async () => {
    const many = await post(`${open.running.url}/twilio/status`, floodForm(129, 2000), { ...FORM, 'x-twilio-signature': 'forged' });
    expect(many.status).toBe(413);
    expect(await many.json()).toMatchObject({ error: 'too_many_parameters' });
    const big = await post(`${open.running.url}/plivo/status`, floodForm(10, 16 * 1024 + 100), FORM);
    expect(big.status).toBe(413);
  });

  it('a GET webhook whose query is over 16 KB is refused before any route runs (431)', async () => {
    const response = await fetch(`${open.running.url}/twilio/voice?${floodForm(2000, 20 * 1024)}`);
    expect(response.status).toBe(431);
  });

  it("a real-size signed Twilio callback (40 fields) and Plivo's hangup callback still get through", async () => {
    const params = realTwilioCallback(`CA${'a'.repeat(32)}`);
    const twilioResponse = await post(`${open.running.url}/twilio/status`, new URLSearchParams(params).toString(), {
      ...FORM,
      'x-twilio-signature': twilioSignature(open, '/twilio/status', params),
    });
    expect(twilioResponse.status).toBe(204);
    const plivoParams: Record<string, string> = {
      CallUUID: '0f8f1f8c-6c2e-4c47-9c2a-6f3d2c1b0a99',
      CallStatus: 'completed',
      Event: 'Hangup',
      HangupCause: 'NORMAL_CLEARING',
      HangupCauseName: 'Normal Hangup',
      HangupCauseCode: '4000',
      HangupSource: 'Callee',
      Duration: '12',
      BillDuration: '60',
      From: '15550009998',
      To: '15550100001',
      Direction: 'outbound',
      RequestUUID: '9834029e-58b6-11e1-b8b7-a5bd0e4e126f',
      ALegUUID: '0f8f1f8c-6c2e-4c47-9c2a-6f3d2c1b0a99',
      ALegRequestUUID: '9834029e-58b6-11e1-b8b7-a5bd0e4e126f',
      StartTime: '2026-12-02 10:00:00',
      AnswerTime: '2026-12-02 10:00:05',
      EndTime: '2026-12-02 10:00:17',
      'X-PH-CallId': 'call_0123456789abcdef01234567',
    };
    const plivoResponse = await post(`${open.running.url}/plivo/status`, new URLSearchParams(plivoParams).toString(), {
      ...FORM,
      ...plivoSignatureHeaders('POST', `${open.running.publicUrl}/plivo/status`, plivoParams, PLIVO_TOKEN),
    });
    expect(plivoResponse.status).toBe(204);
  });
});

describe('Twilio webhooks configured as GET', () => {
  it('a signed GET voice webhook is answered with TwiML, a signed GET status callback is applied, a forged one is 403', async () => {
    const query = new URLSearchParams({ CallSid: `CA${'d'.repeat(32)}`, From: '+15557770002', To: '+15550009999', CallStatus: 'ringing' });
    const voicePath = `/twilio/voice?${query.toString()}`;
    const voice = await fetch(`${open.running.url}${voicePath}`, {
      headers: { 'x-twilio-signature': twilioSignature(open, voicePath, {}) },
    });
    expect(voice.status).toBe(200);
    expect(voice.headers.get('content-type')).toContain('text/xml');
    expect(await voice.text()).toContain('<Response>');
    const statusPath = `/twilio/status?${new URLSearchParams(realTwilioCallback(`CA${'e'.repeat(32)}`)).toString()}`;
    const status = await fetch(`${open.running.url}${statusPath}`, {
      headers: { 'x-twilio-signature': twilioSignature(open, statusPath, {}) },
    });
    expect(status.status).toBe(204);
    const forged = await fetch(`${open.running.url}${statusPath}`, { headers: { 'x-twilio-signature': 'forged' } });
    expect(forged.status).toBe(403);
  });
});

describe('defect 7: parse errors are 4xx with a reason, never 500', () => {
  it('validly signed status callbacks with an unknown or missing CallStatus, CallSid or CallUUID are 400', async () => {
    const cases: Array<Record<string, string>> = [
      { CallSid: `CA${'b'.repeat(32)}`, CallStatus: 'exploded' },
      { CallSid: `CA${'b'.repeat(32)}` },
      { CallStatus: 'completed' },
      {},
    ];
    for (const params of cases) {
      const response = await post(`${open.running.url}/twilio/status`, new URLSearchParams(params).toString(), {
        ...FORM,
        'x-twilio-signature': twilioSignature(open, '/twilio/status', params),
      });
      expect(response.status, JSON.stringify(params)).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'invalid_status_callback' });
    }
    for (const params of [{ CallUUID: 'u-1', CallStatus: 'exploded' }, { CallUUID: 'u-1' }, { CallStatus: 'completed' }] as Array<
      Record<string, string>
    >) {
      const response = await post(`${open.running.url}/plivo/status`, new URLSearchParams(params).toString(), {
        ...FORM,
        ...plivoSignatureHeaders('POST', `${open.running.publicUrl}/plivo/status`, params, PLIVO_TOKEN),
      });
      expect(response.status, JSON.stringify(params)).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'invalid_status_callback' });
    }
  });

  it('a signature header the carrier SDK cannot even encode (a lone surrogate) is a 403, not a 500', async () => {
    const params = { CallUUID: 'u-2', CallStatus: 'completed' };
    // Only an in-process request can carry such a header value; the SDK's validator threw on it.
    const plivoAnswer = await open.running.app.inject({
      method: 'POST',
      url: '/plivo/status',
      headers: { ...FORM, 'x-plivo-signature-v3': 'abc', 'x-plivo-signature-v3-nonce': '\uD800' },
      payload: new URLSearchParams(params).toString(),
    });
    expect(plivoAnswer.statusCode).toBe(403);
    expect(plivoAnswer.json()).toMatchObject({ reason: 'signature-mismatch' });
  });

  it('metadata nested 1000 and 5000 levels deep is a 400 naming the depth limit, on /calls and /start', async () => {
    for (const depth of [1000, 5000]) {
      const nested = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      for (const [path, body] of [
        ['/calls', `{"to":"+15550100001","metadata":${nested}}`],
        ['/start', `{"phone_number":"+15550100001","body":${nested}}`],
      ] as const) {
        const response = await post(`${open.running.url}${path}`, body, { 'content-type': 'application/json' });
        expect(response.status, `${path} ${depth}`).toBe(400);
        const answer = (await response.json()) as { error: string; message: string };
        expect(answer.error).toBe('invalid_request');
        expect(answer.message).toContain('nested deeper than 32');
      }
    }
  });

  it('broken JSON, empty JSON and a body over the JSON limit are 4xx with a reason', async () => {
    const broken = await post(`${open.running.url}/calls`, '{"to":', { 'content-type': 'application/json' });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { message: string }).message).toMatch(/JSON/);
    const empty = await post(`${open.running.url}/calls`, '', { 'content-type': 'application/json' });
    expect(empty.status).toBe(400);
    const huge = await post(`${open.running.url}/calls`, JSON.stringify({ to: '+1', pad: 'x'.repeat(300 * 1024) }), {
      'content-type': 'application/json',
    });
    expect(huge.status).toBe(413);
  });
});

describe('defect 8: secrets in URLs never reach the log', () => {
  it('an API key sent as ?api_key= is redacted from the rejection line', async () => {
    const response = await fetch(`${locked.running.url}/calls?api_key=${API_KEY}&limit=5`);
    expect(response.status).toBe(401);
    const line = locked.lines.findLast((l) => l.includes('API request rejected'));
    expect(line).toBeDefined();
    expect(JSON.parse(line as string)).toMatchObject({ route: '/calls?api_key=[redacted]&limit=[redacted]' });
    expect(locked.lines.join('\n')).not.toContain(API_KEY);
  });

  it('a media token sent as /ws?token= or /ws/<token>?x= is redacted from the refusal line', async () => {
    const secret = 'v1.secret-media-token-value';
    for (const path of [`/ws?token=${secret}`, `/ws/${secret}?token=${secret}`]) {
      const status = await new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(`${open.running.url.replace(/^http/, 'ws')}${path}`);
        socket.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          socket.terminate();
        });
        socket.on('open', () => reject(new Error('socket accepted')));
        socket.on('error', (error) => {
          if (!/Unexpected server response/.test(String(error))) reject(error);
        });
      });
      expect(status).toBe(403);
    }
    const refusals = open.lines.filter((l) => l.includes('media socket rejected'));
    expect(refusals.length).toBeGreaterThanOrEqual(2);
    expect(open.lines.join('\n')).not.toContain('secret-media-token-value');
    expect(refusals.map((l) => (JSON.parse(l) as { route: string }).route)).toEqual(
      expect.arrayContaining(['/ws?token=[redacted]', '/ws/<token>']),
    );
  });
});
