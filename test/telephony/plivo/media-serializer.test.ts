import { describe, expect, it } from 'vitest';
import { PlivoMediaSerializer, parsePlivoExtraHeaders, parsePlivoMediaMessage } from '../../../src/telephony/plivo/media-serializer.ts';

const STREAM_ID = '87654321-4321-4321-4321-cba987654321';
const CALL_ID = '12345678-1234-1234-1234-123456789abc';
const FRAME = Uint8Array.from({ length: 160 }, (_, i) => (i * 11 + 5) & 0xff);

// Shaped exactly as in the reference §2.3 (sequenceNumber and chunk as numbers, timestamp as a string).
const START = JSON.stringify({
  event: 'start',
  sequenceNumber: 1,
  start: {
    callId: CALL_ID,
    streamId: STREAM_ID,
    accountId: 'MAXXXXXXXXXXXXXXXXXX',
    tracks: ['inbound'],
    mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 },
  },
  extra_headers: 'userId=12345;sessionId=abc-xyz',
});

describe('parsePlivoMediaMessage', () => {
  it('parses start with extra headers', () => {
    expect(parsePlivoMediaMessage(START)).toEqual({
      type: 'start',
      start: {
        carrier: 'plivo',
        streamId: STREAM_ID,
        carrierCallId: CALL_ID,
        accountId: 'MAXXXXXXXXXXXXXXXXXX',
        tracks: ['inbound'],
        customParameters: { userId: '12345', sessionId: 'abc-xyz' },
        format: { encoding: 'mulaw', sampleRate: 8000 },
      },
    });
  });

  it('reads an L16 stream format', () => {
    const start = JSON.parse(START) as { start: { mediaFormat: unknown } };
    start.start.mediaFormat = { encoding: 'audio/x-l16', sampleRate: 16000 };
    const event = parsePlivoMediaMessage(JSON.stringify(start));
    expect(event.type === 'start' && event.start.format).toEqual({ encoding: 'pcm16', sampleRate: 16000 });
  });

  it('decodes media with numeric chunk and string epoch timestamp', () => {
    const text = JSON.stringify({
      event: 'media',
      sequenceNumber: 42,
      streamId: STREAM_ID,
      media: { track: 'inbound', timestamp: '1705312200000', chunk: 41, payload: Buffer.from(FRAME).toString('base64') },
      extra_headers: 'userId=12345;sessionId=abc-xyz',
    });
    const event = parsePlivoMediaMessage(text);
    expect(event.type).toBe('media');
    if (event.type !== 'media') return;
    expect(event.chunk).toBe(41);
    expect(event.timestampMs).toBe(1705312200000);
    expect(new Uint8Array(event.audio)).toEqual(FRAME);
  });

  it('parses dtmf, playedStream, clearedAudio and the optional stop', () => {
    expect(
      parsePlivoMediaMessage(
        `{"event":"dtmf","sequenceNumber":57,"streamId":"${STREAM_ID}","dtmf":{"track":"inbound","digit":"5","timestamp":"1705312201234"}}`,
      ),
    ).toEqual({ type: 'dtmf', digit: '5' });
    expect(
      parsePlivoMediaMessage(`{"event":"playedStream","sequenceNumber":60,"streamId":"${STREAM_ID}","name":"customer greeting audio"}`),
    ).toEqual({
      type: 'mark',
      name: 'customer greeting audio',
    });
    expect(
      parsePlivoMediaMessage('{ "sequenceNumber": 0, "event": "clearedAudio", "streamId": "20170ada-f610-433b-8758-c02a2aab3662" }'),
    ).toEqual({
      type: 'cleared',
    });
    expect(parsePlivoMediaMessage('{"event":"stop","reason":"call ended"}')).toEqual({ type: 'stop', reason: 'call ended' });
    expect(parsePlivoMediaMessage('{"event":"stop"}')).toEqual({ type: 'stop', reason: null });
  });

  it('tolerates known extra events as notices and reports unknown ones as errors', () => {
    expect(parsePlivoMediaMessage('{"event":"playFailed","reason":"bad audio"}')).toEqual({
      type: 'notice',
      event: 'playFailed',
      detail: 'bad audio',
    });
    expect(parsePlivoMediaMessage('{"event":"muteStream"}')).toEqual({ type: 'notice', event: 'muteStream', detail: null });
    for (const [text, code] of [
      ['{"event":"playAudio"}', 'unknown-event'],
      ['{', 'malformed-json'],
      ['"start"', 'malformed-json'],
      ['{"event":"playedStream"}', 'missing-field'],
      ['{"event":"media","media":{"payload":5}}', 'missing-field'],
    ] as const) {
      const event = parsePlivoMediaMessage(text);
      expect(event.type, text).toBe('invalid');
      if (event.type === 'invalid') {
        expect(event.error.code, text).toBe(code);
        expect(event.error.carrier).toBe('plivo');
      }
    }
  });
});

