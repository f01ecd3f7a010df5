import plivo from 'plivo';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../../sandbox/carriers/fake-agent-server.ts';
import { PlivoCallClient } from '../../../../src/telephony/plivo/call-client.ts';
import { startPlivoRig, streamXml, type PlivoRig } from './helpers.ts';

let rig: PlivoRig;
beforeEach(async () => {
  rig = await startPlivoRig();
});
afterEach(async () => {
  await rig.close();
});

function expectSigned(request: RecordedRequest, authToken: string): void {
  const signature = request.headers['x-plivo-signature-v3'] as string;
  const nonce = request.headers['x-plivo-signature-v3-nonce'] as string;
  expect(plivo.validateV3Signature(request.method, request.url, nonce, authToken, signature, request.form)).toBe(true);
  expect(request.headers['x-plivo-signature-ma-v3']).toBe(signature);
}

async function rawCreate(body: unknown, auth = `${rig.emulator.authId}:${rig.emulator.authToken}`): Promise<Response> {
  return fetch(`${rig.emulator.url}/v1/Account/${rig.emulator.authId}/Call/`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(auth).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('Plivo emulator REST API and call lifecycle (official SDK)', () => {
  it('creates a call: 201 {api_id, message: "call fired", request_uuid}', async () => {
    const res = await rawCreate({ from: '15550009999', to: '15550100005', answer_url: `${rig.agent.url}/answer` });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['api_id', 'message', 'request_uuid']);
    expect(body.message).toBe('call fired');
    expect(body.request_uuid).toMatch(/^[0-9a-f-]{36}$/);
    const call = await rig.emulator.waitForRequest(body.request_uuid as string);
    expect(call.id).not.toBe(body.request_uuid);
  });

  it('rejects bad credentials (401) and bad input with Plivo error bodies', async () => {
    const unauthorized = await rawCreate({ from: '1', to: '2', answer_url: 'http://x/' }, `${rig.emulator.authId}:wrong`);
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toMatchObject({ api_id: expect.any(String), error: expect.stringMatching(/auth/i) });
    const missing = await rawCreate({ from: '15550009999', to: '15550100001' });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toMatch(/answer_url/);
    const badNumber = await rawCreate({ from: '15550009999', to: 'abc', answer_url: `${rig.agent.url}/a` });
    expect(badNumber.status).toBe(400);
    const wrong = new plivo.Client(rig.emulator.authId, 'wrong-token');
    await expect(wrong.calls.create('15550009999', '15550100001', `${rig.agent.url}/answer`)).rejects.toThrow(/auth/i);
    expect(rig.emulator.calls.size).toBe(0);
  });

  it('rings, answers, fetches signed answer XML, and sends a signed hangup callback with causes and times', async () => {
    const { agent, emulator, client } = rig;
    agent.respond('/answer', () => ({ body: '<Response><Wait length="1"/></Response>' }));
    const { requestUuid } = await client.calls.create('15550009999', '15550100005', `${agent.url}/answer?tenant=t1`, {
      ringUrl: `${agent.url}/ring`,
      hangupUrl: `${agent.url}/hangup`,
    });
    const call = await emulator.waitForRequest(requestUuid);
    await emulator.waitForCall(call.id, 'completed', 5000);
    await call.callbacksSettled();

    const ring = agent.requests.find((r) => r.path === '/ring') as RecordedRequest;
    expect(ring.form).toMatchObject({
      CallUUID: call.id,
      RequestUUID: requestUuid,
      CallStatus: 'ringing',
      Direction: 'outbound',
      Event: 'Ring',
    });
    expectSigned(ring, emulator.authToken);

    const answer = agent.requests.find((r) => r.path === '/answer') as RecordedRequest;
    expect(answer.url).toContain('?tenant=t1');
    expect(answer.form).toMatchObject({
      CallUUID: call.id,
      RequestUUID: requestUuid,
      From: '15550009999',
      To: '15550100005',
      Direction: 'outbound',
      CallStatus: 'in-progress',
    });
    expectSigned(answer, emulator.authToken);

    const hangup = agent.requests.find((r) => r.path === '/hangup') as RecordedRequest;
    expectSigned(hangup, emulator.authToken);
    expect(hangup.form).toMatchObject({
      CallUUID: call.id,
      CallStatus: 'completed',
      Event: 'Hangup',
      HangupCauseName: 'End Of XML Instructions',
      HangupCauseCode: '4010',
      HangupSource: 'Plivo',
      Duration: '1',
      BillDuration: '60',
    });
    for (const key of ['StartTime', 'AnswerTime', 'EndTime']) expect(hangup.form[key]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);

    const cdr = await client.calls.get(call.id);
    expect(cdr.callUuid).toBe(call.id);
    expect(cdr.hangupCauseName).toBe('End Of XML Instructions');
    expect(cdr.callDuration).toBe(1);
  });

  it.each([
    ['15550100003', 'busy', 'Busy Line'],
    ['15550100004', 'no-answer', 'No Answer'],
  ])('%s ends as %s with hangup cause %s, without requesting the answer URL', async (to, status, causeName) => {
    const { agent, emulator, client } = rig;
    const { requestUuid } = await client.calls.create('15550009999', to, `${agent.url}/answer`, {
      hangupUrl: `${agent.url}/hangup`,
      ringTimeout: 20,
    });
    await emulator.waitForCall(requestUuid, status, 5000);
    const call = await emulator.waitForRequest(requestUuid);
    await call.callbacksSettled();
    expect(agent.requests.some((r) => r.path === '/answer')).toBe(false);
    const hangup = agent.requests.find((r) => r.path === '/hangup') as RecordedRequest;
    expect(hangup.form).toMatchObject({ CallStatus: status, HangupCauseName: causeName, Duration: '0', BillDuration: '0', AnswerTime: '' });
    // The call record carries the cause, not a state field Plivo does not document; our client reads the outcome from it.
    const cdr = (await (
      await fetch(`${emulator.url}/v1/Account/${emulator.authId}/Call/${call.id}/`, {
        headers: { authorization: `Basic ${Buffer.from(`${emulator.authId}:${emulator.authToken}`).toString('base64')}` },
      })
    ).json()) as Record<string, unknown>;
    expect(cdr).not.toHaveProperty('call_state');
    expect(cdr).toMatchObject({ hangup_cause_name: causeName, answer_time: null });
    const ours = new PlivoCallClient({ authId: emulator.authId, authToken: emulator.authToken, baseUrl: emulator.url });
    expect(await ours.getCall({ callId: 'c_1', carrierCallId: call.id })).toMatchObject({ status, carrierStatus: causeName });
  });

  it('hangs up with DELETE Call/{uuid}/ (204), then 404 once the call is gone; live details while it runs', async () => {
    const { agent, emulator, client } = rig;
    agent.respond('/answer', () => ({ body: '<Response><Wait length="10"/></Response>' }));
    const { requestUuid } = await client.calls.create('15550009999', '15550100005', `${agent.url}/answer`, {
      hangupUrl: `${agent.url}/hangup`,
    });
    const call = await emulator.waitForRequest(requestUuid);
    await call.waitForStatus('in-progress');
    const live = await client.calls.getLiveCall(call.id);
    expect(live.callStatus).toBe('in-progress');
    expect(live.requestUuid).toBe(requestUuid);
    const del = await fetch(`${emulator.url}/v1/Account/${emulator.authId}/Call/${call.id}/`, {
      method: 'DELETE',
      headers: { authorization: `Basic ${Buffer.from(`${emulator.authId}:${emulator.authToken}`).toString('base64')}` },
    });
    expect(del.status).toBe(204);
    expect(await del.text()).toBe('');
    expect(call.status).toBe('completed');
    await expect(client.calls.hangup(call.id)).rejects.toThrow(/not found/);
    await call.callbacksSettled();
    expect(agent.requests.find((r) => r.path === '/hangup')?.form).toMatchObject({
      HangupSource: 'API Request',
      HangupCauseName: 'Normal Hangup',
    });
  });

  it('cancels a ringing call with DELETE Request/{request_uuid}/', async () => {
    const { agent, emulator, client } = rig;
    const { requestUuid } = await client.calls.create('15550009999', '15550100004', `${agent.url}/answer`, {
      hangupUrl: `${agent.url}/hangup`,
    });
    await emulator.waitForCall(requestUuid, 'ringing');
    await client.calls.cancel(requestUuid as string);
    const call = await emulator.waitForRequest(requestUuid);
    expect(call.status).toBe('cancel');
    await call.callbacksSettled();
    expect(agent.requests.find((r) => r.path === '/hangup')?.form).toMatchObject({
      CallStatus: 'cancel',
      HangupCauseName: 'Canceled',
      HangupCauseCode: '1000',
    });
  });

  it('without keepCallAlive the XML moves on and the call ends when it runs out, as on Plivo', async () => {
    const { agent, emulator, client } = rig;
    agent.respond('/answer', () => ({ body: streamXml(agent, 'bidirectional="true" contentType="audio/x-mulaw;rate=8000"') }));
    const { requestUuid } = await client.calls.create('15550009999', '15550100005', `${agent.url}/answer`);
    const conn = await agent.nextConnection();
    await emulator.waitForCall(requestUuid, 'completed', 3000);
    expect(await conn.closed).toBe(1000);
    expect((await emulator.waitForRequest(requestUuid)).record.endReason).toBe('markup-ended');
  });

  it('ends the call with "Invalid Answer XML" when the XML is bad', async () => {
    const { agent, emulator, client } = rig;
    agent.respond('/answer', () => ({ body: '<Response><Stream bidirectional="true" audioTrack="both">wss://x/ws</Stream></Response>' }));
    const { requestUuid } = await client.calls.create('15550009999', '15550100005', `${agent.url}/answer`, {
      hangupUrl: `${agent.url}/hangup`,
    });
    await emulator.waitForCall(requestUuid, 'completed', 3000);
    const call = await emulator.waitForRequest(requestUuid);
    expect(call.record.markup[0]?.error).toMatch(/bidirectional/);
    await call.callbacksSettled();
    expect(agent.requests.find((r) => r.path === '/hangup')?.form.HangupCauseName).toBe('Invalid Answer XML');
  });

  it('places an inbound call: our answer URL is requested and its XML runs', async () => {
    const { agent, emulator } = rig;
    agent.respond('/answer', () => ({ body: '<Response><Hangup/></Response>' }));
    const call = emulator.placeInboundCall({
      from: '+15550100005',
      to: '+15550001111',
      answerUrl: `${agent.url}/answer`,
      hangupUrl: `${agent.url}/hangup`,
    });
    await call.waitForEnd(3000);
    await call.callbacksSettled();
    const answer = agent.requests.find((r) => r.path === '/answer') as RecordedRequest;
    expect(answer.form).toMatchObject({ Direction: 'inbound', From: '15550100005', To: '15550001111', CallUUID: call.id });
    expectSigned(answer, emulator.authToken);
    expect(agent.requests.find((r) => r.path === '/hangup')?.form).toMatchObject({ HangupSource: 'Answer XML', CallStatus: 'completed' });
  });
});
