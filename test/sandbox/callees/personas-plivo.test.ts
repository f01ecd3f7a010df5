import { afterEach, describe, expect, it } from 'vitest';
import { startPlivoRig, streamXml, type PlivoRig } from '../../telephony/plivo/emulator/helpers.ts';
import { startFakeBot, type FakeBot } from './fake-bot.ts';

let rig: PlivoRig | undefined;
let bot: FakeBot | undefined;
afterEach(async () => {
  bot?.stop();
  await rig?.close();
  rig = bot = undefined;
});

async function callPersona(to: string, replies: number[]) {
  rig = await startPlivoRig();
  const { agent, emulator, client } = rig;
  agent.respond('/answer', () => ({ body: streamXml(agent) }));
  const { requestUuid } = await client.calls.create('15550009999', to, `${agent.url}/answer`);
  const call = await emulator.waitForRequest(requestUuid);
  const conn = await agent.nextConnection();
  const start = await conn.next((m) => m.event === 'start');
  bot = startFakeBot(conn, { carrier: 'plivo', streamId: (start.start as { streamId: string }).streamId, replies });
  return { call, conn };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('built-in personas on the Plivo emulator', () => {
  it('keypad: says hello, waits for the bot to finish, then presses 1', async () => {
    const { call, conn } = await callPersona('15550100006', [800]);
    const dtmf = await conn.next((m) => m.event === 'dtmf', 6000);
    expect((dtmf.dtmf as { digit: string }).digit).toBe('1');
    const callee = call.record.callee;
    expect(callee?.said.map((s) => s.text)).toEqual(['Hello?']);
    const gap = (callee?.pressed[0]?.at as number) - (callee?.heard[0]?.endAt as number);
    expect(gap).toBeGreaterThanOrEqual(870); // timers may fire up to 1 ms early
    expect(gap).toBeLessThan(1000);
    expect(call.record.streams[0]?.dtmf.map((d) => d.digit)).toEqual(['1']);
  });

  it('silent: answers and says nothing, staying on the line until hung up', async () => {
    const { call, conn } = await callPersona('15550100005', []);
    await sleep(1200);
    expect(bot?.speechFrames).toEqual([]);
    expect(conn.messages.filter((m) => m.message.event === 'media').length).toBeGreaterThan(50);
    expect(call.status).toBe('in-progress');
    await rig?.client.calls.hangup(call.id);
    expect(call.status).toBe('completed');
    expect(call.record.callee?.hungUp).toBe(false);
  });

  it('busy: the call never connects media', async () => {
    rig = await startPlivoRig();
    const { requestUuid } = await rig.client.calls.create('15550009999', '15550100003', `${rig.agent.url}/answer`);
    const record = await rig.emulator.waitForCall(requestUuid, 'busy', 3000);
    expect(record.streams).toEqual([]);
    expect(record.personaId).toBe('busy');
  });
});
