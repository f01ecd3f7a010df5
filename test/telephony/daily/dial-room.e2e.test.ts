/** DAILY_BOT_LEG=dial-room: our endpoint dials the room's SIP endpoint instead of the room dialling us. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningSwitchboard } from '../../../src/server/start.ts';
import type { CallRecord } from '../../../src/store/index.ts';
import type { DailyEmulator } from '../../../src/telephony/daily/emulator/index.ts';
import { postJson, startTestServer, waitForCallEnd } from '../../server/helpers.ts';

let server: RunningSwitchboard;

beforeAll(async () => {
  server = await startTestServer({ DAILY_BOT_LEG: 'dial-room' });
});

afterAll(async () => {
  await server?.close();
});

it('dial-out and dial-in complete with the bot dialling the rooms', { timeout: 150_000 }, async () => {
  const daily = server.sandbox!.emulator<DailyEmulator>('daily')!;
  const held = daily.placeDialIn({ from: '+15550100009', to: '+15550100000', holdOnly: true });
  const [dialout, dialin] = await Promise.all([
    postJson(`${server.url}/daily/start`, { body: { dialout_settings: [{ phoneNumber: '+15550100001' }] } }),
    postJson(`${server.url}/daily/start`, { body: { dialin_settings: { callId: held.callId, callDomain: held.callDomain } } }),
  ]);
  const [out, inn] = (await Promise.all([
    waitForCallEnd(server.url, dialout.json.id as string, 120_000),
    waitForCallEnd(server.url, dialin.json.id as string, 120_000),
  ])) as [CallRecord, CallRecord];
  expect(out.status).toBe('completed');
  expect(out.turns[0]?.role).toBe('user');
  expect(inn.status).toBe('completed');
  expect(inn.turns[0]?.role).toBe('assistant');
  expect(inn.turns.some((t) => t.role === 'user')).toBe(true);
});
