/**
 * Transfer to a person end to end: a sandbox caller asks for a person, the agent says a line and calls
 * `transfer_call`; the carrier (Twilio: the live call updated with `<Dial>` TwiML; Plivo: its transfer API to our
 * `<Dial>` XML) moves the call to the "human agent" persona, who hears the caller's question and answers it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/agent/agent-definition.ts';
import type { RunningSwitchboard } from '../../src/server/start.ts';
import type { CallRecord } from '../../src/store/index.ts';
import type { EmulatedCallRecord } from '../../src/sandbox/carriers/shared/call-record.ts';
import type { PlivoEmulator } from '../../src/telephony/plivo/emulator/index.ts';
import type { TwilioEmulator } from '../../src/telephony/twilio/emulator/index.ts';
import { postJson, startTestServer, waitForCallEnd } from '../server/helpers.ts';

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

beforeAll(async () => {
  server = await startTestServer({}, { agents: [frontDesk] });
});

afterAll(async () => {
  await server?.close();
}, 60_000);

async function settled(id: string): Promise<CallRecord> {
  await waitForCallEnd(server.url, id);
  for (;;) {
    const record = (await (await fetch(`${server.url}/calls/${id}`)).json()) as CallRecord;
    if (record.events.some((e) => e.type === 'media.ended')) return record;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function checkTransferred(record: CallRecord, emulated: EmulatedCallRecord): void {
  expect(record.endReason).toBe('transferred');
  expect(record.transfer).toMatchObject({ kind: 'cold', destination: '+15550100090', status: 'transferred' });
  const said = record.turns.filter((t) => t.role === 'assistant').map((t) => t.heard);
  expect(said.at(-1)).toMatch(/transferring you/i); // the line was heard before the call moved
  const dial = emulated.dials[0];
  expect(dial).toMatchObject({ to: '+15550100090', personaId: 'human-agent' });
  expect(dial?.answeredAt).not.toBeNull();
  // The person heard the caller's question, then answered it; the caller heard that answer.
  expect(dial?.party?.heard.length).toBeGreaterThan(0);
  const answer = dial?.party?.said.find((s) => /front desk/i.test(s.text));
  expect(answer?.endAt).not.toBeNull();
  const question = emulated.callee?.said.find((s) => /question about my bill/.test(s.text));
  expect(question?.startAt).toBeGreaterThan(dial?.answeredAt as number);
  expect((answer?.startAt as number) > (question?.endAt as number)).toBe(true);
  expect(emulated.callee?.heard.some((h) => h.startAt >= (answer?.startAt as number) - 100)).toBe(true);
}

describe.concurrent('cold transfer to the human agent persona', () => {
  it(
    'Twilio: the live call is updated with <Dial>; the call ends transferred and the person hears the caller',
    { timeout: 120_000 },
    async () => {
      const placed = await postJson(`${server.url}/calls`, { to: '+15550100007', carrier: 'twilio' });
      expect(placed.status).toBe(201);
      const record = await settled(placed.json.id as string);
      const twilio = server.sandbox!.emulator<TwilioEmulator>('twilio')!;
      const emulated = twilio.calls.get(record.carrierCallId!)!;
      await emulated.waitForEnd(30_000);
      checkTransferred(record, emulated.record);
      expect(emulated.record.markup.some((m) => /<Dial><Number>\+15550100090<\/Number><\/Dial>/.test(m.body ?? ''))).toBe(true);
    },
  );

  it(
    'Plivo: the transfer API points the call at our <Dial> XML; the call ends transferred and the person hears the caller',
    { timeout: 120_000 },
    async () => {
      const placed = await postJson(`${server.url}/calls`, { to: '+15550100007', carrier: 'plivo' });
      expect(placed.status).toBe(201);
      const record = await settled(placed.json.id as string);
      const plivo = server.sandbox!.emulator<PlivoEmulator>('plivo')!;
      const emulated = plivo.calls.get(record.carrierCallId!)!;
      await emulated.waitForEnd(30_000);
      checkTransferred(record, emulated.record);
      expect(emulated.record.markup.some((m) => /<Dial><Number>15550100090<\/Number><\/Dial>/.test(m.body ?? ''))).toBe(true);
    },
  );
});
