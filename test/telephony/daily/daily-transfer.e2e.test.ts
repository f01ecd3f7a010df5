/**
 * Daily cold transfer end to end: a dial-out callee asks for a person, the agent says a line and calls
 * `transfer_call`; Switchboard asks Daily (the emulator) for `sipCallTransfer` of the callee's session to the front
 * desk number. The callee leaves the room, the "human agent" persona answers, hears the caller's question and
 * answers it; the record ends `transferred` with the destination and Daily's outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAgent } from '../../../src/agent/agent-definition.ts';
import type { RunningSwitchboard } from '../../../src/server/start.ts';
import type { CallRecord } from '../../../src/store/index.ts';
import type { DailyEmulator } from '../../../src/telephony/daily/emulator/index.ts';
import { postJson, startTestServer, waitForCallEnd } from '../../server/helpers.ts';

const frontDesk = defineAgent({
  name: 'front-desk',
  systemPrompt: 'You answer calls for Lakeside Clinic. Transfer callers who ask for a person.',
  greeting: 'Hello, this is Lakeside Clinic. How can I help?',
  transfer: {
    destinations: [
      { name: 'front_desk', to: '+15550100090', description: 'The front desk: billing and anything else a person should handle.' },
    ],
  },
});

let server: RunningSwitchboard;
let daily: DailyEmulator;

beforeAll(async () => {
  server = await startTestServer({}, { agents: [frontDesk] });
  daily = server.sandbox!.emulator<DailyEmulator>('daily')!;
});

afterAll(async () => {
  await server?.close();
}, 60_000);

async function settled(id: string): Promise<CallRecord> {
  await waitForCallEnd(server.url, id, 100_000);
  for (;;) {
    const record = (await (await fetch(`${server.url}/calls/${id}`)).json()) as CallRecord;
    if (record.events.some((e) => e.type === 'media.ended')) return record;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.concurrent('Daily cold transfer', () => {
  it(
    'transfer_call moves the callee with sipCallTransfer; the call ends transferred and the person hears the caller',
    {
      timeout: 150_000,
    },
    async () => {
      const placed = await postJson(`${server.url}/calls`, { carrier: 'daily', to: '+15550100007' });
      expect(placed.status).toBe(201);
      const record = await settled(placed.json.id as string);
      expect(record.endReason).toBe('transferred');
      expect(record.transfer).toMatchObject({
        kind: 'cold',
        destination: '+15550100090',
        status: 'transferred',
        carrierResult: { status: 'calltransfer.answered', movedByCarrier: true },
      });
      const said = record.turns.filter((t) => t.role === 'assistant').map((t) => t.heard);
      expect(said.at(-1)).toMatch(/transferring you|put you through|connect/i);
      // Daily's side: the callee's dial-out session was transferred to the number, and the person there answered.
      const room = daily.rooms.get(record.carrierCallId!);
      expect(room).toBeDefined(); // not deleted: Daily keeps the transferred call (the room expires at exp)
      const transfer = room!.transfers[0]!;
      expect(transfer).toMatchObject({ kind: 'sipCallTransfer', toEndPoint: '+15550100090', outcome: 'answered' });
      expect(transfer.sessionId).toBe(room!.dialOuts.at(-1)!.sessionId);
      expect(room!.mixer.live.some((p) => p.kind === 'person')).toBe(false); // the callee left the room
      // The person heard the caller's question, then answered it.
      const party = transfer.party!;
      for (let i = 0; i < 200 && !party.said.some((s) => s.endAt !== null); i++) await new Promise((r) => setTimeout(r, 100));
      expect(party.heard.length).toBeGreaterThan(0);
      expect(party.said.find((s) => /front desk/i.test(s.text))?.endAt).not.toBeNull();
      const events = daily.deliveries.filter((d) => d.type.startsWith('calltransfer.')).map((d) => d.type);
      expect(events).toEqual(expect.arrayContaining(['calltransfer.triggered', 'calltransfer.initiated', 'calltransfer.answered']));
    },
  );

  it('POST /calls/:id/transfer moves a dial-in caller (their session from dialin.connected)', { timeout: 120_000 }, async () => {
    const caller = daily.placeDialIn({ from: '+15550100009', to: '+15550100000', holdOnly: true });
    const started = await postJson(`${server.url}/daily/start`, {
      body: { dialin_settings: { call_id: caller.callId, call_domain: caller.callDomain, from: caller.from, to: caller.to } },
    });
    const id = started.json.id as string;
    let live: CallRecord | undefined;
    for (let i = 0; i < 300; i++) {
      live = (await (await fetch(`${server.url}/calls/${id}`)).json()) as CallRecord;
      if (live.turns.some((t) => t.role === 'assistant')) break; // the bot is greeting: the caller is in the room
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const moved = await postJson(`${server.url}/calls/${id}/transfer`, { to: '+15550100090' });
    expect(moved.json).toMatchObject({ ok: true, status: 'calltransfer.answered', movedByCarrier: true });
    const record = await settled(id);
    expect(record.endReason).toBe('transferred');
    expect(record.transfer).toMatchObject({ destination: '+15550100090', status: 'transferred' });
    const transfer = daily.rooms.get(caller.bridgedTo!)!.transfers[0]!;
    expect(transfer).toMatchObject({ kind: 'sipCallTransfer', toEndPoint: '+15550100090', outcome: 'answered' });
    expect(transfer.sessionId).toBe(caller.participant!.origin.sessionId);
  });
});
