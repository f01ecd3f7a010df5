import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.ts';
import { CarrierError } from '../../../src/telephony/carrier-error.ts';
import { TwilioCallClient } from '../../../src/telephony/twilio/call-client.ts';
import { basicAuth, startRecordingServer, type RecordedRequest, type RecordingServer } from '../recording-server.ts';

const ACCOUNT = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'secret-auth-token-xyz';
const CALL_SID = 'CA0123456789abcdef0123456789abcdef';

function callJson(status: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sid: CALL_SID,
    account_sid: ACCOUNT,
    to: '+15551230000',
    from: '+15557650000',
    status,
    start_time: null,
    end_time: null,
    duration: null,
    direction: 'outbound-api',
    date_created: 'Tue, 31 Aug 2010 20:36:28 +0000',
    date_updated: 'Tue, 31 Aug 2010 20:36:44 +0000',
    api_version: '2010-04-01',
    ...extra,
  };
}

let server: RecordingServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function form(request: RecordedRequest): URLSearchParams {
  return new URLSearchParams(request.body);
}

describe('TwilioCallClient', () => {
  it('places a call with the exact Twilio wire format', async () => {
    server = await startRecordingServer(() => ({ status: 201, body: callJson('queued') }));
    const client = new TwilioCallClient({ accountSid: ACCOUNT, authToken: TOKEN, baseUrl: server.baseUrl });
    const placed = await client.placeCall({
      callId: 'c_1',
      to: '+15551230000',
      from: '+15557650000',
      answerUrl: 'https://agent.example.com/twilio/answer',
      statusCallbackUrl: 'https://agent.example.com/twilio/status',
      ringTimeoutSec: 30,
    });
    expect(placed).toEqual({ carrier: 'twilio', carrierCallId: CALL_SID, requestId: CALL_SID, status: 'queued' });
    expect(server.requests).toHaveLength(1);
    const request = server.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Calls.json`);
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request.headers.accept).toBe('application/json');
    expect(basicAuth(request.headers.authorization)).toEqual({ user: ACCOUNT, password: TOKEN });
    const body = form(request);
    expect(body.get('To')).toBe('+15551230000');
    expect(body.get('From')).toBe('+15557650000');
    expect(body.get('Url')).toBe('https://agent.example.com/twilio/answer');
    expect(body.get('Method')).toBe('POST');
    expect(body.has('Twiml')).toBe(false);
    expect(body.get('StatusCallback')).toBe('https://agent.example.com/twilio/status');
    expect(body.getAll('StatusCallbackEvent')).toEqual(['initiated', 'ringing', 'answered', 'completed']);
    // Arrays are repeated keys, not `StatusCallbackEvent[]=` or a comma list.
    expect(request.body).toContain(
      'StatusCallbackEvent=initiated&StatusCallbackEvent=ringing&StatusCallbackEvent=answered&StatusCallbackEvent=completed',
    );
    expect(body.get('StatusCallbackMethod')).toBe('POST');
    expect(body.get('Timeout')).toBe('30');
  });

  it('sends inline TwiML and keeps a base-URL path prefix', async () => {
    server = await startRecordingServer(() => ({ status: 201, body: callJson('queued') }));
    const client = new TwilioCallClient({ accountSid: ACCOUNT, authToken: TOKEN, baseUrl: `${server.baseUrl}/emulator/twilio/` });
    const twiml = '<Response><Connect><Stream url="wss://agent.example.com/ws/t"/></Connect></Response>';
    await client.placeCall({ callId: 'c_2', to: '+15551230000', from: '+15557650000', answerMarkup: twiml });
    const request = server.requests[0]!;
    expect(request.url).toBe(`/emulator/twilio/2010-04-01/Accounts/${ACCOUNT}/Calls.json`);
    expect(form(request).get('Twiml')).toBe(twiml);
    expect(form(request).has('Url')).toBe(false);
    expect(form(request).has('StatusCallback')).toBe(false);
    expect(form(request).has('Timeout')).toBe(false);
  });

  it('surfaces Twilio error codes with our call id', async () => {
    server = await startRecordingServer(() => ({
      status: 400,
      body: {
        code: 21211,
        message: "The 'To' number 12 is not a valid phone number.",
        more_info: 'https://www.twilio.com/docs/errors/21211',
        status: 400,
      },
    }));
    const client = new TwilioCallClient({ accountSid: ACCOUNT, authToken: TOKEN, baseUrl: server.baseUrl });
    const error = await client
      .placeCall({ callId: 'c_bad', to: '12', from: '+15557650000', answerUrl: 'https://a.example/answer' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CarrierError);
    const carrierError = error as CarrierError;
    expect(carrierError.carrier).toBe('twilio');
    expect(carrierError.operation).toBe('placeCall');
    expect(carrierError.callId).toBe('c_bad');
    expect(carrierError.httpStatus).toBe(400);
    expect(carrierError.carrierCode).toBe(21211);
    expect(carrierError.message).toContain('c_bad');
    expect(carrierError.message).toContain('21211');
  });

  it('refuses a call with neither answer URL nor markup, without a request', async () => {
    server = await startRecordingServer(() => ({ status: 201, body: callJson('queued') }));
    const client = new TwilioCallClient({ accountSid: ACCOUNT, authToken: TOKEN, baseUrl: server.baseUrl });
    await expect(client.placeCall({ callId: 'c_3', to: '+1', from: '+2' })).rejects.toBeInstanceOf(CarrierError);
    expect(server.requests).toHaveLength(0);
  });

  it('hangs up with Status=completed', async () => {
    server = await startRecordingServer(() => ({ status: 200, body: callJson('completed') }));
    const client = new TwilioCallClient({ accountSid: ACCOUNT, authToken: TOKEN, baseUrl: server.baseUrl });
    await client.hangUp({ callId: 'c_4', carrierCallId: CALL_SID });
    expect(server.requests).toHaveLength(1);
    const request = server.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Calls/${CALL_SID}.json`);
    expect(request.body).toBe('Status=completed');
  });

  it('cancels an unanswered call, and completes it if it was answered meanwhile', async () => {
    server = await startRecordingServer(() => ({ status: 200, body: callJson('canceled') }));
    const client = new TwilioCallClient({ accountSid: ACCOUNT, authToken: TOKEN, baseUrl: server.baseUrl });
    await client.hangUp({ callId: 'c_5', carrierCallId: CALL_SID, answered: false });
    expect(server.requests.map((r) => r.body)).toEqual(['Status=canceled']);

    server.respond = (request) => ({ status: 200, body: callJson(request.body === 'Status=canceled' ? 'in-progress' : 'completed') });
    await client.hangUp({ callId: 'c_5', carrierCallId: CALL_SID, answered: false });
    expect(server.requests.map((r) => r.body)).toEqual(['Status=canceled', 'Status=canceled', 'Status=completed']);
  });

  it('treats an already-ended call (404 / 20404) as hung up', async () => {
    server = await startRecordingServer(() => ({
      status: 404,
      body: {
        code: 20404,
        message: 'The requested resource was not found',
        more_info: 'https://www.twilio.com/docs/errors/20404',
        status: 404,
      },
    }));
    const client = new TwilioCallClient({ accountSid: ACCOUNT, authToken: TOKEN, baseUrl: server.baseUrl });
    await expect(client.hangUp({ callId: 'c_6', carrierCallId: CALL_SID })).resolves.toBeUndefined();
  });

  it('does not swallow other hang-up failures', async () => {
    server = await startRecordingServer(() => ({ status: 401, body: { code: 20003, message: 'Authenticate', status: 401 } }));
    const client = new TwilioCallClient({ accountSid: ACCOUNT, authToken: TOKEN, baseUrl: server.baseUrl });
    const error = (await client.hangUp({ callId: 'c_7', carrierCallId: CALL_SID }).catch((e: unknown) => e)) as CarrierError;
    expect(error).toBeInstanceOf(CarrierError);
    expect(error.carrierCode).toBe(20003);
    expect(error.operation).toBe('hangUp');
  });

  it('fetches a call and maps its status, times and duration', async () => {
    server = await startRecordingServer(() => ({
      status: 200,
      body: callJson('completed', {
        start_time: 'Tue, 31 Aug 2010 20:36:29 +0000',
        end_time: 'Tue, 31 Aug 2010 20:37:11 +0000',
        duration: '42',
      }),
    }));
    const client = new TwilioCallClient({ accountSid: ACCOUNT, authToken: TOKEN, baseUrl: server.baseUrl });
    const info = await client.getCall({ callId: 'c_8', carrierCallId: CALL_SID });
    expect(server.requests[0]!.method).toBe('GET');
    expect(server.requests[0]!.url).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Calls/${CALL_SID}.json`);
    expect(info).toMatchObject({
      carrier: 'twilio',
      carrierCallId: CALL_SID,
      status: 'completed',
      carrierStatus: 'completed',
      from: '+15557650000',
      to: '+15551230000',
      direction: 'outbound-api',
      durationSec: 42,
    });
    expect(info.startedAt?.toISOString()).toBe('2010-08-31T20:36:29.000Z');
    expect(info.endedAt?.toISOString()).toBe('2010-08-31T20:37:11.000Z');
  });

  it('reports network failures without credentials, and never logs them', async () => {
    server = await startRecordingServer(() => ({ status: 201, body: callJson('queued') }));
    const deadUrl = server.baseUrl;
    await server.close();
    server = undefined;
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const client = new TwilioCallClient({
      accountSid: ACCOUNT,
      authToken: TOKEN,
      baseUrl: deadUrl,
      logger: createLogger({ level: 'debug', destination }),
    });
    const error = (await client
      .placeCall({ callId: 'c_9', to: '+1', from: '+2', answerUrl: 'https://a.example/a' })
      .catch((e: unknown) => e)) as CarrierError;
    expect(error).toBeInstanceOf(CarrierError);
    expect(error.httpStatus).toBeNull();
    expect(error.callId).toBe('c_9');
    expect(JSON.stringify({ message: error.message, cause: String(error.cause) })).not.toContain(TOKEN);
    expect(lines.join('')).not.toContain(TOKEN);
  });
});
