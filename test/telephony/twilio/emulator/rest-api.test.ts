import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { twilioClientFor } from '../../../../src/telephony/twilio/emulator/index.ts';
import { connectTwiml, startTwilioRig, type TwilioRig } from './helpers.ts';

let rig: TwilioRig;
beforeEach(async () => {
  rig = await startTwilioRig();
});
afterEach(async () => {
  await rig.close();
});

async function restError(promise: Promise<unknown>): Promise<{ status: number; code: number; message: string; moreInfo: string }> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(twilio.RestException);
    return error as { status: number; code: number; message: string; moreInfo: string };
  }
  throw new Error('expected the request to fail');
}

describe('Twilio emulator REST API (official SDK)', () => {
  it('creates a call: 201 + Call JSON with a 34-character SID and RFC 2822 dates', async () => {
    const call = await rig.client.calls.create({ to: '+15550100005', from: '+15550009999', twiml: connectTwiml(rig.agent) });
    expect(call.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(call.accountSid).toBe(rig.emulator.accountSid);
    expect(call.status).toBe('queued');
    expect(call.direction).toBe('outbound-api');
    expect(call.to).toBe('+15550100005');
    expect(call.toFormatted).toBe('(555) 010-0005');
    expect(call.dateCreated).toBeInstanceOf(Date);
    expect(Math.abs(call.dateCreated.getTime() - Date.now())).toBeLessThan(2000);
    expect(call.uri).toBe(`/2010-04-01/Accounts/${rig.emulator.accountSid}/Calls/${call.sid}.json`);
    expect(rig.emulator.calls.get(call.sid)?.record.personaId).toBe('silent');
  });

  it('sends the raw wire format: form body, Basic auth, 201 status and JSON body', async () => {
    const body = new URLSearchParams([
      ['To', '+15550100005'],
      ['From', '+15550009999'],
      ['Twiml', '<Response><Hangup/></Response>'],
    ]);
    const res = await fetch(`${rig.emulator.url}/2010-04-01/Accounts/${rig.emulator.accountSid}/Calls.json`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${rig.emulator.accountSid}:${rig.emulator.authToken}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body,
    });
    expect(res.status).toBe(201);
    const json = (await res.json()) as Record<string, unknown>;
    expect(json.date_created).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    expect(json.duration).toBeNull();
  });

  it('fetches and lists calls, and the status moves on as the call progresses', async () => {
    const created = await rig.client.calls.create({
      to: '+15550100005',
      from: '+15550009999',
      twiml: '<Response><Pause length="5"/></Response>',
    });
    await rig.emulator.waitForCall(created.sid, 'in-progress');
    const fetched = await rig.client.calls(created.sid).fetch();
    expect(fetched.status).toBe('in-progress');
    expect(fetched.startTime).toBeInstanceOf(Date);
    const listed = await rig.client.calls.list({ limit: 10 });
    expect(listed.map((c) => c.sid)).toContain(created.sid);
  });

  it('rejects wrong credentials with 401 and code 20003', async () => {
    const wrong = twilioClientFor({ ...rig.emulator, authToken: 'not-the-token' });
    const error = await restError(wrong.calls.create({ to: '+15550100001', from: '+15550009999', twiml: '<Response/>' }));
    expect(error.status).toBe(401);
    expect(error.code).toBe(20003);
    expect(error.moreInfo).toBe('https://www.twilio.com/docs/errors/20003');
    expect(rig.emulator.calls.size).toBe(0);
  });

  it('reports validation errors with Twilio codes', async () => {
    const bad = (params: Record<string, string>) => rig.client.calls.create({ to: '+15550100001', from: '+15550009999', ...params });
    expect((await restError(bad({ to: 'not-a-number', twiml: '<Response/>' }))).code).toBe(21211);
    expect((await restError(bad({ from: 'x', twiml: '<Response/>' }))).code).toBe(21212);
    expect((await restError(bad({}))).code).toBe(21205);
    const invalidUrl = await restError(bad({ url: 'ftp://example.com/x' }));
    expect(invalidUrl.code).toBe(21205);
    expect(invalidUrl.status).toBe(400);
    // The SDK checks To itself, so send the request without it by hand.
    const res = await fetch(`${rig.emulator.url}/2010-04-01/Accounts/${rig.emulator.accountSid}/Calls.json`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${rig.emulator.accountSid}:${rig.emulator.authToken}`).toString('base64')}` },
      body: new URLSearchParams({ From: '+15550009999', Url: 'http://x.example/' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      code: 21201,
      message: "No 'To' number is specified",
      more_info: 'https://www.twilio.com/docs/errors/21201',
      status: 400,
    });
  });

  it('returns 404 / 20404 for an unknown call', async () => {
    const error = await restError(rig.client.calls('CA00000000000000000000000000000000').update({ status: 'completed' }));
    expect(error.status).toBe(404);
    expect(error.code).toBe(20404);
  });

  it('hangs up an in-progress call on Status=completed and cancels a ringing one on Status=canceled', async () => {
    const live = await rig.client.calls.create({
      to: '+15550100005',
      from: '+15550009999',
      twiml: '<Response><Pause length="10"/></Response>',
    });
    await rig.emulator.waitForCall(live.sid, 'in-progress');
    const updated = await rig.client.calls(live.sid).update({ status: 'completed' });
    expect(updated.status).toBe('completed');
    expect(rig.emulator.calls.get(live.sid)?.record.endReason).toBe('api-hangup');

    const ringing = await rig.client.calls.create({ to: '+15550100004', from: '+15550009999', twiml: '<Response/>' });
    await rig.emulator.waitForCall(ringing.sid, 'ringing');
    expect((await rig.client.calls(ringing.sid).update({ status: 'canceled' })).status).toBe('canceled');
  });

  it('refuses to redirect a call that has ended (21220)', async () => {
    const call = await rig.client.calls.create({ to: '+15550100003', from: '+15550009999', twiml: '<Response/>' });
    await rig.emulator.waitForCall(call.sid, 'busy');
    const error = await restError(rig.client.calls(call.sid).update({ twiml: '<Response><Hangup/></Response>' }));
    expect(error.code).toBe(21220);
  });
});
