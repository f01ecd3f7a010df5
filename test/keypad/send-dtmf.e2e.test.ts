/**
 * Keypad out end to end: agents with `sendDtmf` call the sandbox IVR persona, which proceeds only when its
 * Goertzel detector hears the right key's tones in the audio our server plays (Twilio and Plivo media streams
 * carry keys only as sound). Billing is 1: an agent after billing reaches "connected"; one after support
 * presses 2 and the menu never connects it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/agent/agent-definition.ts';
import type { RunningSwitchboard } from '../../src/server/start.ts';
import type { CallRecord } from '../../src/store/index.ts';
import type { CalleeRecord } from '../../src/sandbox/callees/simulated-callee.ts';
import type { PlivoEmulator } from '../../src/telephony/plivo/emulator/index.ts';
import type { TwilioEmulator } from '../../src/telephony/twilio/emulator/index.ts';
import { postJson, startTestServer, waitForCallEnd } from '../server/helpers.ts';

const billing = defineAgent({
  name: 'billing-caller',
  systemPrompt: 'You call Acme about an invoice. When a phone menu answers, choose billing.',
  greeting: 'none',
  sendDtmf: true,
});
const support = defineAgent({
  name: 'support-caller',
  systemPrompt: 'You call Acme about a broken device. When a phone menu answers, choose support.',
  greeting: 'none',
  sendDtmf: true,
});

let server: RunningSwitchboard;

beforeAll(async () => {
  server = await startTestServer({}, { agents: [billing, support] });
});

afterAll(async () => {
  await server?.close();
}, 60_000);

async function callIvr(agent: string, carrier: 'twilio' | 'plivo'): Promise<{ record: CallRecord; ivr: CalleeRecord }> {
  const placed = await postJson(`${server.url}/calls`, { to: '+15550100008', carrier, agent });
  expect(placed.status).toBe(201);
  const record = await waitForCallEnd(server.url, placed.json.id as string);
  const emulated =
    carrier === 'twilio'
      ? server.sandbox!.emulator<TwilioEmulator>('twilio')!.calls.get(record.carrierCallId!)!
      : server.sandbox!.emulator<PlivoEmulator>('plivo')!.calls.get(record.carrierCallId!)!;
  await emulated.waitForEnd(30_000);
  return { record, ivr: emulated.record.callee! };
}

const connected = (ivr: CalleeRecord) => ivr.said.find((s) => /now connected/.test(s.text));

describe.concurrent('send_dtmf to the sandbox IVR', () => {
  for (const carrier of ['twilio', 'plivo'] as const) {
    it(`${carrier}: the agent presses 1 for billing with in-band tones and the IVR connects it`, { timeout: 120_000 }, async () => {
      const { record, ivr } = await callIvr('billing-caller', carrier);
      const press = record.events.find((e) => e.type === 'tool.call' && (e.data as { toolName: string }).toolName === 'send_dtmf');
      expect((press?.data as { args: unknown }).args).toEqual({ digits: '1' });
      expect(ivr.heardKeys.map((k) => k.digit)).toEqual(['1']);
      const wait = ivr.steps.find((s) => 'waitForKeys' in s.step);
      expect(wait?.outcome).toBe('done');
      expect(connected(ivr)?.startAt).toBeGreaterThan(ivr.heardKeys[0]!.at);
      // Once connected, the bot says why it called, and the IVR hears it.
      expect(record.turns.some((t) => t.role === 'assistant' && /calling about billing/.test(t.heard ?? ''))).toBe(true);
      expect(ivr.heard.some((h) => h.startAt > (connected(ivr)?.endAt as number))).toBe(true);
    });
  }

  it('twilio: an agent after support presses 2; the IVR, which connects only on 1, never connects it', { timeout: 120_000 }, async () => {
    const { record, ivr } = await callIvr('support-caller', 'twilio');
    const press = record.events.find((e) => e.type === 'tool.call' && (e.data as { toolName: string }).toolName === 'send_dtmf');
    expect((press?.data as { args: unknown }).args).toEqual({ digits: '2' });
    expect(ivr.heardKeys.map((k) => k.digit)).toEqual(['2']);
    expect(ivr.steps.find((s) => 'waitForKeys' in s.step)?.outcome).toBe('timeout');
    expect(connected(ivr)?.startAt ?? null).toBeNull();
  });
});
