import { afterEach, describe, expect, it } from 'vitest';
import { twilioSignature } from '../../../../src/telephony/twilio/emulator/index.ts';
import type { MediaConnection } from '../../../sandbox/carriers/fake-agent-server.ts';
import { botAudio, connectTwiml, startTwilioRig, type TwilioRig } from './helpers.ts';

let rig: TwilioRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

type Msg = Record<string, unknown>;

/** Starts a call to `to` whose TwiML connects a stream to the fake agent; returns the media connection after `start`. */
async function connectedCall(to = '+15550100005', options: Parameters<typeof startTwilioRig>[0] = {}, after = '') {
  rig ??= await startTwilioRig(options);
  const call = await rig.client.calls.create({ to, from: '+15550009999', twiml: connectTwiml(rig.agent, after) });
  const conn = await rig.agent.nextConnection();
  const start = await conn.next((m) => m.event === 'start');
  const emulated = rig.emulator.calls.get(call.sid);
  if (!emulated) throw new Error('call not found');
  return { call: emulated, conn, start, streamSid: (start as { streamSid: string }).streamSid };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const arrival = (conn: MediaConnection, predicate: (m: Msg) => boolean) => conn.messages.find((m) => predicate(m.message))?.at;

describe('Twilio emulator media stream', () => {
  it('connects to the stream URL without its query string, signed, and sends connected then start', async () => {
    const { call, conn, start, streamSid } = await connectedCall();
    expect(conn.path).toBe('/media');
    const wsUrl = `${rig?.agent.wsUrl}/media`;
    expect(conn.headers['x-twilio-signature']).toBe(twilioSignature(rig?.emulator.authToken as string, wsUrl, {}));
    expect(conn.messages[0]?.message).toEqual({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    expect(start).toEqual({
      event: 'start',
      sequenceNumber: '1',
      start: {
        accountSid: rig?.emulator.accountSid,
        streamSid,
        callSid: call.id,
        tracks: ['inbound'],
        customParameters: { call_id: 'c_42', from_number: '+15550009999' },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
      streamSid,
    });
    expect(streamSid).toMatch(/^MZ[0-9a-f]{32}$/);
    expect(call.record.streams[0]?.requestedUrl).toContain('?token=abc');
  });

  it('sends 20 ms media frames in real time with string counters, silence while the callee is quiet', async () => {
    const { conn } = await connectedCall('+15550100005'); // the silent persona
    await sleep(1100);
    const media = conn.messages.filter((m) => m.message.event === 'media');
    const window = media.filter((m) => m.at >= (media[0]?.at ?? 0) + 50 && m.at < (media[0]?.at ?? 0) + 1050);
    expect(window.length).toBeGreaterThanOrEqual(45);
    expect(window.length).toBeLessThanOrEqual(55);
    const first = media[0]?.message as { sequenceNumber: string; media: Record<string, string> };
    expect(first.sequenceNumber).toBe('2');
    expect(first.media.track).toBe('inbound');
    expect(first.media.chunk).toBe('1');
    expect(typeof first.media.timestamp).toBe('string');
    const payload = Buffer.from(first.media.payload as string, 'base64');
    expect(payload.length).toBe(160);
    expect(payload.every((b) => b === 0xff)).toBe(true);
    const chunks = media.map((m) => Number((m.message.media as Record<string, string>).chunk));
    expect(chunks).toEqual(chunks.map((_, i) => i + 1));
    const stamps = media.map((m) => Number((m.message.media as Record<string, string>).timestamp));
    expect((stamps.at(-1) as number) - (stamps[0] as number)).toBeCloseTo((stamps.length - 1) * 20, -1);
  });

  it('acknowledges a mark when the audio queued before it has finished playing', async () => {
    const { call, conn, streamSid } = await connectedCall();
    const sentAt = performance.now();
    conn.send({ event: 'media', streamSid, media: { payload: botAudio(600) } });
    conn.send({ event: 'mark', streamSid, mark: { name: 'utterance-1' } });
    const ack = await conn.next((m) => m.event === 'mark', 3000);
    const ackAt = arrival(conn, (m) => m.event === 'mark') as number;
    expect(ack).toMatchObject({ event: 'mark', streamSid, mark: { name: 'utterance-1' } });
    expect(typeof ack.sequenceNumber).toBe('string');
    // 600 ms of audio plays out at real-time rate, then the mark comes back (within two frames).
    expect(ackAt - sentAt).toBeGreaterThan(590);
    expect(ackAt - sentAt).toBeLessThan(680);
    const stream = call.record.streams[0];
    expect(stream?.marks[0]).toMatchObject({ name: 'utterance-1', outcome: 'played' });
    expect(stream?.received.botAudioBytes).toBe(4800);
    expect(stream?.playout.framesPlayed).toBe(30);
  });

  it('on clear drops the queued audio and echoes the pending marks at once (Twilio behaviour)', async () => {
    const { call, conn, streamSid } = await connectedCall();
    conn.send({ event: 'media', streamSid, media: { payload: botAudio(3000) } });
    conn.send({ event: 'mark', streamSid, mark: { name: 'long' } });
    await sleep(300);
    const clearAt = performance.now();
    conn.send({ event: 'clear', streamSid });
    await conn.next((m) => m.event === 'mark', 1000);
    expect((arrival(conn, (m) => m.event === 'mark') as number) - clearAt).toBeLessThan(100);
    const stream = call.record.streams[0];
    expect(stream?.clears).toHaveLength(1);
    expect(stream?.clears[0]?.pendingMarks).toEqual(['long']);
    expect(stream?.clears[0]?.droppedBytes).toBeGreaterThan(2500 * 8);
    expect(stream?.marks[0]?.outcome).toBe('cleared');
    // Nothing more plays: the callee hears silence after the clear.
    await sleep(100);
    expect(stream?.playout.framesPlayed).toBeLessThan(25);
  });

  it('with clearEchoesMarks off, cleared marks are never acknowledged', async () => {
    const { call, conn, streamSid } = await connectedCall('+15550100005', { clearEchoesMarks: false });
    conn.send({ event: 'media', streamSid, media: { payload: botAudio(2000) } });
    conn.send({ event: 'mark', streamSid, mark: { name: 'dropped' } });
    await sleep(200);
    conn.send({ event: 'clear', streamSid });
    await sleep(300);
    expect(conn.messages.some((m) => m.message.event === 'mark')).toBe(false);
    expect(call.record.streams[0]?.marks[0]).toMatchObject({ outcome: 'cleared', ackedAt: null });
  });

  it('records unknown events and bad messages as protocol errors without closing the stream', async () => {
    const { call, conn, streamSid } = await connectedCall();
    conn.send({ event: 'speak', streamSid, text: 'hi' });
    conn.send({ event: 'media', streamSid: 'MZwrong', media: { payload: botAudio(20) } });
    conn.ws.send('not json');
    await sleep(100);
    expect(call.record.protocolErrors.map((e) => e.code)).toEqual([31924, 31951, 31951]);
    expect(call.record.protocolErrors[0]?.message).toMatch(/speak/);
    expect(call.record.streams[0]?.received.byEvent).toMatchObject({ speak: 1, media: 1, '(invalid)': 1 });
    expect(conn.ws.readyState).toBe(conn.ws.OPEN);
  });

  it('counts late frames when our audio runs dry mid-utterance, and none when it keeps ahead', async () => {
    const { call, conn, streamSid } = await connectedCall();
    // In time: 100 ms chunks every 100 ms, starting with 200 ms of headroom.
    conn.send({ event: 'media', streamSid, media: { payload: botAudio(200) } });
    for (let i = 0; i < 4; i++) {
      await sleep(100);
      conn.send({ event: 'media', streamSid, media: { payload: botAudio(100) } });
    }
    conn.send({ event: 'mark', streamSid, mark: { name: 'end-1' } });
    await conn.next((m) => m.event === 'mark', 2000);
    const playout = call.record.streams[0]?.playout;
    expect(playout?.lateFrames).toBe(0);
    // Late: 100 ms, then a 300 ms stall mid-utterance.
    conn.send({ event: 'media', streamSid, media: { payload: botAudio(100) } });
    await sleep(400);
    conn.send({ event: 'media', streamSid, media: { payload: botAudio(100) } });
    conn.send({ event: 'mark', streamSid, mark: { name: 'end-2' } });
    await conn.next((m) => m.event === 'mark' && (m.mark as { name: string }).name === 'end-2', 2000);
    expect(playout?.lateFrames).toBe(5); // the whole 100 ms arrived ~300 ms after it was due
    expect(playout?.underruns).toHaveLength(1);
    expect(playout?.underruns[0]?.gapMs).toBeGreaterThan(250);
    expect(playout?.underruns[0]?.gapMs).toBeLessThan(360);
    const stats = rig?.emulator.stats();
    expect(stats).toMatchObject({ calls: 1, liveCalls: 1, lateFrames: 5, framesReceived: 40, marksReceived: 2, marksPlayed: 2 });
    expect(stats?.clock.ticks).toBeGreaterThan(50);
  });

  it('sends the callee key presses as dtmf events on the inbound_track', async () => {
    rig = await startTwilioRig();
    rig.emulator.personas.register('+15550199999', { id: 'presser', steps: [{ press: '42#', gapMs: 50 }] });
    const call = await rig.client.calls.create({ to: '+15550199999', from: '+15550009999', twiml: connectTwiml(rig.agent) });
    const conn = await rig.agent.nextConnection();
    const start = await conn.next((m) => m.event === 'start');
    await conn.next((m) => m.event === 'dtmf' && (m.dtmf as { digit: string }).digit === '#', 3000);
    const dtmf = conn.messages.filter((m) => m.message.event === 'dtmf').map((m) => m.message);
    expect(dtmf.map((m) => m.dtmf)).toEqual([
      { track: 'inbound_track', digit: '4' },
      { track: 'inbound_track', digit: '2' },
      { track: 'inbound_track', digit: '#' },
    ]);
    expect(dtmf[0]?.streamSid).toBe(start.streamSid);
    expect(typeof dtmf[0]?.sequenceNumber).toBe('string');
    expect(rig.emulator.calls.get(call.sid)?.record.callee?.pressed.map((p) => p.digit)).toEqual(['4', '2', '#']);
  });

  it('when the call is hung up sends stop and closes; when our server closes, the next verb runs', async () => {
    const { call, conn, streamSid } = await connectedCall('+15550100005', {}, '<Pause length="1"/>');
    conn.ws.close(1000);
    await sleep(300);
    expect(call.status).toBe('in-progress'); // <Pause> after </Connect> is running
    expect(call.record.streams[0]?.closedBy).toBe('server');
    await call.waitForEnd(3000);
    expect(call.record.endReason).toBe('markup-ended');
    expect(streamSid).toBeTruthy();

    const second = await connectedCall('+15550100005');
    await rig?.client.calls(second.call.id).update({ status: 'completed' });
    const stop = await second.conn.next((m) => m.event === 'stop');
    expect(stop).toEqual({
      event: 'stop',
      sequenceNumber: stop.sequenceNumber,
      stop: { accountSid: rig?.emulator.accountSid, callSid: second.call.id },
      streamSid: second.streamSid,
    });
    expect(await second.conn.closed).toBe(1000);
    await second.call.waitForEnd();
    await sleep(50); // the emulator's side of the close handshake
    expect(second.call.record.streams[0]?.closedBy).toBe('carrier');
    expect(second.call.record.endReason).toBe('api-hangup');
  });

  it('keeps the bot audio the callee heard and the callee audio as WAV', async () => {
    const { call, conn, streamSid } = await connectedCall();
    conn.send({ event: 'media', streamSid, media: { payload: botAudio(200) } });
    await sleep(400);
    await rig?.client.calls(call.id).update({ status: 'completed' });
    const heard = call.heardWav() as Buffer;
    expect(heard.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(call.heardTape?.durationMs).toBeGreaterThanOrEqual(380);
    const pcm = call.heardTape?.pcm() as Int16Array;
    const loud = pcm.filter((s) => Math.abs(s) > 1000).length;
    expect(loud).toBe(1600); // exactly the 200 ms the server sent
    expect(call.conversationWav()?.readUInt16LE(22)).toBe(2);
  });

  it('forks both tracks on <Start><Stream>, runs the next verb at once, and refuses messages on the fork', async () => {
    rig = await startTwilioRig();
    const twiml =
      `<Response><Start><Stream name="monitor" url="${rig.agent.wsUrl}/fork" track="both_tracks"/></Start>` +
      '<Pause length="1"/><Stop><Stream name="monitor"/></Stop><Pause length="1"/></Response>';
    const created = await rig.client.calls.create({ to: '+15550100005', from: '+15550009999', twiml });
    const conn = await rig.agent.nextConnection();
    const start = await conn.next((m) => m.event === 'start');
    expect((start.start as { tracks: string[] }).tracks).toEqual(['inbound', 'outbound']);
    conn.send({ event: 'clear', streamSid: start.streamSid });
    await conn.next((m) => m.event === 'stop', 3000); // <Stop><Stream name="monitor"/> after the first <Pause>
    const tracks = new Set(
      conn.messages.filter((m) => m.message.event === 'media').map((m) => (m.message.media as { track: string }).track),
    );
    expect(tracks).toEqual(new Set(['inbound', 'outbound']));
    const call = rig.emulator.calls.get(created.sid);
    expect(call?.status).toBe('in-progress'); // the second <Pause> is still running
    expect(call?.record.protocolErrors.map((e) => e.code)).toEqual([31924]);
    await call?.waitForEnd(3000);
  });
});
