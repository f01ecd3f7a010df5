/**
 * Property-based fuzzing of the media WebSocket through the public surface (issue 10): hostile carrier sockets,
 * each with a valid token, send a start (well-formed or broken) and then broken carrier messages of every kind,
 * while one healthy call streams next to them.
 * Properties: no error escapes (the process sees no uncaught exception), the server never answers 5xx, each
 * hostile socket is either closed with a reason or has every message it sent accounted for (an audio frame, an
 * event acted on, or a drop with a counted reason), and the healthy call receives every one of its frames.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSwitchboard } from '../../src/server/start.ts';
import {
  answerInbound,
  mediaMessage,
  openSocket,
  sleep,
  startMessages,
  stopMessage,
  waitForRecord,
  type Carrier,
} from '../server/carrier-socket.ts';
import { startTestServer } from '../server/helpers.ts';
import { parsePlivoMediaMessage } from '../../src/telephony/plivo/media-serializer.ts';
import { parseTwilioMediaMessage } from '../../src/telephony/twilio/media-serializer.ts';
import fc from 'fast-check';
import { brokenMessage } from './arbitraries.ts';
import { Rng } from './seeded.ts';
import { KINDS, TEMPLATES } from './templates.ts';

const SOCKETS = Number(process.env.FUZZ_SOCKETS ?? 24);
const MESSAGES = Number(process.env.FUZZ_MESSAGES ?? 60);
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const HEALTHY_FRAMES = 250; // 5 s of 20 ms frames
const PARSERS = { twilio: parseTwilioMediaMessage, plivo: parsePlivoMediaMessage };

let server: RunningSwitchboard & { dataDir: string };
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  server = await startTestServer({}, { media: { startMessageTimeoutMs: 1000 } });
});

afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
  await server?.close();
});

interface InboundStats {
  frames: number;
  events: number;
  dropped: Record<string, number>;
}

function mediaEnded(record: { events: Array<{ type: string; data: unknown }> }): InboundStats | undefined {
  const ended = record.events.find((e) => e.type === 'media.ended');
  return (ended?.data as { inbound?: InboundStats } | undefined)?.inbound;
}

const isFinal = (status: string) => ['completed', 'busy', 'no-answer', 'failed', 'canceled'].includes(status);

/** One hostile socket: returns what happened to it. */
async function hostile(
  rng: Rng,
  carrier: Carrier,
): Promise<{ refused: boolean; closedWithReason: boolean; sent: number; counted: number }> {
  const call = await answerInbound(server, carrier);
  const { socket, closed } = await openSocket(call.streamUrl);
  let closeInfo: { code: number; reason: string } | undefined;
  void closed.then((info) => (closeInfo = info));
  // Half the sockets start properly (so their garbage reaches the live channel), half send a broken start.
  const start = startMessages(carrier, call.carrierCallId);
  if (rng.bool(0.5)) for (const message of start) socket.send(message);
  else {
    const template = JSON.parse(start[start.length - 1] as string) as Record<string, unknown>;
    socket.send(fc.sample(brokenMessage(template), { seed: rng.int(0, 2 ** 31), numRuns: 1 })[0] as string);
  }
  const verdict = await waitForRecord(
    server,
    call.callId,
    (r) => r.events.some((e) => e.type === 'media.connected' || e.type === 'media.rejected'),
    10_000,
  );
  if (verdict.events.some((e) => e.type === 'media.rejected')) {
    await Promise.race([closed, sleep(3000)]);
    socket.terminate();
    return { refused: true, closedWithReason: closeInfo?.code === 1008 && (closeInfo?.reason.length ?? 0) > 0, sent: 0, counted: 0 };
  }
  let sent = 0;
  let stopped = false;
  const anyMessage = fc.oneof(...KINDS.filter((k) => k !== 'stop').map((kind) => brokenMessage(TEMPLATES[carrier][kind])));
  const texts = fc.sample(anyMessage, { seed: rng.int(0, 2 ** 31), numRuns: MESSAGES });
  for (let i = 0; i < MESSAGES; i++) {
    const binary = rng.bool(0.1);
    const text = binary ? Buffer.from(rng.bool() ? [0xff, 0x00] : []) : (texts[i] as string);
    socket.send(text, { binary });
    // A broken message can still be a real stop, which ends the stream: the ones after it are never read.
    if (!binary && PARSERS[carrier](text as string).type === 'stop') {
      stopped = true;
      break;
    }
    sent++;
    if (i % 10 === 0) await sleep(5);
  }
  if (!stopped) socket.send(stopMessage(carrier, call.carrierCallId));
  const record = await waitForRecord(server, call.callId, (r) => isFinal(r.status), 20_000);
  socket.terminate();
  const stats = mediaEnded(record);
  const counted = stats ? stats.frames + stats.events + Object.values(stats.dropped).reduce((a, b) => a + b, 0) : -1;
  return { refused: false, closedWithReason: false, sent, counted };
}

describe('media sockets under fuzzing', () => {
  it(
    'hostile sockets are closed with a reason or fully accounted for; a healthy call keeps every frame',
    { timeout: 240_000 },
    async () => {
      const rng = new Rng(SEED);
      const healthyCall = await answerInbound(server, 'twilio');
      const healthy = await openSocket(healthyCall.streamUrl);
      for (const message of startMessages('twilio', healthyCall.carrierCallId)) healthy.socket.send(message);
      const healthySending = (async () => {
        for (let n = 0; n < HEALTHY_FRAMES; n++) {
          healthy.socket.send(mediaMessage('twilio', healthyCall.carrierCallId, n));
          await sleep(20);
        }
        healthy.socket.send(stopMessage('twilio', healthyCall.carrierCallId));
      })();

      const statuses: number[] = [];
      const polling = (async () => {
        for (let i = 0; i < 40; i++) {
          statuses.push((await fetch(`${server.url}/healthz`)).status);
          await sleep(100);
        }
      })();

      const results = [];
      for (let batch = 0; batch < SOCKETS; batch += 6) {
        results.push(
          ...(await Promise.all(
            Array.from({ length: Math.min(6, SOCKETS - batch) }, (_, i) =>
              hostile(new Rng(rng.int(0, 2 ** 31)), (batch + i) % 2 ? 'plivo' : 'twilio'),
            ),
          )),
        );
      }
      await Promise.all([healthySending, polling]);
      const healthyRecord = await waitForRecord(server, healthyCall.callId, (r) => isFinal(r.status), 20_000);
      healthy.socket.terminate();

      const sent = results.reduce((a, r) => a + r.sent, 0);
      const counted = results.reduce((a, r) => a + Math.max(0, r.counted), 0);
      console.info(
        `media-socket fuzz (seed ${SEED}): ${results.length} hostile sockets, ${sent} fuzzed messages; ` +
          `${results.filter((r) => r.refused).length} refused with 1008, ${results.filter((r) => !r.refused).length} ran (${counted} messages counted); ` +
          `healthy call frames ${mediaEnded(healthyRecord)?.frames}/${HEALTHY_FRAMES}; ${statuses.length} health checks`,
      );
      expect(uncaught).toEqual([]);
      expect(statuses.every((s) => s === 200)).toBe(true);
      for (const result of results) {
        if (result.refused) expect(result.closedWithReason).toBe(true);
        else expect(result.counted).toBe(result.sent);
      }
      expect(mediaEnded(healthyRecord)).toMatchObject({ frames: HEALTHY_FRAMES, dropped: {} });
    },
  );
});
