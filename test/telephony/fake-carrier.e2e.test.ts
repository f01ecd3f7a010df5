/**
 * A carrier is one folder plus one registry line: the made-up "Toy" carrier (test/fixtures/toy-carrier, its own
 * REST API, webhooks, media-socket protocol and emulator) goes through the real server — routes, media socket
 * recognition, agent session, status callbacks, sandbox — without any change outside its folder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinCarriers } from '../../src/telephony/registry.ts';
import type { RunningSwitchboard } from '../../src/server/start.ts';
import { toyCarrier } from '../fixtures/toy-carrier/index.ts';
import type { ToyEmulator } from '../fixtures/toy-carrier/emulator.ts';
import { postJson, startTestServer, waitForCallEnd } from '../server/helpers.ts';

let server: RunningSwitchboard;

beforeAll(async () => {
  // The one "registry line": the built-in list plus the new adapter.
  server = await startTestServer({}, { carriers: [...builtinCarriers, toyCarrier] });
});

afterAll(async () => {
  await server?.close();
});

describe('a carrier added as one folder', () => {
  it('places a sandbox call on it that ends completed, with turns from both sides', { timeout: 90_000 }, async () => {
    expect(server.status.carriers.find((c) => c.name === 'toy')).toMatchObject({ mode: 'emulated' });
    const placed = await postJson(`${server.url}/calls`, { to: '+15550100001', carrier: 'toy' });
    expect(placed.status).toBe(201);
    expect(placed.json).toMatchObject({ carrier: 'toy' });
    const record = await waitForCallEnd(server.url, placed.json.id as string);
    expect(record.status).toBe('completed');
    expect(record.carrier).toBe('toy');
    expect(record.turns.some((t) => t.role === 'user')).toBe(true);
    expect(record.turns.some((t) => t.role === 'assistant' && (t.heard ?? '').length > 0)).toBe(true);
    const emulated = server.sandbox!.emulator<ToyEmulator>('toy')!.calls.get(record.carrierCallId!)!;
    // Playback truth went through the Toy protocol: the emulator played marks our server placed.
    expect(emulated.marksPlayed.length).toBeGreaterThan(0);
    expect(record.events.some((e) => e.type === 'media.connected')).toBe(true);
  });

  it('refuses a forged Toy webhook with 403', async () => {
    const response = await postJson(`${server.url}/toy/status`, { sid: 'x', status: 'done' }, { 'x-toy-signature': 'forged' });
    expect(response.status).toBe(403);
  });
});
