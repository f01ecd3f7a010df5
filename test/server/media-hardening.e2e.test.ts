/**
 * Issue 10: one bad media socket must never freeze the server, and no call stays in progress. Each `describe` is
 * one numbered defect, driven through the public surface (signed answer webhooks, the media WebSocket, the call
 * API) with short media time limits so the bounded waits are quick to observe.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/log.ts';
import { startSwitchboard } from '../../src/server/start.ts';
import type { RunningSwitchboard } from '../../src/server/start.ts';
import { CallStore } from '../../src/store/index.ts';
import {
  answerInbound,
  getCall,
  mediaMessage,
  openSocket,
  sleep,
  startMessages,
  upgradeStatus,
  waitForRecord,
  type Carrier,
} from './carrier-socket.ts';
import { postJson, startTestServer } from './helpers.ts';

const MEDIA = {
  mediaStartTimeoutMs: 3000,
  startMessageTimeoutMs: 1500,
  watchdog: { pingIntervalMs: 500, inboundTimeoutMs: 1500 },
  shutdownHangUpTimeoutMs: 3000,
};

let server: RunningSwitchboard & { dataDir: string };

beforeAll(async () => {
  server = await startTestServer({}, { media: MEDIA });
});

afterAll(async () => {
  await server?.close();
});

const isFinal = (status: string) => ['completed', 'busy', 'no-answer', 'failed', 'canceled'].includes(status);

async function healthy(): Promise<boolean> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 3000);
  try {
    return (await fetch(`${server.url}/healthz`, { signal: controller.signal })).ok;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

describe('defect 1: start messages are checked against the supported formats', () => {
  const bad: Array<[Carrier, unknown]> = [
    ['twilio', { encoding: 'audio/x-mulaw', sampleRate: 1, channels: 1 }],
    ['twilio', { encoding: 'audio/x-mulaw', sampleRate: 0, channels: 1 }],
    ['twilio', { encoding: 'audio/x-mulaw', sampleRate: -8000, channels: 1 }],
    ['twilio', { encoding: 'audio/x-mulaw', sampleRate: 7919, channels: 1 }],
    ['twilio', { encoding: 'audio/x-mulaw', sampleRate: 1e9, channels: 1 }],
    ['twilio', { encoding: 'audio/x-mulaw', sampleRate: 8000.5, channels: 1 }],
    ['twilio', { encoding: 'audio/x-mulaw', sampleRate: 1e12, channels: 1 }],
    ['plivo', { encoding: 'audio/x-l16', sampleRate: 3 }],
    ['plivo', { encoding: 'audio/x-l16', sampleRate: 7919 }],
    ['plivo', { encoding: 'audio/x-mulaw', sampleRate: 1e12 }],
    ['plivo', { encoding: 'audio/x-opus', sampleRate: 8000 }],
  ];
  for (const [carrier, mediaFormat] of bad) {
    it(`${carrier} ${JSON.stringify(mediaFormat)}: close 1008 with the reason, call failed with it, server healthy`, async () => {
      const call = await answerInbound(server, carrier);
      const { socket, closed } = await openSocket(call.streamUrl);
      for (const message of startMessages(carrier, call.carrierCallId, mediaFormat)) socket.send(message);
      for (let n = 0; n < 5; n++) socket.send(mediaMessage(carrier, call.carrierCallId, n));
      const close = await Promise.race([closed, sleep(5000).then(() => ({ code: -1, reason: 'still open after 5 s' }))]);
      socket.terminate();
      expect(close.code).toBe(1008);
      expect(close.reason).toMatch(/^unsupported (format|encoding)/);
      expect(close.reason).toMatch(/supported: audio\/x-mulaw 8000 Hz/);
      const record = await waitForRecord(server, call.callId, (r) => isFinal(r.status), 5000);
      expect(record.status).toBe('failed');
      expect(record.endReason).toBe(close.reason);
      expect(record.error).toMatchObject({ code: 'media_failed' });
      // No per-frame errors: nothing but the refusal was recorded for the stream.
      expect(record.events.filter((e) => e.type === 'error')).toHaveLength(0);
      expect(await healthy()).toBe(true);
    });
  }

  it('Plivo µ-law spelled loosely is accepted (any spelling containing "mulaw")', async () => {
    const call = await answerInbound(server, 'plivo');
    const { socket } = await openSocket(call.streamUrl);
    for (const message of startMessages('plivo', call.carrierCallId, { encoding: 'MULAW', sampleRate: 8000 })) socket.send(message);
    for (let n = 0; n < 10; n++) socket.send(mediaMessage('plivo', call.carrierCallId, n));
    const record = await waitForRecord(server, call.callId, (r) => r.events.some((e) => e.type === 'media.connected'), 5000);
    expect(record.status).toBe('in-progress');
    socket.terminate();
  });
});

describe('defect 2: one media socket per call, for the call the token was issued for', () => {
  it('two sockets opened at the same moment with one token: exactly one gets in, the other gets 403', async () => {
    const call = await answerInbound(server, 'twilio');
    const statuses = await Promise.all([upgradeStatus(call.streamUrl), upgradeStatus(call.streamUrl), upgradeStatus(call.streamUrl)]);
    expect(statuses.filter((s) => s === 101)).toHaveLength(1);
    expect(statuses.filter((s) => s === 403)).toHaveLength(2);
  });

  it('a start message naming another carrier call id than the token’s call: close 1008, call failed', async () => {
    const call = await answerInbound(server, 'twilio');
    const { socket, closed } = await openSocket(call.streamUrl);
    for (const message of startMessages('twilio', `CA${'9'.repeat(32)}`)) socket.send(message);
    const close = await Promise.race([closed, sleep(5000).then(() => ({ code: -1, reason: 'still open' }))]);
    socket.terminate();
    expect(close).toMatchObject({ code: 1008, reason: expect.stringMatching(/carrier call id mismatch/) });
    const record = await waitForRecord(server, call.callId, (r) => isFinal(r.status), 5000);
    expect(record).toMatchObject({ status: 'failed', endReason: expect.stringMatching(/carrier call id mismatch/) });
  });
});

describe('defect 4: a vanished peer is noticed', () => {
  it('a stream that stops sending audio (no FIN, no data) ends failed with "media lost" within the watchdog limit', async () => {
    const call = await answerInbound(server, 'twilio');
    const { socket } = await openSocket(call.streamUrl);
    for (const message of startMessages('twilio', call.carrierCallId)) socket.send(message);
    for (let n = 0; n < 10; n++) socket.send(mediaMessage('twilio', call.carrierCallId, n));
    await waitForRecord(server, call.callId, (r) => r.events.some((e) => e.type === 'media.connected'), 5000);
    // Go silent without closing: the socket stays open, the peer just stops.
    const startedAt = Date.now();
    const record = await waitForRecord(server, call.callId, (r) => isFinal(r.status), 15_000);
    socket.terminate();
    expect(record.status).toBe('failed');
    expect(record.endReason).toMatch(/media lost/);
    expect(record.error).toMatchObject({ code: 'media_lost' });
    expect(Date.now() - startedAt).toBeLessThan(12_000); // not the 600 s maximum duration
  });
});

describe('defect 5: calls whose media never starts end, bounded', () => {
  it('answer markup served, no socket ever connects: failed with a reason, carrier leg hang-up tried', async () => {
    const call = await answerInbound(server, 'plivo');
    const record = await waitForRecord(server, call.callId, (r) => isFinal(r.status), 15_000);
    expect(record).toMatchObject({ status: 'failed', endReason: expect.stringMatching(/media never started/) });
    await waitForRecord(server, call.callId, (r) => r.events.some((e) => e.type.startsWith('carrier.hangup')), 5000);
  });

  it('socket connects but never sends a start message: closed 1008, call failed', async () => {
    const call = await answerInbound(server, 'twilio');
    const { socket, closed } = await openSocket(call.streamUrl);
    const close = await Promise.race([closed, sleep(10_000).then(() => ({ code: -1, reason: 'still open' }))]);
    socket.terminate();
    expect(close.code).toBe(1008);
    const record = await waitForRecord(server, call.callId, (r) => isFinal(r.status), 5000);
    expect(record).toMatchObject({ status: 'failed', endReason: expect.stringMatching(/start message/) });
  });

  it('a start message from the wrong carrier: closed 1008, call failed', async () => {
    const call = await answerInbound(server, 'twilio');
    const { socket, closed } = await openSocket(call.streamUrl);
    for (const message of startMessages('plivo', call.carrierCallId)) socket.send(message);
    const close = await Promise.race([closed, sleep(5000).then(() => ({ code: -1, reason: 'still open' }))]);
    socket.terminate();
    expect(close).toMatchObject({ code: 1008, reason: expect.stringMatching(/carrier mismatch/) });
    const record = await waitForRecord(server, call.callId, (r) => isFinal(r.status), 5000);
    expect(record.status).toBe('failed');
  });
});

describe('defect 9: shutdown finalises ringing calls', () => {
  it('a call still ringing at shutdown is hung up and ends canceled with a reason', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-shutdown-'));
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', SWITCHBOARD_DATA_DIR: dataDir });
    const own = await startSwitchboard({
      config,
      log: silentLogger(),
      sandboxTiming: 'instant',
      sandboxTimeScale: 0.1,
      media: MEDIA,
    });
    let closed = false;
    try {
      // The no-answer persona rings until the carrier's timeout.
      const placed = await postJson(`${own.url}/calls`, { to: '+15550100004', carrier: 'twilio' });
      expect(placed.status).toBe(201);
      const id = placed.json.id as string;
      await waitForRecord(own, id, (r) => r.status === 'ringing', 10_000);
      await own.close(); // what SIGTERM runs (src/cli/serve.ts)
      closed = true;
      const store = CallStore.open({ dataDir });
      try {
        const record = store.getCall(id);
        expect(record).toMatchObject({ status: 'canceled', endReason: 'server shutting down' });
        expect(record?.events.map((e) => e.type)).toContain('carrier.hangup');
      } finally {
        store.close();
      }
    } finally {
      if (!closed) await own.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('a healthy call next to all of this', () => {
  it('the server still answers and takes calls', async () => {
    expect(await healthy()).toBe(true);
    const call = await answerInbound(server, 'twilio');
    expect((await getCall(server, call.callId)).status).toBe('in-progress');
  });
});
