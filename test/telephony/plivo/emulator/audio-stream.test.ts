import plivo from 'plivo';
import { afterEach, describe, expect, it } from 'vitest';
import { mulawDecode } from '../../../../src/audio/g711.ts';
import type { MediaConnection } from '../../../sandbox/carriers/fake-agent-server.ts';
import { botMulaw, startPlivoRig, streamXml, type PlivoRig } from './helpers.ts';

let rig: PlivoRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

type Msg = Record<string, unknown>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const arrival = (conn: MediaConnection, predicate: (m: Msg) => boolean) => conn.messages.find((m) => predicate(m.message))?.at;

async function streamingCall(to = '15550100005', attributes?: string) {
  rig ??= await startPlivoRig();
  const { agent, emulator, client } = rig;
  agent.respond('/answer', () => ({ body: streamXml(agent, attributes) }));
  const { requestUuid } = await client.calls.create('15550009999', to, `${agent.url}/answer`);
  const call = await emulator.waitForRequest(requestUuid);
  const conn = await agent.nextConnection();
  const start = await conn.next((m) => m.event === 'start');
  const streamId = (start.start as { streamId: string }).streamId;
  return { call, conn, start, streamId };
}

describe('Plivo emulator audio stream', () => {
  it('connects with signed headers (query kept) and sends start first, with numeric sequence numbers', async () => {
    const { call, conn, start, streamId } = await streamingCall();
    expect(conn.path).toBe('/media?call=c123');
    const url = `${rig?.agent.url}/media?call=c123`;
    const h = conn.headers;
    expect(
      plivo.validateV3Signature(
        'GET',
        url,
        h['x-plivo-signature-v3-nonce'] as string,
        rig?.emulator.authToken as string,
        h['x-plivo-signature-v3'] as string,
        {},
      ),
    ).toBe(true);
    expect(conn.messages[0]?.message.event).toBe('start');
    expect(start).toEqual({
      event: 'start',
      sequenceNumber: 1,
      start: {
        callId: call.id,
        streamId,
        accountId: rig?.emulator.authId,
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 },
      },
      extra_headers: 'callId=c123;agent=bot1',
    });
  });

  it('sends a media message every 20 ms: chunk a number, timestamp epoch-ms as a string', async () => {
    const { conn, streamId } = await streamingCall();
    await sleep(1050);
    const media = conn.messages.filter((m) => m.message.event === 'media');
    const first = media[0]?.at ?? 0;
    const window = media.filter((m) => m.at >= first + 20 && m.at < first + 1020);
    expect(window.length).toBeGreaterThanOrEqual(45);
    expect(window.length).toBeLessThanOrEqual(55);
    const m = media[0]?.message as { sequenceNumber: number; streamId: string; media: Record<string, unknown>; extra_headers: string };
    expect(m.sequenceNumber).toBe(2);
    expect(m.streamId).toBe(streamId);
    expect(m.media.chunk).toBe(1);
    expect(m.media.track).toBe('inbound');
    expect(typeof m.media.timestamp).toBe('string');
    expect(Math.abs(Number(m.media.timestamp) - Date.now())).toBeLessThan(5000);
    expect(Buffer.from(m.media.payload as string, 'base64').length).toBe(160);
    expect(m.extra_headers).toBe('callId=c123;agent=bot1');
  });

  it.each([
    ['audio/x-l16;rate=8000', 'audio/x-l16', 8000, 320],
    ['audio/x-l16;rate=16000', 'audio/x-l16', 16000, 640],
  ])('streams %s as little-endian 16-bit PCM', async (contentType, encoding, sampleRate, bytes) => {
    rig = await startPlivoRig();
    rig.emulator.personas.register('+15550199990', { id: 'talker', answerDelayMs: 0, steps: [{ say: 'hello there' }] });
    const { conn, start } = await streamingCall('15550199990', `bidirectional="true" keepCallAlive="true" contentType="${contentType}"`);
    expect((start.start as { mediaFormat: unknown }).mediaFormat).toEqual({ encoding, sampleRate });
    await sleep(600);
    const payloads = conn.messages
      .filter((m) => m.message.event === 'media')
      .map((m) => Buffer.from((m.message.media as { payload: string }).payload, 'base64'));
    expect(payloads.every((p) => p.length === bytes)).toBe(true);
    const peak = Math.max(
      ...payloads.map((p) => Math.max(...Array.from({ length: p.length / 2 }, (_, i) => Math.abs(p.readInt16LE(i * 2))))),
    );
    expect(peak).toBeGreaterThan(5000); // the callee's tone voice, decoded, not silence or byte noise
  });

  it('answers a checkpoint with playedStream once the audio before it has played', async () => {
    const { call, conn, streamId } = await streamingCall();
    const sentAt = performance.now();
    conn.send({ event: 'playAudio', media: { contentType: 'audio/x-mulaw', sampleRate: 8000, payload: botMulaw(500) } });
    conn.send({ event: 'checkpoint', streamId, name: 'greeting' });
    const played = await conn.next((m) => m.event === 'playedStream', 3000);
    expect(played).toEqual({ event: 'playedStream', sequenceNumber: played.sequenceNumber, streamId, name: 'greeting' });
    expect(typeof played.sequenceNumber).toBe('number');
    const at = arrival(conn, (m) => m.event === 'playedStream') as number;
    expect(at - sentAt).toBeGreaterThan(490);
    expect(at - sentAt).toBeLessThan(580);
    expect(call.record.streams[0]?.marks[0]?.outcome).toBe('played');
  });

  it('converts L16 16 kHz playAudio to the 8 kHz line', async () => {
    const { call, conn } = await streamingCall();
    const pcm = Buffer.alloc(16000 * 2 * 0.2); // 200 ms at 16 kHz of a 500 Hz tone
    for (let i = 0; i < pcm.length / 2; i++) pcm.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 500 * i) / 16000) * 12000), i * 2);
    conn.send({ event: 'playAudio', media: { contentType: 'audio/x-l16', sampleRate: 16000, payload: pcm.toString('base64') } });
    await sleep(400);
    expect(call.record.streams[0]?.received.botAudioBytes).toBeGreaterThan(1550);
    expect(call.record.streams[0]?.received.botAudioBytes).toBeLessThan(1650);
    const heard = mulawDecode(call.heardTape?.mulaw() as Uint8Array);
    expect(Math.max(...heard)).toBeGreaterThan(9000);
  });

  it('clearAudio drops the queue and answers clearedAudio; pending checkpoints get no playedStream', async () => {
    const { call, conn, streamId } = await streamingCall();
    conn.send({ event: 'playAudio', media: { contentType: 'audio/x-mulaw', sampleRate: 8000, payload: botMulaw(2000) } });
    conn.send({ event: 'checkpoint', streamId, name: 'long' });
    await sleep(200);
    conn.send({ event: 'clearAudio', streamId });
    const cleared = await conn.next((m) => m.event === 'clearedAudio', 1000);
    expect(cleared).toEqual({ sequenceNumber: cleared.sequenceNumber, event: 'clearedAudio', streamId });
    await sleep(300);
    expect(conn.messages.some((m) => m.message.event === 'playedStream')).toBe(false);
    expect(call.record.streams[0]?.marks[0]).toMatchObject({ name: 'long', outcome: 'cleared', ackedAt: null });
    expect(call.record.streams[0]?.clears[0]?.droppedBytes).toBeGreaterThan(1700 * 8);
  });

  it('records sendDTMF, sends callee DTMF, and records unknown events as protocol errors', async () => {
    rig = await startPlivoRig();
    rig.emulator.personas.register('+15550199991', { id: 'presser', answerDelayMs: 0, steps: [{ pauseMs: 0 }, { press: '7' }] });
    const { call, conn, streamId } = await streamingCall('15550199991');
    const dtmf = await conn.next((m) => m.event === 'dtmf', 2000);
    expect(dtmf).toMatchObject({
      event: 'dtmf',
      streamId,
      dtmf: { track: 'inbound', digit: '7' },
      extra_headers: 'callId=c123;agent=bot1',
    });
    expect(typeof (dtmf.dtmf as { timestamp: unknown }).timestamp).toBe('string');
    conn.send({ event: 'sendDTMF', dtmf: '123' });
    conn.send({ event: 'media', media: { payload: botMulaw(20) } }); // Twilio's verb, not Plivo's
    await sleep(100);
    expect(call.record.streams[0]?.serverDtmf.map((d) => d.digits)).toEqual(['123']);
    expect(call.record.protocolErrors.map((e) => e.message)).toEqual([expect.stringMatching(/unsupported event "media"/)]);
  });

  it('ignores playAudio on a one-way stream and records it', async () => {
    const { call, conn } = await streamingCall('15550100005', 'keepCallAlive="true" contentType="audio/x-mulaw;rate=8000"');
    conn.send({ event: 'playAudio', media: { contentType: 'audio/x-mulaw', sampleRate: 8000, payload: botMulaw(100) } });
    await sleep(100);
    expect(call.record.protocolErrors[0]?.message).toMatch(/one-way/);
    expect(call.record.streams[0]?.received.botAudioBytes).toBe(0);
  });

  it('closes the socket when the call is hung up (no stop message by default)', async () => {
    const { call, conn } = await streamingCall();
    await rig?.client.calls.hangup(call.id);
    expect(await conn.closed).toBe(1000);
    expect(conn.messages.some((m) => m.message.event === 'stop')).toBe(false);
    expect(call.status).toBe('completed');
  });
});
