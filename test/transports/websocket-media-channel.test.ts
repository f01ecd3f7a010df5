import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.ts';
import type { AudioPayload } from '../../src/pipeline/audio-payload.ts';
import { detectMediaStream } from '../../src/transports/detect-media-stream.ts';
import type { ChannelCloseInfo, MediaChannelHandler } from '../../src/transports/media-channel.ts';
import { WebSocketMediaChannel } from '../../src/transports/websocket-media-channel.ts';
import { delay, nextMessages, openWsPair, waitFor, type WsPair } from '../telephony/ws-pair.ts';
import { builtinCarriers } from '../../src/telephony/registry.ts';

const PROTOCOLS = builtinCarriers.flatMap((carrier) => (carrier.mediaStream ? [carrier.mediaStream] : []));

const STREAM_SID = 'MZ0123456789abcdef0123456789abcdef';
const CALL_SID = 'CA0123456789abcdef0123456789abcdef';
const PLIVO_STREAM = '87654321-4321-4321-4321-cba987654321';
const PLIVO_CALL = '12345678-1234-1234-1234-123456789abc';

const twilioStart = JSON.stringify({
  event: 'start',
  sequenceNumber: '1',
  start: {
    accountSid: 'AC0123456789abcdef0123456789abcdef',
    streamSid: STREAM_SID,
    callSid: CALL_SID,
    tracks: ['inbound'],
    customParameters: {},
    mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
  },
  streamSid: STREAM_SID,
});

function plivoStart(encoding = 'audio/x-mulaw', sampleRate = 8000): string {
  return JSON.stringify({
    event: 'start',
    sequenceNumber: 1,
    start: { callId: PLIVO_CALL, streamId: PLIVO_STREAM, accountId: 'MAX', tracks: ['inbound'], mediaFormat: { encoding, sampleRate } },
    extra_headers: '',
  });
}

function twilioMedia(seq: number, bytes: Uint8Array, track = 'inbound'): string {
  return JSON.stringify({
    event: 'media',
    sequenceNumber: String(seq),
    media: { track, chunk: String(seq), timestamp: String(seq * 20), payload: Buffer.from(bytes).toString('base64') },
    streamSid: STREAM_SID,
  });
}

/** A handler that records everything in arrival order. */
interface Recorder extends MediaChannelHandler {
  events: string[];
  payloads: AudioPayload[];
  closes: ChannelCloseInfo[];
}

function recorder(): Recorder {
  const events: string[] = [];
  const payloads: AudioPayload[] = [];
  const closes: ChannelCloseInfo[] = [];
  return {
    events,
    payloads,
    closes,
    audio(payload: AudioPayload) {
      payloads.push(payload);
      events.push('audio');
    },
    mark: (name: string) => events.push(`mark:${name}`),
    cleared: () => events.push('cleared'),
    dtmf: (digit: string) => events.push(`dtmf:${digit}`),
    closed: (info: ChannelCloseInfo) => {
      closes.push(info);
      events.push(`closed:${info.by}`);
    },
  };
}

let pair: WsPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

async function twilioChannel(options: ConstructorParameters<typeof WebSocketMediaChannel>[2] = {}): Promise<WebSocketMediaChannel> {
  pair = await openWsPair();
  const detection = detectMediaStream(pair.server, PROTOCOLS);
  pair.carrier.send('{"event":"connected","protocol":"Call","version":"1.0.0"}');
  pair.carrier.send(twilioStart);
  return new WebSocketMediaChannel(pair.server, await detection, options);
}

async function plivoChannel(start = plivoStart()): Promise<WebSocketMediaChannel> {
  pair = await openWsPair();
  const detection = detectMediaStream(pair.server, PROTOCOLS);
  pair.carrier.send(start);
  return new WebSocketMediaChannel(pair.server, await detection);
}

