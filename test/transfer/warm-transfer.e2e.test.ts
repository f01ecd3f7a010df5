/**
 * Warm transfer on Twilio end to end, through the public API: a sandbox caller asks for a person; the agent says a
 * line and calls `transfer_call` to a `warm` destination. The caller's call goes into a conference where they hear
 * hold audio; the "human agent" persona is called and hears the generated summary from a briefing session; then
 * they join the conference and the two are bridged: the person hears the caller's question and answers it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/agent/agent-definition.ts';
import type { RunningSwitchboard } from '../../src/server/start.ts';
import type { CallRecord } from '../../src/store/index.ts';
import type { TwilioEmulator } from '../../src/telephony/twilio/emulator/index.ts';
import { postJson, startTestServer, waitForCallEnd } from '../server/helpers.ts';

const frontDesk = defineAgent({
  name: 'front-desk-warm',
  systemPrompt: 'You answer calls for Lakeside Clinic. Transfer callers who ask for a person, after briefing them.',
  greeting: 'Hello, this is Lakeside Clinic. How can I help?',
  transfer: {
    destinations: [
      {
        name: 'front_desk',
        to: '+15550100090',
        description: 'The front desk: billing and anything else a person should handle.',
        mode: 'warm',
      },
    ],
  },
});

/** The same, with a destination that is busy (the sandbox's +15550100003): the bot takes the caller back. */
const busyDesk = defineAgent({
  name: 'busy-desk-warm',
  systemPrompt: 'You answer calls for Hillside Dental. Transfer callers who ask for a person, after briefing them.',
  greeting: 'Hello, this is Hillside Dental. How can I help?',
  transfer: {
    destinations: [{ name: 'front_desk', to: '+15550100003', description: 'The front desk (always busy in this test).', mode: 'warm' }],
  },
});

let server: RunningSwitchboard;

