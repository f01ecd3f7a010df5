/**
 * The carriers' own answering-machine detection: an agent with voicemail handling asks for it when it places a
 * call, the carrier's verdict (Twilio async AMD, Plivo machine_detection) reaches the record and the live agent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSwitchboard } from '../../src/server/start.ts';
import { postJson, startTestServer, waitForCallEnd } from './helpers.ts';

let server: RunningSwitchboard;

beforeAll(async () => {
  server = await startTestServer();
  server.sandbox!.personas.register('+15557770101', {
    id: 'voicemail-box',
    answeringMachine: true,
    steps: [{ say: "Hi, you've reached Dana. I can't take your call right now, please leave a message after the tone." }],
    afterSteps: 'stay',
    maxCallMs: 40_000,
  });
});

afterAll(async () => {
  await server?.close();
});

function event(record: { events: Array<{ type: string; data: unknown }> }, type: string): Record<string, unknown> | undefined {
  return record.events.find((e) => e.type === type)?.data as Record<string, unknown> | undefined;
}

describe.concurrent('carrier machine detection', () => {
  for (const carrier of ['twilio', 'plivo']) {
    it(`${carrier}: a person is reported human by the carrier`, { timeout: 90_000 }, async () => {
      const placed = await postJson(`${server.url}/calls`, { to: '+15550100001', carrier });
      const record = await waitForCallEnd(server.url, placed.json.id as string);
      expect(record.status).toBe('completed');
      expect(event(record, 'carrier.answered-by')).toMatchObject({ answeredBy: 'human' });
      expect(record.answeredBy).toMatchObject({
        answeredBy: 'human',
        how: expect.any(String) as string,
        decidedAfterMs: expect.any(Number) as number,
      });
    });
  }

  it('twilio: a voicemail box is reported machine, and the agent treats the call as voicemail', { timeout: 90_000 }, async () => {
    const placed = await postJson(`${server.url}/calls`, { to: '+15557770101', carrier: 'twilio' });
    const record = await waitForCallEnd(server.url, placed.json.id as string);
    // The verdict reaches the agent whether it comes before the media starts (held until then) or after.
    expect(event(record, 'carrier.answered-by')).toMatchObject({ answeredBy: 'machine', detail: 'machine_start' });
    expect(['live', 'held']).toContain((event(record, 'carrier.answered-by') as { agent: string }).agent);
    expect(event(record, 'answered-by')).toMatchObject({ answeredBy: 'machine' });
    expect(record.answeredBy).toMatchObject({ answeredBy: 'machine' });
  });
});