describe('WebSocketMediaChannel (Twilio)', () => {
  it('delivers caller audio, DTMF and mark echoes in order, including what arrived before the handler', async () => {
    pair = await openWsPair();
    const detection = detectMediaStream(pair.server, PROTOCOLS);
    const frames = [1, 2, 3].map((n) => Uint8Array.from({ length: 160 }, (_, i) => (i + n) & 0xff));
    pair.carrier.send('{"event":"connected","protocol":"Call","version":"1.0.0"}');
    pair.carrier.send(twilioStart);
    // Sent straight after start: can share a TCP read with it, and arrives before anyone set a handler.
    pair.carrier.send(twilioMedia(2, frames[0]!));
    const stream = await detection;
    pair.carrier.send(twilioMedia(3, frames[1]!));
    await delay(30);
    const channel = new WebSocketMediaChannel(pair.server, stream);
    expect(channel.carrierCallId).toBe(CALL_SID);
    expect(channel.format).toEqual({ encoding: 'mulaw', sampleRate: 8000 });
    expect(channel.echoesMarksOnClear).toBe(true);
    expect(channel.sendDtmf).toBeUndefined();
    pair.carrier.send(twilioMedia(4, frames[2]!));
    pair.carrier.send(twilioMedia(5, new Uint8Array(160), 'outbound'));
    pair.carrier.send(`{"event":"dtmf","streamSid":"${STREAM_SID}","sequenceNumber":"6","dtmf":{"track":"inbound_track","digit":"7"}}`);
    pair.carrier.send(`{"event":"mark","sequenceNumber":"7","streamSid":"${STREAM_SID}","mark":{"name":"utt-1"}}`);
    await delay(30);
    const handler = recorder();
    channel.setHandler(handler);
    await waitFor(() => handler.events.length >= 5);
    expect(handler.events).toEqual(['audio', 'audio', 'audio', 'dtmf:7', 'mark:utt-1']);
    expect(handler.payloads.map((a) => new Uint8Array(a.mulaw!))).toEqual(frames);
    expect(handler.payloads[0]).toMatchObject({ sampleRate: 8000, channels: 1 });
    expect(handler.payloads[0]!.pcm).toBeUndefined();
  });

  it('sends media, mark and clear in the exact wire shape', async () => {
    const channel = await twilioChannel();
    channel.setHandler(recorder());
    const frame = Uint8Array.from({ length: 160 }, (_, i) => i);
    const received = nextMessages(pair!.carrier, 3);
    channel.sendAudio(frame);
    channel.sendMark('utt-1');
    channel.clear();
    expect(await received).toEqual([
      `{"event":"media","streamSid":"${STREAM_SID}","media":{"payload":"${Buffer.from(frame).toString('base64')}"}}`,
      `{"event":"mark","streamSid":"${STREAM_SID}","mark":{"name":"utt-1"}}`,
      `{"event":"clear","streamSid":"${STREAM_SID}"}`,
    ]);
  });

  it('reports stop as a remote close, once', async () => {
    const channel = await twilioChannel();
    const handler = recorder();
    channel.setHandler(handler);
    pair!.carrier.send(
      `{"event":"stop","sequenceNumber":"9","stop":{"accountSid":"AC1","callSid":"${CALL_SID}"},"streamSid":"${STREAM_SID}"}`,
    );
    pair!.carrier.close(1000);
    await waitFor(() => pair!.server.readyState === pair!.server.CLOSED);
    expect(handler.closes).toEqual([{ by: 'remote', reason: 'stream stopped' }]);
    expect(channel.isClosed).toBe(true);
  });

  it('reports a socket closed without stop as a remote close with its code', async () => {
    const channel = await twilioChannel();
    const handler = recorder();
    channel.setHandler(handler);
    pair!.carrier.close(4001, 'gone');
    await waitFor(() => handler.closes.length > 0);
    expect(handler.closes).toEqual([{ by: 'remote', reason: 'media socket closed (code 4001): gone' }]);
  });

  it('does not send after the socket closed', async () => {
    const channel = await twilioChannel();
    const handler = recorder();
    channel.setHandler(handler);
    pair!.carrier.close(1000);
    await waitFor(() => handler.closes.length > 0);
    const send = vi.spyOn(pair!.server, 'send');
    channel.sendAudio(new Uint8Array(160));
    channel.sendMark('m');
    channel.clear();
    expect(send).not.toHaveBeenCalled();
  });

  it('closes locally with a code-1000 close frame and reports it at once', async () => {
    const channel = await twilioChannel();
    const handler = recorder();
    channel.setHandler(handler);
    const carrierClosed = new Promise<[number, string]>((resolve) =>
      pair!.carrier.once('close', (code, reason) => resolve([code, reason.toString()])),
    );
    channel.close('call ended');
    expect(handler.closes).toEqual([{ by: 'local', reason: 'call ended' }]);
    expect(await carrierClosed).toEqual([1000, 'call ended']);
    channel.sendAudio(new Uint8Array(160)); // no-op, no throw
    expect(handler.closes).toHaveLength(1);
  });

  it('bounds the close handshake when the carrier never answers it', async () => {
    const channel = await twilioChannel({ closeTimeoutMs: 100 });
    channel.setHandler(recorder());
    // The carrier stops reading: it never sees our close frame, so it never answers it.
    (pair!.carrier as unknown as { _socket: Socket })._socket.pause();
    const started = Date.now();
    channel.close('bye');
    await waitFor(() => pair!.server.readyState === pair!.server.CLOSED, 3000);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('counts and logs unparseable messages with the call id, and keeps going', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const channel = await twilioChannel({ callId: 'c_42', logger: createLogger({ level: 'warn', destination }) });
    const handler = recorder();
    channel.setHandler(handler);
    pair!.carrier.send('not json');
    pair!.carrier.send('{"event":"surprise"}');
    pair!.carrier.send(Buffer.from([1, 2, 3]), { binary: true });
    pair!.carrier.send(twilioMedia(2, new Uint8Array(160)));
    await waitFor(() => handler.events.length === 1);
    expect(channel.parseErrors).toBe(3);
    expect(lines).toHaveLength(3);
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged.map((l) => l.code)).toEqual(['malformed-json', 'unknown-event', 'binary-frame']);
    for (const line of logged) expect(line).toMatchObject({ callId: 'c_42', carrier: 'twilio', carrierCallId: CALL_SID });
  });

  it('reports a broken socket as an error close', async () => {
    const channel = await twilioChannel();
    const handler = recorder();
    channel.setHandler(handler);
    // An unmasked client frame violates the protocol: the server socket errors.
    (pair!.carrier as unknown as { _socket: Socket })._socket.write(Buffer.from([0x81, 0x01, 0x41]));
    await waitFor(() => handler.closes.length > 0);
    expect(handler.closes[0]!.by).toBe('error');
    expect(handler.closes).toHaveLength(1);
  });

  it('reports a socket that closed before the channel started once a handler is set', async () => {
    pair = await openWsPair();
    const detection = detectMediaStream(pair.server, PROTOCOLS);
    pair.carrier.send(twilioStart);
    const stream = await detection;
    pair.carrier.close(1000);
    await waitFor(() => pair!.server.readyState === pair!.server.CLOSED);
    const channel = new WebSocketMediaChannel(pair.server, stream);
    const handler = recorder();
    channel.setHandler(handler);
    expect(handler.closes).toHaveLength(1);
    expect(handler.closes[0]!.by).toBe('remote');
  });
});

