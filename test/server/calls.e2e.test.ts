/**
 * Twilio and Plivo calls end to end through the public HTTP surface: the sandbox carriers dial simulated
 * callees, fetch our (signed) markup, stream real audio over the media WebSocket, and the record fills in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSwitchboard } from '../../src/server/start.ts';
import type { CallRecord, CallTurn } from '../../src/store/index.ts';
import { postJson, startTestServer, waitForCallEnd } from './helpers.ts';
import type { TwilioEmulator } from '../../src/telephony/twilio/emulator/index.ts';
import type { PlivoEmulator } from '../../src/telephony/plivo/emulator/index.ts';

let server: RunningSwitchboard;
/** Resolves when the Twilio conversation test has finished its call (the metrics test reads what it left). */
let twilioCallDone!: () => void;
const twilioCallFinished = new Promise<void>((resolve) => (twilioCallDone = resolve));

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.close();
});

const assistantTurns = (r: CallRecord) => r.turns.filter((t) => t.role === 'assistant');
const userTurns = (r: CallRecord) => r.turns.filter((t) => t.role === 'user');

describe.concurrent('calls through the sandbox carriers', () => {
  it('Twilio: POST /dialout completes a conversation with turns from both sides and per-turn latency', { timeout: 120_000 }, async () => {
    const placed = await postJson(`${server.url}/dialout`, { to_number: '+15550100001', from_number: '+15550100000' });
    expect(placed.status).toBe(200);
    expect(placed.json.call_sid).toMatch(/^CA[0-9a-f]{32}$/);
    const record = await waitForCallEnd(server.url, placed.json.id as string);
    expect(record.status).toBe('completed');
    expect(record.carrier).toBe('twilio');
    expect(record.direction).toBe('outbound');
    expect(record.durationSec).toBeGreaterThan(5);
    expect(userTurns(record).map((t) => t.text)).toEqual(['Hello?', "Yes, I'll be there.", "No, that's all. Thanks!"]);
    const replies = assistantTurns(record);
    // The confirmation is answered in two utterances: the acknowledgement said with the tool call, then the result.
    expect(replies.length).toBe(4);
    expect(replies.filter((t) => t.latency).length).toBe(3); // one timed reply per caller turn
    for (const turn of replies.filter((t) => t.latency)) {
      const latency = turn.latency as { voiceToVoiceMs: number; llmFirstTokenMs: number; firstAudioOutMs: number } | undefined;
      expect(latency?.voiceToVoiceMs).toBeGreaterThan(0);
      expect(latency?.firstAudioOutMs).toBe(latency?.voiceToVoiceMs);
    }
    for (const turn of replies) expect(turn.heard).toBe(turn.text);
    expect(record.events.some((e) => e.type === 'tool.call' && (e.data as { toolName: string }).toolName === 'confirm_appointment')).toBe(
      true,
    );
    expect(record.events.some((e) => e.type === 'carrier.hangup')).toBe(true);
    expect(record.endReason).toBe('completed');
    twilioCallDone();
  });

  it('GET /metrics exposes the calls as Prometheus histograms and gauges', { timeout: 120_000 }, async () => {
    await twilioCallFinished;
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const count = (name: string) => Number(new RegExp(`^${name}_count(?:\\{[^}]*\\})? (\\d+)`, 'm').exec(text)?.[1] ?? 'NaN');
    expect(count('switchboard_voice_to_voice_ms')).toBeGreaterThanOrEqual(3);
    expect(count('switchboard_framework_overhead_ms')).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/^switchboard_active_calls \d+/m);
    expect(text).toMatch(/^switchboard_provider_ttfb_ms_count\{processor="LlmProcessor"\} \d+/m);
    expect(text).toMatch(/^switchboard_provider_ttfb_ms_count\{processor="TtsProcessor"\} \d+/m);
    expect(text).toMatch(/^switchboard_calls_started_total\{carrier="twilio"\} \d+/m);
  });

  it('Plivo: POST /start carries the JSON body to the bot, which greets the callee by name', { timeout: 120_000 }, async () => {
    const placed = await postJson(`${server.url}/start`, {
      phone_number: '+15550100001',
      body: { user: { firstName: 'Grace' }, clinic: { name: 'Lakeside Clinic' } },
    });
    expect(placed.status).toBe(200);
    const record = await waitForCallEnd(server.url, placed.json.id as string);
    expect(record.status).toBe('completed');
    expect(record.carrier).toBe('plivo');
    expect(record.carrierCallId).toMatch(/^[0-9a-f-]{36}$/);
    const first = assistantTurns(record)[0] as CallTurn;
    const firstSentence = (first.heard ?? '').split(/(?<=[.!?])\s/)[0];
    expect(firstSentence).toContain('Grace');
    expect(first.text).toContain('Lakeside Clinic');
  });

  it(
    'barge-in: +15550100002 leaves an interrupted turn whose heard part is a strict prefix, and the carrier got clear',
    { timeout: 120_000 },
    async () => {
      const placed = await postJson(`${server.url}/calls`, { to: '+15550100002', carrier: 'twilio' });
      expect(placed.status).toBe(201);
      const record = await waitForCallEnd(server.url, placed.json.id as string);
      expect(record.status).toBe('completed');
      const interrupted = assistantTurns(record).find((t) => t.interrupted);
      expect(interrupted).toBeDefined();
      expect(interrupted!.heard!.length).toBeGreaterThan(0);
      expect(interrupted!.text.startsWith(interrupted!.heard!)).toBe(true);
      expect(interrupted!.heard!.length).toBeLessThan(interrupted!.text.length);
      const emulated = server.sandbox!.emulator<TwilioEmulator>('twilio')!.calls.get(record.carrierCallId!)!.record;
      const clears = emulated.streams.flatMap((s) => s.clears);
      expect(clears.length).toBeGreaterThanOrEqual(1);
      expect(record.events.some((e) => e.type === 'barge-in.clear-sent')).toBe(true);
    },
  );

  it('busy and no-answer end as busy and no-answer on both carriers', { timeout: 120_000 }, async () => {
    const outcomes = await Promise.all(
      [
        ['twilio', '+15550100003'],
        ['twilio', '+15550100004'],
        ['plivo', '+15550100003'],
        ['plivo', '+15550100004'],
      ].map(async ([carrier, to]) => {
        const placed = await postJson(`${server.url}/calls`, { to, carrier });
        expect(placed.status).toBe(201);
        const record = await waitForCallEnd(server.url, placed.json.id as string);
        return `${carrier}:${to}:${record.status}:${record.turns.length}`;
      }),
    );
    expect(outcomes).toEqual([
      'twilio:+15550100003:busy:0',
      'twilio:+15550100004:no-answer:0',
      'plivo:+15550100003:busy:0',
      'plivo:+15550100004:no-answer:0',
    ]);
  });

  it('inbound: a call to our Twilio number is answered by the same agent, which speaks first', { timeout: 120_000 }, async () => {
    const twilio = server.sandbox!.emulator<TwilioEmulator>('twilio')!;
    twilio.personas.register('+15557770001', {
      id: 'inbound-caller',
      steps: [
        { waitForBotToFinish: true },
        { say: 'Sure.' },
        { waitForBotToFinish: true },
        { say: "Yes, I'll be there." },
        { waitForBotToFinish: true },
        { say: "No, that's all. Thanks!" },
      ],
    });
    const call = twilio.placeInboundCall({
      from: '+15557770001',
      to: '+15550100000',
      voiceUrl: `${server.publicUrl}/twilio/voice`,
      statusCallback: `${server.publicUrl}/twilio/status`,
      statusCallbackEvents: ['initiated', 'ringing', 'answered', 'completed'],
    });
    await twilio.waitForCall(call.id, 'completed', 90_000);
    const listed = (await (await fetch(`${server.url}/calls?direction=inbound`)).json()) as { calls: CallRecord[] };
    const summary = listed.calls.find((c) => c.carrierCallId === call.id)!;
    const record = await waitForCallEnd(server.url, summary.id);
    expect(record.direction).toBe('inbound');
    expect(record.from).toBe('+15557770001');
    expect(record.turns[0]?.role).toBe('assistant'); // the bot spoke first
    expect(record.turns[0]?.text).toContain('this is Sam from Riverside Dental');
    expect(userTurns(record).map((t) => t.text)).toEqual(['Sure.', "Yes, I'll be there.", "No, that's all. Thanks!"]);
    expect(record.status).toBe('completed');
    expect(record.endReason).toBe('completed');
  });

  it("keypad: a DTMF confirmation is understood as the caller's answer", { timeout: 120_000 }, async () => {
    const placed = await postJson(`${server.url}/calls`, { to: '+15550100006', carrier: 'twilio' });
    const record = await waitForCallEnd(server.url, placed.json.id as string);
    expect(record.status).toBe('completed');
    expect(userTurns(record).map((t) => t.text)).toEqual(['Hello?', 'DTMF: 1', 'No thanks, bye.']);
    expect(record.events.some((e) => e.type === 'tool.call' && (e.data as { toolName: string }).toolName === 'confirm_appointment')).toBe(
      true,
    );
  });

  it('silent callee: the bot opens after waiting, re-prompts, then says goodbye and hangs up', { timeout: 120_000 }, async () => {
    const placed = await postJson(`${server.url}/calls`, { to: '+15550100005', carrier: 'plivo' });
    const record = await waitForCallEnd(server.url, placed.json.id as string);
    expect(record.status).toBe('completed');
    expect(userTurns(record)).toEqual([]);
    expect(assistantTurns(record).map((t) => t.text)).toEqual([
      expect.stringContaining('this is Sam from Riverside Dental'),
      'Are you still there?',
      'Are you still there?',
      "It seems we've lost the connection. Goodbye!",
    ]);
    expect(record.endReason).toBe('caller silent');
    expect(record.events.some((e) => e.type === 'carrier.hangup')).toBe(true);
  });

  it('inbound Plivo: a call to our Plivo number is answered by the agent, which speaks first', { timeout: 120_000 }, async () => {
    const plivo = server.sandbox!.emulator<PlivoEmulator>('plivo')!;
    plivo.personas.register('+15557770009', {
      id: 'inbound-plivo',
      steps: [
        { waitForBotToFinish: true },
        { say: 'Sure.' },
        { waitForBotToFinish: true },
        { say: "Yes, I'll be there." },
        { waitForBotToFinish: true },
        { say: "No, that's all. Thanks!" },
      ],
    });
    const call = plivo.placeInboundCall({
      from: '+15557770009',
      to: '+15550100000',
      answerUrl: `${server.publicUrl}/plivo/answer`,
      hangupUrl: `${server.publicUrl}/plivo/status`,
    });
    await plivo.waitForCall(call.id, 'completed', 90_000);
    const listed = (await (await fetch(`${server.url}/calls?direction=inbound`)).json()) as { calls: CallRecord[] };
    const summary = listed.calls.find((c) => c.carrierCallId === call.id)!;
    const record = await waitForCallEnd(server.url, summary.id);
    expect(record.carrier).toBe('plivo');
    expect(record.turns[0]?.role).toBe('assistant');
    expect(userTurns(record).map((t) => t.text)).toEqual(['Sure.', "Yes, I'll be there.", "No, that's all. Thanks!"]);
    expect(record.status).toBe('completed');
  });
});
