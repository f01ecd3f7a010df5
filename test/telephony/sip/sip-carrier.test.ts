/**
 * The SIP carrier through the public surface: `POST /calls {carrier: "sip"}` and inbound INVITEs on SIP_PORT, with
 * the records `GET /calls/:id` shows. Peers: the sandbox's SIP callee personas, sipp and baresip (real SIP stacks).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../../src/agent/agent-definition.ts';
import { appointmentReminderAgent } from '../../../src/agent/default-agent.ts';
import type { SipCalleeEmulator } from '../../../src/telephony/sip/emulator/index.ts';
import type { CallRecord } from '../../../src/store/index.ts';
import { postJson, startTestServer, waitForCallEnd } from '../../server/helpers.ts';
import { freeUdpPort, runSipp } from './peers/sipp.ts';

type Server = Awaited<ReturnType<typeof startTestServer>>;
let server: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A sandbox server whose SIP endpoint listens on a known loopback port. */
async function start(env: Record<string, string> = {}, options: Parameters<typeof startTestServer>[1] = {}) {
  const sipPort = await freeUdpPort('127.0.0.2');
  server = await startTestServer({ SIP_PORT: String(sipPort), SIP_BIND_ADDRESS: '127.0.0.2', ...env }, options);
  return { server, sipPort, target: `127.0.0.2:${sipPort}` };
}

async function getJson<T>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}