describe('parsePlivoExtraHeaders', () => {
  it('accepts ; and , separated pairs and JSON objects', () => {
    expect(parsePlivoExtraHeaders('a=1;b=2')).toEqual({ a: '1', b: '2' });
    expect(parsePlivoExtraHeaders('callId=c123,agent=bot1')).toEqual({ callId: 'c123', agent: 'bot1' });
    expect(parsePlivoExtraHeaders('{"a":"1","n":2}')).toEqual({ a: '1', n: '2' });
    expect(parsePlivoExtraHeaders('k=v=w; junk ;=x')).toEqual({ k: 'v=w' });
    expect(parsePlivoExtraHeaders(undefined)).toEqual({});
  });
});

describe('PlivoMediaSerializer', () => {
  it('builds playAudio for µ-law with a numeric sample rate', () => {
    const serializer = new PlivoMediaSerializer(STREAM_ID, { encoding: 'mulaw', sampleRate: 8000 });
    const text = serializer.media(FRAME);
    const payload = Buffer.from(FRAME).toString('base64');
    expect(text).toBe(`{"event":"playAudio","media":{"contentType":"audio/x-mulaw","sampleRate":8000,"payload":"${payload}"}}`);
    expect(JSON.parse(text)).toEqual({ event: 'playAudio', media: { contentType: 'audio/x-mulaw', sampleRate: 8000, payload } });
  });

  it('builds playAudio for L16 streams', () => {
    const serializer = new PlivoMediaSerializer(STREAM_ID, { encoding: 'pcm16', sampleRate: 16000 });
    expect(JSON.parse(serializer.media(new Uint8Array([1, 0, 255, 127])))).toEqual({
      event: 'playAudio',
      media: { contentType: 'audio/x-l16', sampleRate: 16000, payload: 'AQD/fw==' },
    });
  });

  it('builds checkpoint, clearAudio and sendDTMF', () => {
    const serializer = new PlivoMediaSerializer(STREAM_ID, { encoding: 'mulaw', sampleRate: 8000 });
    expect(serializer.mark('customer greeting audio')).toBe(
      `{"event":"checkpoint","streamId":"${STREAM_ID}","name":"customer greeting audio"}`,
    );
    expect(serializer.clear()).toBe(`{"event":"clearAudio","streamId":"${STREAM_ID}"}`);
    expect(serializer.dtmf('123#')).toBe('{"event":"sendDTMF","dtmf":"123#"}');
    expect(() => serializer.dtmf('1"}')).toThrow(RangeError);
    expect(() => serializer.dtmf('')).toThrow(RangeError);
  });

  it('refuses A-law, which Plivo streams cannot carry', () => {
    expect(() => new PlivoMediaSerializer(STREAM_ID, { encoding: 'alaw', sampleRate: 8000 })).toThrow(RangeError);
  });
});
