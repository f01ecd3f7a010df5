/**
 * Daily dial-out when the callee's first words come before the agent: the emulator holds its `dialout.*` webhooks
 * for 4 s (a slow internet path, or a busy server), so the callee's "Hello?" — said the instant they answer — is
 * over before our `dialout.answered` arrives and the agent's session attaches to the bot's SIP leg. The bot's leg
 * and the pipeline's head keep that audio, so the bot still hears "Hello?" and answers it instead of opening on its
 * wait's timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSwitchboard } from '../../../src/server/start.ts';
import type { CalleeRecord } from '../../../src/sandbox/callees/simulated-callee.ts';
import type { DailyEmulator } from '../../../src/telephony/daily/emulator/index.ts';
import { postJson, startTestServer, waitForCallEnd } from '../../server/helpers.ts';

const CALLEE = '+15550109901';
const EVENT_DELAY_MS = 4000;

let server: RunningSwitchboard;
let daily: DailyEmulator;

beforeAll(async () => {
  server = await startTestServer();
  daily = server.sandbox!.emulator<DailyEmulator>('daily')!;
  daily.eventDelayMs = EVENT_DELAY_MS;
  daily.personas.register(CALLEE, {
    id: 'hello-then-hang-up',
    description: 'Says "Hello?" as it answers, hears the bot out, hangs up.',
    steps: [{ say: 'Hello?' }, { waitForBotToFinish: true, timeoutMs: 30_000 }, { hangUp: true }],
  });
});

afterAll(async () => {
  await server?.close();
});

/** The simulated callee's record, once the dial-out put them in the room (the room goes when the call ends). */
async function calleeIn(roomName: string): Promise<CalleeRecord> {
  for (let i = 0; i < 300; i++) {
    const person = [...(daily.rooms.get(roomName)?.mixer.participants.values() ?? [])].find((p) => p.kind === 'person');
    if (person?.kind === 'person') return person.callee.record;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nobody answered in ${roomName}`);
}

describe('Daily dial-out: the callee speaks before the agent attaches', () => {
  it('the "Hello?" said before dialout.answered arrives is heard, and the bot answers it', { timeout: 120_000 }, async () => {
    const placed = await postJson(`${server.url}/daily/start`, {
      body: { dialout_settings: [{ phoneNumber: CALLEE }], user: { firstName: 'Grace' } },
    });
    expect(placed.status).toBe(200);
    const callee = await calleeIn(placed.json.room as string);
    const record = await waitForCallEnd(server.url, placed.json.id as string, 100_000);
    expect(record.status).toBe('completed');
    const answered = record.events.find(
      (e) => e.type === 'carrier.status' && (e.data as { carrierStatus?: string }).carrierStatus === 'dialout.answered',
    );
    expect(answered).toBeDefined();
    const [hello, reply] = record.turns;
    expect(hello).toMatchObject({ role: 'user', text: 'Hello?' });
    // The words were over before we even learnt of the answer (the webhook was held back) …
    const said = callee.said[0];
    expect(said?.text).toBe('Hello?');
    expect(said!.endAt!).toBeLessThan(new Date(answered!.at).getTime());
    // … and the bot's first turn is its answer to them.
    expect(reply?.role).toBe('assistant');
    expect(reply?.text).toContain('Grace');
    expect(new Date(reply!.startedAt).getTime()).toBeGreaterThanOrEqual(new Date(hello!.endedAt!).getTime());
    expect(record.turns.filter((t) => t.role === 'user')).toHaveLength(1);
  });
});
