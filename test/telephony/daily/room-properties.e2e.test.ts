/**
 * `dailyRoomProperties` of `POST /daily/start` (Pipecat Cloud's start body) reach the room Daily creates — the
 * emulator's room has them — while the flow's own SIP and dial-out properties win; unknown or malformed properties
 * are refused with 400 before anything is dialled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSwitchboard } from '../../../src/server/start.ts';
import type { DailyEmulator } from '../../../src/telephony/daily/emulator/index.ts';
import { postJson, startTestServer } from '../../server/helpers.ts';

let server: RunningSwitchboard;
let daily: DailyEmulator;

beforeAll(async () => {
  server = await startTestServer({ DAILY_DIALOUT_RETRIES: '0' });
  daily = server.sandbox!.emulator<DailyEmulator>('daily')!;
});

afterAll(async () => {
  await server?.close();
}, 60_000);

describe.concurrent('POST /daily/start dailyRoomProperties', () => {
  it('dial-out: the room has the given properties; enable_dialout and eject_at_room_exp stay ours', { timeout: 60_000 }, async () => {
    const exp = Math.floor(Date.now() / 1000) + 900;
    const placed = await postJson(`${server.url}/daily/start`, {
      createDailyRoom: true,
      dailyRoomProperties: {
        exp,
        max_participants: 4,
        enable_chat: true,
        enable_recording: 'cloud',
        lang: 'de',
        enable_dialout: false,
        eject_at_room_exp: false,
      },
      body: { dialout_settings: [{ phoneNumber: '+15550100004' }] }, // rings for 6 s, nobody answers
    });
    expect(placed.status).toBe(200);
    const room = daily.rooms.get(placed.json.room as string);
    expect(room?.properties).toMatchObject({
      exp,
      max_participants: 4,
      enable_chat: true,
      enable_recording: 'cloud',
      lang: 'de',
      enable_dialout: true,
      eject_at_room_exp: true,
    });
  });

  it('dial-in: the room has the given properties; the SIP endpoint settings stay ours', { timeout: 60_000 }, async () => {
    const caller = daily.placeDialIn({ from: '+15550100009', to: '+15550100000', holdOnly: true });
    const started = await postJson(`${server.url}/daily/start`, {
      dailyRoomProperties: { enable_prejoin_ui: false, start_video_off: true, sip: { display_name: 'Front desk', num_endpoints: 3 } },
      body: { dialin_settings: { call_id: caller.callId, call_domain: caller.callDomain, from: caller.from, to: caller.to } },
    });
    expect(started.status).toBe(200);
    for (let i = 0; i < 200 && !caller.bridgedTo; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const room = daily.rooms.get(caller.bridgedTo!);
    expect(room?.properties).toMatchObject({ enable_prejoin_ui: false, start_video_off: true });
    expect(room?.properties.sip).toMatchObject({ display_name: '+15550100009', num_endpoints: 1, sip_mode: 'dial-in' });
  });

  it.each([
    ['an unknown property', { bogus_property: 1 }],
    ['a wrong type', { max_participants: 'four' }],
    ['the read-only sip_uri', { sip_uri: { endpoint: 'sip:x@example.com' } }],
    ['an expiry in the past', { exp: 1_000_000 }],
    ['an unknown sip field', { sip: { display_name: 'x', secret: true } }],
  ])('refuses %s with 400 and dials nobody', async (_name, dailyRoomProperties) => {
    const before = daily.rooms.size;
    const refused = await postJson(`${server.url}/daily/start`, {
      dailyRoomProperties,
      body: { dialout_settings: [{ phoneNumber: '+15550100001' }] },
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.json)).toMatch(/dailyRoomProperties/);
    expect(daily.rooms.size).toBeLessThanOrEqual(before);
  });
});
