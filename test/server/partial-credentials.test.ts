/**
 * Sandbox mode cannot surprise production: with credentials for one carrier only, nothing is emulated, and a
 * carrier or provider without credentials is unavailable with a reason naming the missing variable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSwitchboard } from '../../src/server/start.ts';
import { postJson, startTestServer } from './helpers.ts';

let server: RunningSwitchboard;

beforeAll(async () => {
  server = await startTestServer({
    TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`,
    TWILIO_AUTH_TOKEN: 'token',
    TWILIO_PHONE_NUMBER: '+15550009999',
  });
});

afterAll(async () => {
  await server?.close();
});

describe('starting with only Twilio credentials', () => {
  it('starts no emulator and reports what is live and what is unavailable', () => {
    expect(server.sandbox).toBeUndefined();
    expect(server.status.carriers).toEqual([
      { name: 'twilio', mode: 'live', missing: [] },
      { name: 'plivo', mode: 'unavailable', missing: ['PLIVO_AUTH_ID', 'PLIVO_AUTH_TOKEN'] },
      { name: 'sip', mode: 'live', missing: [] }, // needs no account: the endpoint runs in every server
      { name: 'daily', mode: 'unavailable', missing: ['DAILY_API_KEY'] },
    ]);
    expect(server.status.providers.map((p) => [p.kind, p.mode, p.missing])).toEqual([
      ['stt', 'unavailable', 'DEEPGRAM_API_KEY'],
      ['llm', 'unavailable', 'GOOGLE_API_KEY'],
      ['tts', 'unavailable', 'CARTESIA_API_KEY'],
    ]);
  });

  it('POST /start (Plivo) gets a 503 naming PLIVO_AUTH_ID', async () => {
    const response = await postJson(`${server.url}/start`, { phone_number: '+15550100001', body: {} });
    expect(response.status).toBe(503);
    expect(response.json).toMatchObject({ error: 'carrier_unavailable', carrier: 'plivo' });
    expect(String(response.json.message)).toContain('PLIVO_AUTH_ID');
  });

  it('Plivo webhooks answer 503 too, and nothing reaches an emulator', async () => {
    const response = await fetch(`${server.url}/plivo/status`, { method: 'POST', body: new URLSearchParams({ CallUUID: 'x' }) });
    expect(response.status).toBe(503);
  });

  it('a Twilio call is refused before dialling because no provider has credentials', async () => {
    const response = await postJson(`${server.url}/calls`, { to: '+15550100001', carrier: 'twilio' });
    expect(response.status).toBe(503);
    expect(response.json).toMatchObject({ error: 'provider_unavailable' });
    expect(String(response.json.message)).toContain('DEEPGRAM_API_KEY');
    expect((await (await fetch(`${server.url}/calls`)).json()) as { calls: unknown[] }).toMatchObject({ calls: [] });
  });
});