beforeAll(async () => {
  server = await startTestServer({}, { agents: [frontDesk, busyDesk] });
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

describe.concurrent('warm transfer to the human agent persona', () => {
  it('Twilio: the caller holds in a conference, the person hears the summary, then the two are bridged', { timeout: 120_000 }, async () => {
    const placed = await postJson(`${server.url}/calls`, { to: '+15550100007', carrier: 'twilio' });
    expect(placed.status).toBe(201);
    const record = await settled(placed.json.id as string);
    const twilio = server.sandbox!.emulator<TwilioEmulator>('twilio')!;
    const caller = twilio.calls.get(record.carrierCallId!)!;
    await caller.waitForEnd(60_000);

    // The record: transferred, warm, to the person, with the summary the LLM wrote from the conversation.
    expect(record.endReason).toBe('transferred');
    expect(record.transfer).toMatchObject({ kind: 'warm', destination: '+15550100090', status: 'transferred' });
    const summary = record.transfer?.summary ?? '';
    expect(summary).toMatch(/talk to a person/i); // the caller's own words, summarised
    expect(record.transfer?.carrierResult).toMatchObject({ status: 'bridged' });
    const room = record.transfer?.bridge as string;
    expect(room).toBeTruthy();

    // The briefing leg is a call of ours linked to this one; it said the summary, heard in full, and ended transferred.
    const briefingId = record.transfer?.briefingCallId as string;
    const briefing = (await (await fetch(`${server.url}/calls/${briefingId}`)).json()) as CallRecord;
    expect(briefing.metadata).toMatchObject({ warmTransferOf: record.id });
    expect(briefing.to).toBe('+15550100090');
    const briefed = briefing.turns.find((t) => t.role === 'assistant');
    expect(briefed?.text).toBe(summary);
    expect(briefed?.heard).toBe(summary);
    expect(briefing.endReason).toBe('transferred');

    // The conference: the caller waited (hold audio), the person started it.
    const conference = twilio.conferences.find(room)!;
    expect(conference.startedAt).not.toBeNull();
    const [callerIn, personIn] = conference.participants;
    expect(callerIn).toMatchObject({ callSid: caller.id, startConferenceOnEnter: false });
    expect(personIn).toMatchObject({ callSid: briefing.carrierCallId, startConferenceOnEnter: true });
    expect(callerIn!.holdMs).toBeGreaterThan(500);
    expect(callerIn!.holdUntil as number).toBeLessThanOrEqual(conference.startedAt as number);
    // The caller heard the hold audio: sound in their ear while they waited.
    const callerHeard = caller.record.callee!.heard;
    expect(callerHeard.some((h) => h.startAt >= callerIn!.joinedAt - 40 && h.startAt < (conference.startedAt as number))).toBe(true);

    // The person: heard the briefing before joining, then the caller's question, and answered it to the caller.
    const person = twilio.calls.get(briefing.carrierCallId!)!;
    const personRecord = person.record.callee!;
    const joinedAt = personIn!.joinedAt;
    // What the person heard before joining is the briefing: it starts and ends when the summary played.
    const duringBriefing = personRecord.heard.filter((h) => h.startAt < joinedAt);
    expect(duringBriefing.length).toBeGreaterThan(0);
    expect(Math.abs(duringBriefing[0]!.startAt - Date.parse(String(briefed?.startedAt)))).toBeLessThan(1000);
    expect(Math.abs((duringBriefing.at(-1)!.endAt as number) - Date.parse(String(briefed?.endedAt)))).toBeLessThan(1000);
    const question = caller.record.callee!.said.find((s) => /question about my bill/.test(s.text));
    expect(question?.startAt).toBeGreaterThan(conference.startedAt as number);
    expect(
      personRecord.heard.some((h) => h.startAt >= (question?.startAt as number) - 40 && h.startAt <= (question?.endAt as number)),
    ).toBe(true);
    // Everything the person said was said in the conference (after joining), none of it to the briefing bot; who
    // speaks first after the bridge is up to the two of them, but the person answers the caller's question and the
    // caller hears that answer.
    expect(personRecord.said.length).toBeGreaterThan(0);
    for (const line of personRecord.said) expect(line.startAt).toBeGreaterThan(joinedAt);
    const answer = personRecord.said.find((s) => (s.startAt as number) > (question?.endAt as number));
    expect(answer).toBeDefined();
    expect(callerHeard.some((h) => h.startAt >= (answer?.startAt as number) - 40)).toBe(true);
    // When the caller hung up, the conference ended and the person's call with it.
    expect(conference.endedAt).not.toBeNull();
    await person.waitForEnd(30_000);
  });

  it('Twilio: when the person is busy, the caller comes back from hold to the bot, which says so', { timeout: 120_000 }, async () => {
    const placed = await postJson(`${server.url}/calls`, { to: '+15550100007', carrier: 'twilio', agent: 'busy-desk-warm' });
    expect(placed.status).toBe(201);
    const record = await settled(placed.json.id as string);
    const twilio = server.sandbox!.emulator<TwilioEmulator>('twilio')!;
    const caller = twilio.calls.get(record.carrierCallId!)!;
    await caller.waitForEnd(60_000);

    expect(record.status).toBe('completed');
    expect(record.endReason).not.toBe('transferred');
    expect(record.transfer).toMatchObject({ kind: 'warm', destination: '+15550100003', status: 'failed', resumed: true });
    expect(record.transfer?.carrierResult).toMatchObject({ status: 'not-bridged' });
    expect(String(record.transfer?.carrierResult.reason)).toMatch(/busy/);
    const briefing = (await (await fetch(`${server.url}/calls/${record.transfer?.briefingCallId as string}`)).json()) as CallRecord;
    expect(briefing.status).toBe('busy');
    expect(briefing.turns).toHaveLength(0);
    expect(record.events.some((e) => e.type === 'transfer.resumed')).toBe(true);

    // The caller held, then heard the bot again: the apology, then the bot answered their next words.
    const conference = twilio.conferences.find(record.transfer?.bridge as string)!;
    expect(conference.startedAt).toBeNull();
    const [callerIn] = conference.participants;
    expect(callerIn!.holdMs).toBeGreaterThan(0);
    expect(callerIn!.leftBecause).toBe('redirected');
    const apology = record.turns.find((t) => t.role === 'assistant' && /couldn't reach the front desk/.test(t.text));
    expect(apology).toBeDefined();
    expect(apology?.heard).toBe(apology?.text);
    const question = record.turns.find((t) => t.role === 'user' && /question about my bill/i.test(t.text));
    expect(question).toBeDefined();
    expect(caller.record.streams).toHaveLength(2); // the bot's stream before the hold and after it
  });

  it('Twilio: a caller who hangs up on hold is not bridged; the briefed person is let go', { timeout: 120_000 }, async () => {
    // Asks for a person, then gives up 5 s after the bot's answer began (a second or two into the hold audio).
    server.sandbox!.personas.register('+15557770301', {
      id: 'gives-up-on-hold',
      steps: [
        { say: 'Hello?' },
        { waitForBotToFinish: true },
        { say: 'Can I talk to a person, please?' },
        { waitForBotSpeechMs: 5000, timeoutMs: 20000 },
        { hangUp: true },
      ],
    });
    const placed = await postJson(`${server.url}/calls`, { to: '+15557770301', carrier: 'twilio' });
    expect(placed.status).toBe(201);
    const record = await settled(placed.json.id as string);
    const twilio = server.sandbox!.emulator<TwilioEmulator>('twilio')!;
    const caller = twilio.calls.get(record.carrierCallId!)!;
    expect(caller.record.endReason).toBe('callee-hangup');
    const room = twilio.conferences.find(`switchboard-${record.id}`)!;
    expect(room.startedAt).toBeNull(); // the caller left before anyone started it
    expect(room.endReason).toBe('participant-with-end-conference-on-exit-left');
    // The warm transfer finishes its briefing, finds the caller gone, and lets the person go.
    for (let i = 0; i < 100 && !(await fetchRecord(record.id)).transfer; i++) await new Promise((r) => setTimeout(r, 200));
    const after = await fetchRecord(record.id);
    expect(after.endReason).not.toBe('transferred');
    expect(after.transfer).toMatchObject({ kind: 'warm', status: 'failed', carrierResult: { status: 'caller-gone' } });
    const briefing = await fetchRecord(after.transfer?.briefingCallId as string);
    const person = twilio.calls.get(briefing.carrierCallId!)!;
    await person.waitForEnd(30_000);
    expect(twilio.conferences.history.filter((c) => c.name === room.name)).toHaveLength(1); // the person never joined one
  });
  it(
    'Twilio: POST /calls/:id/transfer {mode: "warm"} briefs the person and bridges them with the caller',
    { timeout: 120_000 },
    async () => {
      const placed = await postJson(`${server.url}/calls`, { to: '+15550100005', carrier: 'twilio' }); // answers, then silent
      expect(placed.status).toBe(201);
      const id = placed.json.id as string;
      for (let i = 0; i < 150 && !(await fetchRecord(id)).events.some((e) => e.type === 'media.connected'); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const moved = await postJson(`${server.url}/calls/${id}/transfer`, { to: '+15550100090', mode: 'warm' });
      expect(moved.status).toBe(200);
      expect(moved.json).toMatchObject({ ok: true, status: 'bridged' });
      const record = await settled(id);
      expect(record.endReason).toBe('transferred');
      expect(record.transfer).toMatchObject({ kind: 'warm', destination: '+15550100090', status: 'transferred' });
      expect(record.transfer?.summary).toMatch(/^Hi, I have a caller for you\./);
      const twilio = server.sandbox!.emulator<TwilioEmulator>('twilio')!;
      const conference = twilio.conferences.find(record.transfer?.bridge as string)!;
      expect(conference.startedAt).not.toBeNull();
      expect(conference.participants.map((p) => p.callSid)).toContain(record.carrierCallId);
      // The caller says nothing, so nothing ends it: hang up the caller; the conference ends with them.
      twilio.calls.get(record.carrierCallId!)!.terminate('test-done');
      const briefing = await fetchRecord(record.transfer?.briefingCallId as string);
      await twilio.calls.get(briefing.carrierCallId!)!.waitForEnd(30_000);
    },
  );
});

async function fetchRecord(id: string): Promise<CallRecord> {
  return (await (await fetch(`${server.url}/calls/${id}`)).json()) as CallRecord;
}
