import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../../sandbox/carriers/fake-agent-server.ts';
import { connectTwiml, startTwilioRig, type TwilioRig } from './helpers.ts';

let rig: TwilioRig;
beforeEach(async () => {
  rig = await startTwilioRig();
});
afterEach(async () => {
  await rig.close();
});

function expectSigned(request: RecordedRequest, authToken: string): void {
  const signature = request.headers['x-twilio-signature'];
  expect(typeof signature).toBe('string');
  expect(twilio.validateRequest(authToken, signature as string, request.url, request.form)).toBe(true);
}

const ALL_EVENTS = ['initiated', 'ringing', 'answered', 'completed'];

describe('Twilio emulator call lifecycle', () => {
  it('answers, fetches signed TwiML, and sends signed status callbacks for every requested event', async () => {
    const { agent, emulator, client } = rig;
    agent.respond('/twiml', () => ({ body: '<Response><Pause length="1"/></Response>' }));
    const call = await client.calls.create({
      to: '+15550100005',
      from: '+15550009999',
      url: `${agent.url}/twiml?tenant=t1`,
      statusCallback: `${agent.url}/status`,
      statusCallbackEvent: ALL_EVENTS,
    });
    await emulator.waitForCall(call.sid, 'completed', 10_000);
    await emulator.calls.get(call.sid)?.callbacksSettled();

    const voice = agent.requests.find((r) => r.path === '/twiml') as RecordedRequest;
    expect(voice.method).toBe('POST');
    expect(voice.url).toContain('?tenant=t1');
    expect(voice.form).toMatchObject({
      CallSid: call.sid,
      AccountSid: emulator.accountSid,
      From: '+15550009999',
      To: '+15550100005',
      CallStatus: 'in-progress',
      Direction: 'outbound-api',
      ApiVersion: '2010-04-01',
    });
    expectSigned(voice, emulator.authToken);

    const statuses = agent.requests.filter((r) => r.path === '/status');
    expect(statuses.map((r) => r.form.CallStatus)).toEqual(['initiated', 'ringing', 'in-progress', 'completed']);
    expect(statuses.map((r) => r.form.SequenceNumber)).toEqual(['0', '1', '2', '3']);
    for (const r of statuses) {
      expectSigned(r, emulator.authToken);
      expect(r.form.CallSid).toBe(call.sid);
      expect(r.form.Direction).toBe('outbound-api');
      expect(r.form.CallbackSource).toBe('call-progress-events');
      expect(Number.isNaN(Date.parse(r.form.Timestamp as string))).toBe(false);
    }
    const completed = statuses[3] as RecordedRequest;
    expect(Number(completed.form.CallDuration)).toBeGreaterThanOrEqual(1);
    expect(completed.form.Duration).toBe('1');

    const record = emulator.calls.get(call.sid)?.record;
    expect(record?.transitions.map((t) => t.status)).toEqual(['queued', 'ringing', 'in-progress', 'completed']);
    expect(record?.endReason).toBe('markup-ended');
    expect(record?.callbacks.filter((c) => c.kind.startsWith('status:')).map((c) => c.status)).toEqual([200, 200, 200, 200]);
    expect(record?.markup[0]?.body).toContain('<Pause');
  });

  it('sends only the completed callback by default and records the HTTP status it got', async () => {
    const { agent, emulator, client } = rig;
    agent.respond('/status', () => ({ status: 500 }));
    const call = await client.calls.create({
      to: '+15550100005',
      from: '+15550009999',
      twiml: '<Response><Hangup/></Response>',
      statusCallback: `${agent.url}/status`,
    });
    await emulator.waitForCall(call.sid, 'completed');
    await emulator.calls.get(call.sid)?.callbacksSettled();
    const statuses = agent.requests.filter((r) => r.path === '/status');
    expect(statuses.map((r) => r.form.CallStatus)).toEqual(['completed']);
    expect(emulator.calls.get(call.sid)?.record.callbacks.map((c) => [c.kind, c.status])).toEqual([['status:completed', 500]]);
  });

  it.each([
    ['+15550100003', 'busy', 'callee-busy'],
    ['+15550100004', 'no-answer', 'callee-no-answer'],
  ])('%s ends as %s without fetching TwiML', async (to, status, reason) => {
    const { agent, emulator, client } = rig;
    const call = await client.calls.create({
      to,
      from: '+15550009999',
      url: `${agent.url}/twiml`,
      statusCallback: `${agent.url}/status`,
      statusCallbackEvent: ALL_EVENTS,
      timeout: 30, // ×0.02 time scale → 600 ms of ringing
    });
    await emulator.waitForCall(call.sid, status, 5000);
    await emulator.calls.get(call.sid)?.callbacksSettled();
    expect(agent.requests.some((r) => r.path === '/twiml')).toBe(false);
    expect(agent.requests.filter((r) => r.path === '/status').map((r) => r.form.CallStatus)).toEqual(['initiated', 'ringing', status]);
    const record = emulator.calls.get(call.sid)?.record;
    expect(record?.endReason).toBe(reason);
    expect(record?.answeredAt).toBeNull();
    expect((await client.calls(call.sid).fetch()).duration).toBe('0');
  });

  it('rings for the Timeout the request asked for before giving up', async () => {
    const { emulator, client } = rig;
    const started = performance.now();
    const call = await client.calls.create({ to: '+15550100004', from: '+15550009999', twiml: '<Response/>', timeout: 10 });
    await emulator.waitForCall(call.sid, 'no-answer', 5000);
    // 10 s × 0.02 = 200 ms of ringing (+ call set-up)
    expect(performance.now() - started).toBeGreaterThan(190);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('falls back to FallbackUrl when the voice URL fails, and records error 11200', async () => {
    const { agent, emulator, client } = rig;
    agent.respond('/broken', () => ({ status: 503 }));
    agent.respond('/fallback', () => ({ body: '<Response><Hangup/></Response>' }));
    const call = await client.calls.create({
      to: '+15550100005',
      from: '+15550009999',
      url: `${agent.url}/broken`,
      fallbackUrl: `${agent.url}/fallback`,
    });
    await emulator.waitForCall(call.sid, 'completed');
    const record = emulator.calls.get(call.sid)?.record;
    expect(record?.protocolErrors.map((e) => e.code)).toEqual([11200]);
    expect(record?.endReason).toBe('markup-hangup');
    const fallback = agent.requests.find((r) => r.path === '/fallback') as RecordedRequest;
    expect(fallback.form.ErrorCode).toBe('11200');
    expectSigned(fallback, emulator.authToken);
  });

  it('records a TwiML parse failure (12100) and ends the call', async () => {
    const { agent, emulator, client } = rig;
    agent.respond('/twiml', () => ({ body: '<Response><Connect>' }));
    const call = await client.calls.create({ to: '+15550100005', from: '+15550009999', url: `${agent.url}/twiml` });
    await emulator.waitForCall(call.sid, 'completed');
    const record = emulator.calls.get(call.sid)?.record;
    expect(record?.protocolErrors[0]?.code).toBe(12100);
    expect(record?.markup[0]?.error).toMatch(/parse/i);
  });

  it('places an inbound call: signed voice request, then the TwiML runs until our server closes the stream', async () => {
    const { agent, emulator } = rig;
    agent.respond('/voice', () => ({ body: connectTwiml(agent) }));
    const call = emulator.placeInboundCall({
      from: '+15550100005',
      to: '+15550001111',
      voiceUrl: `${agent.url}/voice`,
      statusCallback: `${agent.url}/status`,
    });
    const voice = await agent.nextRequest((r) => r.path === '/voice');
    expect(voice.form).toMatchObject({
      CallSid: call.id,
      CallStatus: 'ringing',
      Direction: 'inbound',
      From: '+15550100005',
      To: '+15550001111',
    });
    expectSigned(voice, emulator.authToken);
    const conn = await agent.nextConnection();
    await conn.next((m) => m.event === 'start');
    expect(call.status).toBe('in-progress');
    conn.ws.close();
    await call.waitForEnd(5000);
    expect(call.status).toBe('completed');
    expect(call.record.endReason).toBe('markup-ended');
    expect(call.record.streams[0]?.closedBy).toBe('server');
    await call.callbacksSettled();
    expect(agent.requests.filter((r) => r.path === '/status').map((r) => r.form.Direction)).toEqual(['inbound']);
  });

  it('redirects a live call to new TwiML: the stream gets stop and the new TwiML runs', async () => {
    const { agent, emulator, client } = rig;
    const call = await client.calls.create({ to: '+15550100005', from: '+15550009999', twiml: connectTwiml(agent) });
    const conn = await agent.nextConnection();
    await conn.next((m) => m.event === 'start');
    await client.calls(call.sid).update({ twiml: '<Response><Pause length="1"/><Hangup/></Response>' });
    const stop = await conn.next((m) => m.event === 'stop');
    expect(stop.streamSid).toBe(emulator.calls.get(call.sid)?.record.streams[0]?.streamId);
    expect(await conn.closed).toBe(1000);
    expect(emulator.calls.get(call.sid)?.status).toBe('in-progress');
    await emulator.waitForCall(call.sid, 'completed', 5000);
    expect(emulator.calls.get(call.sid)?.record.endReason).toBe('markup-hangup');
  });
});
