import { afterEach, describe, expect, it } from 'vitest';
import { CarrierDetectionError, detectMediaStream, recognizeStreamStart } from '../../src/transports/detect-media-stream.ts';
import { delay, openWsPair, type WsPair } from '../telephony/ws-pair.ts';
import { builtinCarriers } from '../../src/telephony/registry.ts';

const PROTOCOLS = builtinCarriers.flatMap((carrier) => (carrier.mediaStream ? [carrier.mediaStream] : []));

const TWILIO_CONNECTED = '{"event":"connected","protocol":"Call","version":"1.0.0"}';
const TWILIO_START = JSON.stringify({
  event: 'start',
  sequenceNumber: '1',
  start: {
    accountSid: 'AC0123456789abcdef0123456789abcdef',
    streamSid: 'MZ0123456789abcdef0123456789abcdef',
    callSid: 'CA0123456789abcdef0123456789abcdef',
    tracks: ['inbound'],
    customParameters: { callId: 'c_123' },
    mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
  },
  streamSid: 'MZ0123456789abcdef0123456789abcdef',
});
const PLIVO_START = JSON.stringify({
  event: 'start',
  sequenceNumber: 1,
  start: {
    callId: '12345678-1234-1234-1234-123456789abc',
    streamId: '87654321-4321-4321-4321-cba987654321',
    accountId: 'MAXXXXXXXXXXXXXXXXXX',
    tracks: ['inbound'],
    mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 },
  },
  extra_headers: 'callId=c123;agent=bot1',
});

let pair: WsPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

describe('recognizeStreamStart', () => {
  it('tells the carriers apart by their start fields', () => {
    expect(recognizeStreamStart(TWILIO_START, PROTOCOLS)?.carrier).toBe('twilio');
    expect(recognizeStreamStart(PLIVO_START, PROTOCOLS)?.carrier).toBe('plivo');
    expect(recognizeStreamStart(TWILIO_CONNECTED, PROTOCOLS)).toBeNull();
    expect(recognizeStreamStart('{"event":"start","start":{"stream_id":"x","call_control_id":"y"}}', PROTOCOLS)).toBeNull();
    expect(recognizeStreamStart('garbage', PROTOCOLS)).toBeNull();
  });
});

describe('detectCarrier', () => {
  it('recognises Twilio from connected + start', async () => {
    pair = await openWsPair();
    const detection = detectMediaStream(pair.server, PROTOCOLS);
    pair.carrier.send(TWILIO_CONNECTED);
    pair.carrier.send(TWILIO_START);
    const stream = await detection;
    expect(stream).toMatchObject({
      carrier: 'twilio',
      streamId: 'MZ0123456789abcdef0123456789abcdef',
      carrierCallId: 'CA0123456789abcdef0123456789abcdef',
      accountId: 'AC0123456789abcdef0123456789abcdef',
      tracks: ['inbound'],
      customParameters: { callId: 'c_123' },
      format: { encoding: 'mulaw', sampleRate: 8000 },
    });
    expect(stream.consumedMessages).toEqual([TWILIO_CONNECTED, TWILIO_START]);
    expect(stream.release()).toEqual([]);
  });

  it('recognises Plivo from its single start, with extra headers as parameters', async () => {
    pair = await openWsPair();
    const detection = detectMediaStream(pair.server, PROTOCOLS);
    pair.carrier.send(PLIVO_START);
    const stream = await detection;
    expect(stream).toMatchObject({
      carrier: 'plivo',
      streamId: '87654321-4321-4321-4321-cba987654321',
      carrierCallId: '12345678-1234-1234-1234-123456789abc',
      accountId: 'MAXXXXXXXXXXXXXXXXXX',
      customParameters: { callId: 'c123', agent: 'bot1' },
      format: { encoding: 'mulaw', sampleRate: 8000 },
    });
    expect(stream.consumedMessages).toEqual([PLIVO_START]);
    stream.release();
  });

  it('keeps messages that follow the start until the next owner takes the socket', async () => {
    pair = await openWsPair();
    const detection = detectMediaStream(pair.server, PROTOCOLS);
    pair.carrier.send(PLIVO_START);
    pair.carrier.send('{"event":"media","n":1}');
    pair.carrier.send('{"event":"media","n":2}');
    const stream = await detection;
    await delay(50);
    const later = stream.release();
    expect(later.map((m) => m.data.toString())).toEqual(['{"event":"media","n":1}', '{"event":"media","n":2}']);
    expect(() => stream.release()).toThrow(/twice/);
  });

  it('gives up after two unrecognisable messages', async () => {
    pair = await openWsPair();
    const detection = detectMediaStream(pair.server, PROTOCOLS);
    pair.carrier.send('{"event":"hello"}');
    pair.carrier.send('{"event":"start","start":{}}');
    const error = (await detection.catch((e: unknown) => e)) as CarrierDetectionError;
    expect(error).toBeInstanceOf(CarrierDetectionError);
    expect(error.code).toBe('unrecognised');
    expect(error.received).toEqual(['{"event":"hello"}', '{"event":"start","start":{}}']);
    expect(error.message).toContain('"hello"');
  });

  it('times out when nothing recognisable arrives', async () => {
    pair = await openWsPair();
    const started = Date.now();
    const error = (await detectMediaStream(pair.server, PROTOCOLS, { timeoutMs: 100 }).catch((e: unknown) => e)) as CarrierDetectionError;
    expect(error).toBeInstanceOf(CarrierDetectionError);
    expect(error.code).toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(pair.server.listenerCount('message')).toBe(0);
  });

  it('fails at once when the socket closes first', async () => {
    pair = await openWsPair();
    const detection = detectMediaStream(pair.server, PROTOCOLS, { timeoutMs: 5000 });
    pair.carrier.close(1000, 'bye');
    const error = (await detection.catch((e: unknown) => e)) as CarrierDetectionError;
    expect(error.code).toBe('closed');
  });
});
