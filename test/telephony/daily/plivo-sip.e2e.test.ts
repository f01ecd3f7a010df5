/**
 * Plivo → SIP (`POST /outbound-call`): Plivo dials the callee, its answer XML is `<Dial><User>` to a SIP URI that
 * reaches the bot — our own SIP endpoint (default), or a Daily room's endpoint (PLIVO_SIP_LEG_CARRIER=daily) —
 * and the Plivo emulator bridges the persona's audio with that SIP leg.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSwitchboard } from '../../../src/server/start.ts';
import type { CallRecord } from '../../../src/store/index.ts';
import type { PlivoEmulator } from '../../../src/telephony/plivo/emulator/index.ts';
import { postJson, startTestServer, waitForCallEnd } from '../../server/helpers.ts';

let direct: RunningSwitchboard;
let viaRoom: RunningSwitchboard;

beforeAll(async () => {
  [direct, viaRoom] = await Promise.all([startTestServer(), startTestServer({ PLIVO_SIP_LEG_CARRIER: 'daily' })]);
});

afterAll(async () => {
  await Promise.all([direct?.close(), viaRoom?.close()]);
});

/** The cooperative callee's lines; under heavy load the bot may say goodbye before a trailing "Thanks!" is heard. */
const CALLEE_LINES = ['Hello?', "Yes, I'll be there.", expect.stringMatching(/^No, that's all\./)];
const userTurns = (r: CallRecord) => r.turns.filter((t) => t.role === 'user');
const assistantTurns = (r: CallRecord) => r.turns.filter((t) => t.role === 'assistant');

async function outboundCall(server: RunningSwitchboard): Promise<CallRecord> {
  const placed = await postJson(`${server.url}/outbound-call`, {
    phone_number: '+15550100001',
    from_number: '+15550100000',
    body: { user: { firstName: 'Lin' } },
  });
  expect(placed.status).toBe(200);
  const record = await waitForCallEnd(server.url, placed.json.id as string, 120_000);
  const plivo = server.sandbox!.emulator<PlivoEmulator>('plivo')!;
  const emulated = plivo.calls.get(record.carrierCallId!)!;
  expect(emulated.record.markup[0]?.body).toMatch(/<Dial[^>]*><User>sips?:[^<]+<\/User><\/Dial>/);
  return record;
}

describe.concurrent('Plivo → SIP', () => {
  it('to our own SIP endpoint: completed, callee first, custom data in the greeting', { timeout: 150_000 }, async () => {
    const record = await outboundCall(direct);
    expect(record.status).toBe('completed');
    expect(record.carrier).toBe('plivo');
    expect(record.turns[0]?.role).toBe('user');
    expect(userTurns(record).map((t) => t.text)).toEqual(CALLEE_LINES);
    expect((assistantTurns(record)[0]?.heard ?? '').split(/(?<=[.!?])\s/)[0]).toContain('Lin');
  });

  it(
    'to a Daily room: the room mixes the Plivo leg with the bot leg; completed with turns from both sides',
    { timeout: 150_000 },
    async () => {
      const record = await outboundCall(viaRoom);
      expect(record.status).toBe('completed');
      expect(record.turns[0]?.role).toBe('user');
      expect(userTurns(record).map((t) => t.text)).toEqual(['Hello?', "Yes, I'll be there.", expect.stringMatching(/^No, that's all\./)]);
      expect(assistantTurns(record).length).toBeGreaterThanOrEqual(3);
    },
  );
});
