import { afterEach, describe, expect, it } from 'vitest';
import { CarrierError } from '../../../src/telephony/carrier-error.ts';
import { ManualClock } from '../../../src/util/clock.ts';
import { PlivoCallClient } from '../../../src/telephony/plivo/call-client.ts';
import { basicAuth, startRecordingServer, type RecordingServer } from '../recording-server.ts';

const AUTH_ID = 'MAXXXXXXXXXXXXXXXXXX';
const TOKEN = 'plivo-secret-token';
const CALL_UUID = '12345678-1234-1234-1234-123456789abc';
const REQUEST_UUID = '9834029e-58b6-11e1-b8b7-a5bd0e4e126f';

let server: RecordingServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('PlivoCallClient', () => {
  it('places a call with the exact Plivo wire format', async () => {
    server = await startRecordingServer(() => ({
      status: 201,
      body: { api_id: '97ceeb52-58b6-11e1-86da-77300b68f8bb', message: 'call fired', request_uuid: REQUEST_UUID },
    }));
    const client = new PlivoCallClient({ authId: AUTH_ID, authToken: TOKEN, baseUrl: server.baseUrl });
    const placed = await client.placeCall({
      callId: 'c_1',
      to: '+14151230000',
      from: '+14157650000',
      answerUrl: 'https://agent.example.com/plivo/answer',
      statusCallbackUrl: 'https://agent.example.com/plivo/status',
      ringTimeoutSec: 30,
    });
    expect(placed).toEqual({ carrier: 'plivo', carrierCallId: null, requestId: REQUEST_UUID, status: 'queued' });
    const request = server.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe(`/v1/Account/${AUTH_ID}/Call/`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(basicAuth(request.headers.authorization)).toEqual({ user: AUTH_ID, password: TOKEN });
    expect(JSON.parse(request.body)).toEqual({
      from: '14157650000',
      to: '14151230000',
      answer_url: 'https://agent.example.com/plivo/answer',
      answer_method: 'POST',
      hangup_url: 'https://agent.example.com/plivo/status',
      hangup_method: 'POST',
      ring_url: 'https://agent.example.com/plivo/status',
      ring_method: 'POST',
      ring_timeout: 30,
    });
    // ring_timeout is a JSON number, and the SDK's routing marker never reaches the wire.
    expect(request.body).toContain('"ring_timeout":30');
    expect(request.body).not.toContain('voice_request');
  });

  it('keeps SIP destinations as they are', async () => {
    server = await startRecordingServer(() => ({ status: 201, body: { api_id: 'a', message: 'call fired', request_uuid: REQUEST_UUID } }));
    const client = new PlivoCallClient({ authId: AUTH_ID, authToken: TOKEN, baseUrl: `${server.baseUrl}/plivo` });
    await client.placeCall({ callId: 'c_2', to: 'sip:agent1@phone.plivo.com', from: '14157650000', answerUrl: 'https://a.example/answer' });
    const request = server.requests[0]!;
    expect(request.url).toBe(`/plivo/v1/Account/${AUTH_ID}/Call/`);
    expect(JSON.parse(request.body)).toMatchObject({ to: 'sip:agent1@phone.plivo.com', from: '14157650000' });
    expect(JSON.parse(request.body)).not.toHaveProperty('hangup_url');
    expect(JSON.parse(request.body)).not.toHaveProperty('ring_timeout');
  });

  it("surfaces Plivo's error with our call id", async () => {
    server = await startRecordingServer(() => ({ status: 400, body: { api_id: 'x', error: 'invalid to number format' } }));
    const client = new PlivoCallClient({ authId: AUTH_ID, authToken: TOKEN, baseUrl: server.baseUrl });
    const error = (await client
      .placeCall({ callId: 'c_bad', to: '12', from: '14157650000', answerUrl: 'https://a.example/answer' })
      .catch((e: unknown) => e)) as CarrierError;
    expect(error).toBeInstanceOf(CarrierError);
    expect(error.carrier).toBe('plivo');
    expect(error.callId).toBe('c_bad');
    expect(error.httpStatus).toBe(400);
    expect(error.carrierCode).toBe('invalid to number format');
    expect(error.message).toContain('c_bad');
  });

  it('needs an answer URL (Plivo has no inline markup)', async () => {
    server = await startRecordingServer(() => ({ status: 201, body: {} }));
    const client = new PlivoCallClient({ authId: AUTH_ID, authToken: TOKEN, baseUrl: server.baseUrl });
    await expect(client.placeCall({ callId: 'c_3', to: '1', from: '2', answerMarkup: '<Response/>' })).rejects.toBeInstanceOf(CarrierError);
    expect(server.requests).toHaveLength(0);
  });

  it('hangs up with DELETE Call/{uuid}/', async () => {
    server = await startRecordingServer(() => ({ status: 204 }));
    const client = new PlivoCallClient({ authId: AUTH_ID, authToken: TOKEN, baseUrl: server.baseUrl });
    await client.hangUp({ callId: 'c_4', carrierCallId: CALL_UUID });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: 'DELETE', url: `/v1/Account/${AUTH_ID}/Call/${CALL_UUID}/`, body: '' });
    expect(basicAuth(server.requests[0]!.headers.authorization)).toEqual({ user: AUTH_ID, password: TOKEN });
  });

  it('cancels by request uuid when the call uuid is not known yet', async () => {
    server = await startRecordingServer(() => ({ status: 204 }));
    const client = new PlivoCallClient({ authId: AUTH_ID, authToken: TOKEN, baseUrl: server.baseUrl });
    await client.hangUp({ callId: 'c_5', carrierCallId: null, requestId: REQUEST_UUID });
    expect(server.requests[0]).toMatchObject({ method: 'DELETE', url: `/v1/Account/${AUTH_ID}/Request/${REQUEST_UUID}/` });
  });

  it('treats 404 (already ended) as hung up, but not other failures', async () => {
    server = await startRecordingServer(() => ({ status: 404, body: { api_id: 'x', error: 'not found' } }));
    const client = new PlivoCallClient({ authId: AUTH_ID, authToken: TOKEN, baseUrl: server.baseUrl });
    await expect(client.hangUp({ callId: 'c_6', carrierCallId: CALL_UUID })).resolves.toBeUndefined();

    server.respond = () => ({ status: 401, body: { api_id: 'x', error: 'authentication failed' } });
    const error = (await client.hangUp({ callId: 'c_6', carrierCallId: CALL_UUID }).catch((e: unknown) => e)) as CarrierError;
    expect(error).toBeInstanceOf(CarrierError);
    expect(error.httpStatus).toBe(401);
    expect(error.carrierCode).toBe('authentication failed');
  });

  it('reads a live call, then falls back to the call record once it is over', async () => {
    server = await startRecordingServer((request) =>
      request.url.includes('status=live')
        ? {
            status: 200,
            body: {
              api_id: 'a',
              call_status: 'in-progress',
              call_uuid: CALL_UUID,
              from: '14157650000',
              to: '14151230000',
              direction: 'outbound',
            },
          }
        : { status: 404, body: { api_id: 'a', error: 'not found' } },
    );
    const client = new PlivoCallClient({ authId: AUTH_ID, authToken: TOKEN, baseUrl: server.baseUrl });
    const live = await client.getCall({ callId: 'c_7', carrierCallId: CALL_UUID });
    expect(server.requests[0]).toMatchObject({ method: 'GET', url: `/v1/Account/${AUTH_ID}/Call/${CALL_UUID}?status=live` });
    expect(live).toMatchObject({
      carrier: 'plivo',
      carrierCallId: CALL_UUID,
      status: 'in-progress',
      from: '14157650000',
      direction: 'outbound',
    });

    server.respond = (request) =>
      request.url.includes('status=live')
        ? { status: 404, body: { api_id: 'a', error: 'not found' } }
        : {
            status: 200,
            body: {
              api_id: 'a',
              call_uuid: CALL_UUID,
              call_duration: 42,
              hangup_cause_name: 'Normal Hangup',
              hangup_cause_code: 4000,
              from_number: '14157650000',
              to_number: '14151230000',
              call_direction: 'outbound',
              initiation_time: '2024-01-15 10:30:00',
              answer_time: '2024-01-15 10:30:05',
              end_time: '2024-01-15 10:30:47',
            },
          };
    const done = await client.getCall({ callId: 'c_7', carrierCallId: CALL_UUID });
    expect(server.requests.at(-1)).toMatchObject({ method: 'GET', url: `/v1/Account/${AUTH_ID}/Call/${CALL_UUID}/` });
    expect(done).toMatchObject({ status: 'completed', carrierStatus: 'Normal Hangup', durationSec: 42, from: '14157650000' });
    expect(done.answeredAt?.toISOString()).toBe('2024-01-15T10:30:05.000Z');
    expect(done.endedAt?.toISOString()).toBe('2024-01-15T10:30:47.000Z');
  });

  it('reports an unreachable API as a CarrierError without credentials', async () => {
    server = await startRecordingServer(() => ({ status: 204 }));
    const dead = server.baseUrl;
    await server.close();
    server = undefined;
    const client = new PlivoCallClient({ authId: AUTH_ID, authToken: TOKEN, baseUrl: dead });
    const error = (await client.hangUp({ callId: 'c_8', carrierCallId: CALL_UUID }).catch((e: unknown) => e)) as CarrierError;
    expect(error).toBeInstanceOf(CarrierError);
    expect(error.httpStatus).toBeNull();
    expect(error.message).not.toContain(TOKEN);
  });

  it('derives busy, no-answer, canceled and failed from hangup_cause_name for an unanswered call (no call_state)', async () => {
    let cause = '';
    server = await startRecordingServer((request) =>
      request.url.includes('status=live')
        ? { status: 404, body: { api_id: 'a', error: 'not found' } }
        : {
            status: 200,
            body: {
              api_id: 'a',
              call_uuid: CALL_UUID,
              call_duration: 0,
              answer_time: null,
              initiation_time: '2024-01-15 10:30:00',
              end_time: '2024-01-15 10:30:30',
              hangup_cause_name: cause,
              hangup_source: 'Call recipient',
            },
          },
    );
    const client = new PlivoCallClient({ authId: AUTH_ID, authToken: TOKEN, baseUrl: server.baseUrl });
    for (const [name, status] of [
      ['Busy Line', 'busy'],
      ['No Answer', 'no-answer'],
      ['Canceled', 'canceled'],
      ['Invalid Destination Address', 'failed'],
      ['Normal Hangup', 'failed'],
      ['', 'failed'],
    ] as const) {
      cause = name;
      const info = await client.getCall({ callId: 'c_9', carrierCallId: CALL_UUID });
      expect(info.status, name).toBe(status);
      expect(info.answeredAt).toBeNull();
    }
  });

  it('retries placement and hang-up twice on 5xx, waiting 250 ms then 1 s (clock injected)', async () => {
    const statuses = [503, 502, 201];
    server = await startRecordingServer(() => {
      const status = statuses.shift() ?? 201;
      return status === 201
        ? { status, body: { api_id: 'a', message: 'call fired', request_uuid: REQUEST_UUID } }
        : { status, body: { api_id: 'a', error: 'server error' } };
    });
    const clock = new ManualClock();
    const client = new PlivoCallClient({ authId: AUTH_ID, authToken: TOKEN, baseUrl: server.baseUrl, clock });
    const placing = client.placeCall({ callId: 'c_r', to: '+14151230000', from: '+14157650000', answerUrl: 'https://a.example/answer' });
    await until(() => server!.requests.length === 1 && clock.pendingTimers === 1);
    clock.advance(249);
    expect(server.requests).toHaveLength(1);
    clock.advance(1);
    await until(() => server!.requests.length === 2 && clock.pendingTimers === 1);
    clock.advance(999);
    expect(server.requests).toHaveLength(2);
    clock.advance(1);
    await expect(placing).resolves.toMatchObject({ requestId: REQUEST_UUID });
    expect(server.requests).toHaveLength(3);

    // Hang-up: three 500s are two retries and then the error.
    server.requests.length = 0;
    server.respond = () => ({ status: 500, body: { api_id: 'a', error: 'server error' } });
    const hangingUp = client.hangUp({ callId: 'c_r', carrierCallId: CALL_UUID }).catch((e: unknown) => e);
    await until(() => server!.requests.length === 1 && clock.pendingTimers === 1);
    clock.advance(250);
    await until(() => server!.requests.length === 2 && clock.pendingTimers === 1);
    clock.advance(1000);
    const error = (await hangingUp) as CarrierError;
    expect(error).toBeInstanceOf(CarrierError);
    expect(error.httpStatus).toBe(500);
    expect(server.requests).toHaveLength(3);
    expect(server.requests.every((r) => r.method === 'DELETE')).toBe(true);
  });

  it('does not retry a 4xx', async () => {
    server = await startRecordingServer(() => ({ status: 400, body: { api_id: 'x', error: 'invalid to number format' } }));
    const client = new PlivoCallClient({ authId: AUTH_ID, authToken: TOKEN, baseUrl: server.baseUrl, clock: new ManualClock() });
    await expect(client.placeCall({ callId: 'c_4xx', to: '12', from: '1', answerUrl: 'https://a.example/answer' })).rejects.toBeInstanceOf(
      CarrierError,
    );
    expect(server.requests).toHaveLength(1);
  });

  it('retries a hang-up whose connection was refused, then reports it', async () => {
    server = await startRecordingServer(() => ({ status: 204 }));
    const dead = server.baseUrl;
    await server.close();
    server = undefined;
    const clock = new ManualClock();
    const client = new PlivoCallClient({ authId: AUTH_ID, authToken: TOKEN, baseUrl: dead, clock });
    let settled = false;
    const hangingUp = client.hangUp({ callId: 'c_net', carrierCallId: CALL_UUID }).finally(() => (settled = true));
    hangingUp.catch(() => undefined);
    await until(() => clock.pendingTimers === 1);
    clock.advance(250);
    await until(() => clock.pendingTimers === 1);
    expect(settled).toBe(false);
    clock.advance(1000);
    await expect(hangingUp).rejects.toMatchObject({ httpStatus: null });
  });
});

/** Polls (real time, short) until `condition` holds: the HTTP exchange itself is real. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error('condition not reached');
}
