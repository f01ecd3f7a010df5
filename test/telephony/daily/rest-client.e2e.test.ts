/**
 * The Daily REST client against the Daily emulator: Daily's shapes and errors, dial-out start/sendDTMF/stop on a
 * persona, webhooks with their test request, 404 on delete counted as success.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDailyEmulator, type DailyEmulator } from '../../../src/telephony/daily/emulator/index.ts';
import { DailyApiError, DailyRestClient, roomSipEndpoints } from '../../../src/telephony/daily/rest-client.ts';
import { verifyDailyWebhook } from '../../../src/telephony/daily/webhook-signature.ts';

let emu: DailyEmulator;
let client: DailyRestClient;
let hooks: Server;
let hookUrl: string;
const received: Array<{ type: string; ok: boolean }> = [];
const hmac = Buffer.alloc(32, 9).toString('base64');

beforeAll(async () => {
  emu = await startDailyEmulator({ timeScale: 0.05 });
  client = new DailyRestClient({ apiKey: emu.apiKey, apiUrl: emu.url });
  hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const verified = verifyDailyWebhook({
        secret: hmac,
        timestamp: req.headers['x-webhook-timestamp'],
        signature: req.headers['x-webhook-signature'],
        rawBody: body,
        nowMs: Date.now(),
        maxAgeSec: 300,
        names: { timestamp: 'X-Webhook-Timestamp', signature: 'X-Webhook-Signature' },
      });
      const parsed = JSON.parse(body) as { type?: string };
      received.push({ type: parsed.type ?? 'test', ok: verified.ok });
      res.writeHead(verified.ok ? 200 : 403).end();
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/events`;
});

afterAll(async () => {
  await emu?.close();
  await new Promise<void>((resolve) => (hooks ? hooks.close(() => resolve()) : resolve()));
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('Daily REST client ↔ emulator', () => {
  it("answers errors in Daily's shape", async () => {
    const wrongKey = new DailyRestClient({ apiKey: 'nope', apiUrl: emu.url });
    await expect(wrongKey.getRoom('x')).rejects.toMatchObject({ httpStatus: 401, providerCode: 'authentication-error' });
    await expect(client.getRoom('missing')).rejects.toMatchObject({ httpStatus: 404, providerCode: 'not-found' });
    await expect(client.deleteRoom('missing')).resolves.toBeUndefined(); // 404 on delete = already gone
    await expect(client.createRoom({ properties: { sip: { sip_mode: 'dial-in' } } })).rejects.toBeInstanceOf(DailyApiError); // sip needs exp
  });

  it('creates SIP rooms with endpoints, owner tokens, and refuses dial-out where it is not enabled', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const room = await client.createRoom({ name: 'r-sip', properties: { exp, sip: { sip_mode: 'dial-in', num_endpoints: 2 } } });
    expect(room.name).toBe('r-sip');
    expect(roomSipEndpoints(room)).toHaveLength(2);
    expect((await client.getRoom('r-sip')).config.sip_uri?.endpoint).toBe(roomSipEndpoints(room)[0]);
    expect(await client.createMeetingToken({ room_name: 'r-sip', is_owner: true, exp })).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    await expect(client.startDialOut('r-sip', { phoneNumber: '+15550100001' })).rejects.toMatchObject({ httpStatus: 400 });
    await client.deleteRoom('r-sip');
    await expect(client.getRoom('r-sip')).rejects.toMatchObject({ httpStatus: 404 });
  });

  it('dials a persona, sends DTMF, stops the dial-out; signed dialout.* webhooks report it', async () => {
    await client.createWebhook({ url: hookUrl, hmac });
    expect(received[0]).toEqual({ type: 'test', ok: true });
    await client.createRoom({ name: 'r-out', properties: { enable_dialout: true } });
    const { sessionId } = await client.startDialOut('r-out', { phoneNumber: '+15550100001' });
    await until(() => received.some((r) => r.type === 'dialout.answered'));
    await client.sendDtmf('r-out', sessionId, '12#');
    expect(emu.rooms.get('r-out')?.dtmfSent).toEqual([{ sessionId, tones: '12#' }]);
    await client.stopDialOut('r-out', sessionId);
    await until(() => received.some((r) => r.type === 'dialout.stopped'));
    await expect(client.stopDialOut('r-out', sessionId)).rejects.toMatchObject({ httpStatus: 404 });
    expect(received.every((r) => r.ok)).toBe(true);
    await client.deleteRoom('r-out');
  });

  it('pinlessCallUpdate needs a held call and a room with that SIP endpoint', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const room = await client.createRoom({ name: 'r-in', properties: { exp, sip: { sip_mode: 'dial-in' } } });
    await expect(
      client.pinlessCallUpdate({ callId: 'nope', callDomain: emu.domainId, sipUri: roomSipEndpoints(room)[0]! }),
    ).rejects.toMatchObject({
      httpStatus: 404,
    });
    const caller = emu.placeDialIn({ from: '+15550100009', holdOnly: true });
    await client.pinlessCallUpdate({ callId: caller.callId, callDomain: caller.callDomain, sipUri: roomSipEndpoints(room)[0]! });
    expect(caller.bridgedTo).toBe('r-in');
    await until(() => received.some((r) => r.type === 'dialin.connected'));
    await client.deleteRoom('r-in');
  });
});