describe('WebSocketMediaChannel (Plivo)', () => {
  it('maps playedStream to marks and clearedAudio to cleared; clears are confirmed, not echoed', async () => {
    const channel = await plivoChannel();
    expect(channel.echoesMarksOnClear).toBe(false);
    expect(channel.carrierCallId).toBe(PLIVO_CALL);
    const handler = recorder();
    channel.setHandler(handler);
    const frame = Uint8Array.from({ length: 160 }, (_, i) => 255 - i);
    pair!.carrier.send(
      JSON.stringify({
        event: 'media',
        sequenceNumber: 2,
        streamId: PLIVO_STREAM,
        media: { track: 'inbound', timestamp: '1705312200000', chunk: 1, payload: Buffer.from(frame).toString('base64') },
      }),
    );
    pair!.carrier.send(`{"event":"playedStream","sequenceNumber":3,"streamId":"${PLIVO_STREAM}","name":"utt-1"}`);
    pair!.carrier.send(`{"sequenceNumber":4,"event":"clearedAudio","streamId":"${PLIVO_STREAM}"}`);
    pair!.carrier.send(
      `{"event":"dtmf","sequenceNumber":5,"streamId":"${PLIVO_STREAM}","dtmf":{"track":"inbound","digit":"#","timestamp":"1"}}`,
    );
    await waitFor(() => handler.events.length >= 4);
    expect(handler.events).toEqual(['audio', 'mark:utt-1', 'cleared', 'dtmf:#']);
    expect(new Uint8Array(handler.payloads[0]!.mulaw!)).toEqual(frame);
  });

  it('sends playAudio, checkpoint, clearAudio and sendDTMF', async () => {
    const channel = await plivoChannel();
    channel.setHandler(recorder());
    const received = nextMessages(pair!.carrier, 4);
    channel.sendAudio(new Uint8Array([0xff, 0x7f]));
    channel.sendMark('utt-1');
    channel.clear();
    channel.sendDtmf!('12');
    expect(await received).toEqual([
      '{"event":"playAudio","media":{"contentType":"audio/x-mulaw","sampleRate":8000,"payload":"/38="}}',
      `{"event":"checkpoint","streamId":"${PLIVO_STREAM}","name":"utt-1"}`,
      `{"event":"clearAudio","streamId":"${PLIVO_STREAM}"}`,
      '{"event":"sendDTMF","dtmf":"12"}',
    ]);
  });

  it('delivers L16 streams as 16-bit PCM samples', async () => {
    const channel = await plivoChannel(plivoStart('audio/x-l16', 16000));
    expect(channel.format).toEqual({ encoding: 'pcm16', sampleRate: 16000 });
    const handler = recorder();
    channel.setHandler(handler);
    const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
    const payload = Buffer.from(samples.buffer).toString('base64');
    pair!.carrier.send(
      JSON.stringify({
        event: 'media',
        sequenceNumber: 2,
        streamId: PLIVO_STREAM,
        media: { track: 'inbound', timestamp: '1', chunk: 1, payload },
      }),
    );
    await waitFor(() => handler.payloads.length === 1);
    expect(handler.payloads[0]).toMatchObject({ sampleRate: 16000, channels: 1 });
    expect(Array.from(handler.payloads[0]!.pcm!)).toEqual(Array.from(samples));
  });

  it('treats the socket closing as the end of the stream (Plivo sends no stop)', async () => {
    const channel = await plivoChannel();
    const handler = recorder();
    channel.setHandler(handler);
    pair!.carrier.close(1000);
    await waitFor(() => handler.closes.length > 0);
    expect(handler.closes[0]).toMatchObject({ by: 'remote' });
    expect(channel.isClosed).toBe(true);
  });
});
