/**
 * Provider failures during a call: the call ends cleanly with a record that says what happened, the carrier
 * leg is hung up, and the server keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSwitchboard } from '../../src/server/start.ts';
import { postJson, startTestServer, waitForCallEnd } from './helpers.ts';
import { DeepgramSttService } from '../../src/services/stt/deepgram.ts';
import type { TwilioEmulator } from '../../src/telephony/twilio/emulator/index.ts';

let server: RunningSwitchboard;

beforeAll(async () => {
  // Deepgram given in code but unreachable: nothing listens on port 9 (discard) of loopback. The rest is emulated.
  server = await startTestServer({}, { stt: new DeepgramSttService({ apiKey: 'dg-key', baseUrl: 'ws://127.0.0.1:9' }) });
});

afterAll(async () => {
  await server?.close();
});

describe('provider failure during a call', () => {
  it('STT unreachable: the call fails with the reason, the carrier leg is hung up, the server stays up', { timeout: 60_000 }, async () => {
    const placed = await postJson(`${server.url}/calls`, { to: '+15550100001', carrier: 'twilio' });
    expect(placed.status).toBe(201);
    const record = await waitForCallEnd(server.url, placed.json.id as string, 50_000);
    expect(record.status).toBe('failed');
    expect(record.error).toMatchObject({ code: 'pipeline_failed' });
    expect(JSON.stringify(record.error)).toMatch(/deepgram/i);
    const errors = record.events.filter((e) => e.type === 'error').map((e) => e.data);
    expect(errors.at(-1)).toMatchObject({ processor: 'SttProcessor', fatal: true });
    expect(record.events.some((e) => e.type === 'carrier.hangup')).toBe(true);
    const emulated = server.sandbox!.emulator<TwilioEmulator>('twilio')!.calls.get(record.carrierCallId!)!;
    await server.sandbox!.emulator<TwilioEmulator>('twilio')!.waitForCall(emulated.id, 'completed', 10_000);
    expect((await fetch(`${server.url}/healthz`)).ok).toBe(true);
  });
});