async function waitForStatus(url: string, id: string, status: string, timeoutMs = 20_000): Promise<CallRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = await getJson<CallRecord>(`${url}/calls/${id}`);
    if (record.status === status) return record;
    if (Date.now() > deadline) throw new Error(`call ${id} is ${record.status}, not ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const eventsOf = (record: CallRecord, type: string) =>
  record.events.filter((e) => e.type === type).map((e) => e.data as Record<string, unknown>);

describe('SIP carrier (public surface)', () => {
  it('POST /calls {carrier: "sip"} to sip:cooperative@sandbox: a conversation over SIP/RTP, completed, turns from both sides', async () => {
    const { server } = await start();
    const placed = await postJson(`${server.url}/calls`, {
      carrier: 'sip',
      to: 'sip:cooperative@sandbox',
      headers: { 'X-Campaign': 'spring' },
      metadata: { user: { firstName: 'Grace' } },
    });
    expect(placed.status, JSON.stringify(placed.json)).toBe(201);
    const record = await waitForCallEnd(server.url, placed.json.id as string, 90_000);
    expect(record).toMatchObject({ carrier: 'sip', direction: 'outbound', status: 'completed', to: 'sip:cooperative@sandbox' });
    // The SIP Call-ID is the carrier's id for the call.
    expect(record.carrierCallId).toMatch(/^[0-9a-f]+@/);
    expect(record.turns.filter((t) => t.role === 'user').length).toBeGreaterThan(0);
    expect(record.turns.filter((t) => t.role === 'assistant').length).toBeGreaterThan(0);
    expect(record.turns.find((t) => t.role === 'user')?.text).toMatch(/hello/i);
    expect(eventsOf(record, 'carrier.status').map((s) => s.status)).toEqual(
      expect.arrayContaining(['ringing', 'in-progress', 'completed']),
    );
    // The persona saw our X- header on the INVITE.
    const emulator = server.sandbox?.emulator<SipCalleeEmulator>('sip');
    expect(emulator?.calls.get(record.carrierCallId as string)?.headers).toEqual({ 'X-Campaign': 'spring' });
  }, 120_000);

  it('a busy persona answers 486: the record is busy with the SIP code', async () => {
    const { server } = await start();
    const busy = await postJson(`${server.url}/calls`, { carrier: 'sip', to: 'sip:busy@sandbox' });
    const busyRecord = await waitForCallEnd(server.url, busy.json.id as string);
    expect(busyRecord).toMatchObject({ status: 'busy' });
    expect(eventsOf(busyRecord, 'carrier.status').at(-1)).toMatchObject({ status: 'busy', carrierStatus: '486' });
    expect(busyRecord.turns).toEqual([]);
  });

  it('refuses headers that are not one-line X- headers with 400, before anything is dialled', async () => {
    const { server } = await start();
    const badHeader = await postJson(`${server.url}/calls`, { carrier: 'sip', to: 'sip:cooperative@sandbox', headers: { Via: 'x' } });
    expect(badHeader.status).toBe(400);
    const badValue = await postJson(`${server.url}/calls`, {
      carrier: 'sip',
      to: 'sip:cooperative@sandbox',
      headers: { 'X-A': 'a\r\nVia: b' },
    });
    expect(badValue.status).toBe(400);
    const list = await getJson<{ calls: CallRecord[] }>(`${server.url}/calls`);
    expect(list.calls).toEqual([]);
  });

  it('an inbound INVITE (sipp) runs the routed agent, the bot speaks first, X- headers land in metadata, the BYE ends the record', async () => {
    const support = defineAgent({
      name: 'support',
      systemPrompt: 'You answer the support line.',
      greeting: 'Support line, how can I help?',
    });
    const { server, target } = await start({ SIP_AGENT_ROUTES: 'service=support' }, { agents: [appointmentReminderAgent, support] });
    const run = await runSipp({ scenario: 'basic-call.xml', target });
    expect(run.exitCode, run.errors || run.stdout.slice(-2000)).toBe(0);
    const list = await getJson<{ calls: Array<{ id: string }> }>(`${server.url}/calls`);
    expect(list.calls).toHaveLength(1);
    const record = await waitForCallEnd(server.url, list.calls[0]?.id as string);
    expect(record).toMatchObject({ carrier: 'sip', direction: 'inbound', status: 'completed', agent: 'support' });
    expect(record.metadata).toMatchObject({ 'X-Customer-ID': 'c-42', 'X-Campaign': 'spring' });
    expect(record.from).toMatch(/^sip:sipp@127\.0\.0\.1/);
    expect(record.endReason).toMatch(/BYE/);
    expect(record.carrierCallId).toBeTruthy();
    // The bot spoke first (1.5 s call: the greeting was under way, cut by the hang-up).
    expect(record.turns[0]).toMatchObject({ role: 'assistant' });
    expect(record.turns[0]?.text).toMatch(/Support line/);
    expect(eventsOf(record, 'carrier.status').at(-1)).toMatchObject({ status: 'completed', carrierStatus: 'BYE' });
  });

  it('bad inbound input: no common codec gets 488, a disallowed source 403; no record is created or left open', async () => {
    const { server, target } = await start();
    const noCodec = await runSipp({ scenario: 'no-common-codec.xml', target });
    expect(noCodec.exitCode, noCodec.errors || noCodec.stdout.slice(-2000)).toBe(0);
    expect((await getJson<{ calls: CallRecord[] }>(`${server.url}/calls`)).calls).toEqual([]);
    // The next good call is answered and recorded as usual.
    const good = await runSipp({ scenario: 'basic-call.xml', target });
    expect(good.exitCode, good.errors || good.stdout.slice(-2000)).toBe(0);
    const list = await getJson<{ calls: CallRecord[] }>(`${server.url}/calls`);
    expect(list.calls).toHaveLength(1);
    expect((await waitForCallEnd(server.url, list.calls[0]?.id as string)).status).toBe('completed');
    await server.close();

    const restricted = await start({ SIP_ALLOWED_SOURCES: '10.255.0.0/16', SWITCHBOARD_SANDBOX: 'on' });
    const forbidden = await runSipp({ scenario: 'forbidden.xml', target: restricted.target });
    expect(forbidden.exitCode, forbidden.errors || forbidden.stdout.slice(-2000)).toBe(0);
    expect((await getJson<{ calls: CallRecord[] }>(`${restricted.server.url}/calls`)).calls).toEqual([]);
  });

  it('POST /calls/:id/transfer sends REFER; the NOTIFY outcome is in the record and the call ends transferred', async () => {
    const { server } = await start();
    const sippPort = await freeUdpPort();
    let placedId = '';
    const sipp = runSipp({
      scenario: 'uas-refer.xml',
      port: sippPort,
      timeoutMs: 30_000,
      onStarted: () => {
        void postJson(`${server.url}/calls`, { carrier: 'sip', to: `sip:service@127.0.0.1:${sippPort}` }).then(
          (r) => (placedId = r.json.id as string),
        );
      },
    });
    const deadline = Date.now() + 10_000;
    while (!placedId && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await waitForStatus(server.url, placedId, 'in-progress');
    const transfer = await postJson(`${server.url}/calls/${placedId}/transfer`, { to: 'sip:agent@example.com' });
    expect(transfer.status).toBe(200);
    expect(transfer.json).toMatchObject({ ok: true, status: '200' });
    const run = await sipp;
    expect(run.exitCode, run.errors || run.stdout.slice(-2000)).toBe(0); // it got our BYE after the final NOTIFY
    const record = await waitForCallEnd(server.url, placedId);
    expect(record).toMatchObject({
      status: 'completed',
      endReason: 'transferred',
      transfer: { kind: 'cold', destination: 'sip:agent@example.com', status: 'transferred', carrierResult: { status: '200' } },
    });
    expect(eventsOf(record, 'carrier.transfer')).toEqual([{ destination: 'sip:agent@example.com', ok: true, status: '200', reason: 'OK' }]);
  });
});
