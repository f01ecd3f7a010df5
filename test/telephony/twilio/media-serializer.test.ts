import { describe, expect, it } from 'vitest';
import { MediaParseError } from '../../../src/transports/media-serializer.ts';
import { TwilioMediaSerializer, parseTwilioMediaMessage } from '../../../src/telephony/twilio/media-serializer.ts';

const STREAM_SID = 'MZ0123456789abcdef0123456789abcdef';
const CALL_SID = 'CA0123456789abcdef0123456789abcdef';
const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';

/** 20 ms of 8 kHz µ-law: 160 distinct-ish bytes. */
const FRAME = Uint8Array.from({ length: 160 }, (_, i) => (i * 7 + 3) & 0xff);

// Messages shaped exactly as in the reference §1.1 (counters as JSON strings).
const START = JSON.stringify({
  event: 'start',
  sequenceNumber: '1',
  start: {
    accountSid: ACCOUNT_SID,
    streamSid: STREAM_SID,
    callSid: CALL_SID,
    tracks: ['inbound'],
    customParameters: { callId: 'c_123', from_number: '+15551230000' },
    mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
  },
  streamSid: STREAM_SID,
});

describe('parseTwilioMediaMessage', () => {
  it('parses connected and start', () => {
    expect(parseTwilioMediaMessage('{ "event": "connected", "protocol": "Call", "version": "1.0.0" }')).toEqual({ type: 'connected' });
    expect(parseTwilioMediaMessage(START)).toEqual({
      type: 'start',
      start: {
        carrier: 'twilio',
        streamId: STREAM_SID,
        carrierCallId: CALL_SID,
        accountId: ACCOUNT_SID,
        tracks: ['inbound'],
        customParameters: { callId: 'c_123', from_number: '+15551230000' },
        format: { encoding: 'mulaw', sampleRate: 8000 },
      },
    });
  });

  it('decodes media, turning string counters into numbers', () => {
    const text = JSON.stringify({
      event: 'media',
      sequenceNumber: '3',
      media: { track: 'inbound', chunk: '1', timestamp: '5', payload: Buffer.from(FRAME).toString('base64') },
      streamSid: STREAM_SID,
    });
    const event = parseTwilioMediaMessage(text);
    expect(event.type).toBe('media');
    if (event.type !== 'media') return;
    expect(event.track).toBe('inbound');
    expect(event.chunk).toBe(1);
    expect(event.timestampMs).toBe(5);
    expect(new Uint8Array(event.audio)).toEqual(FRAME);
  });

  it('parses dtmf, mark and stop', () => {
    expect(
      parseTwilioMediaMessage(
        `{"event":"dtmf","streamSid":"${STREAM_SID}","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}}`,
      ),
    ).toEqual({ type: 'dtmf', digit: '1' });
    expect(
      parseTwilioMediaMessage(`{"event":"mark","sequenceNumber":"4","streamSid":"${STREAM_SID}","mark":{"name":"utterance-7"}}`),
    ).toEqual({
      type: 'mark',
      name: 'utterance-7',
    });
    expect(
      parseTwilioMediaMessage(
        `{"event":"stop","sequenceNumber":"5","stop":{"accountSid":"${ACCOUNT_SID}","callSid":"${CALL_SID}"},"streamSid":"${STREAM_SID}"}`,
      ),
    ).toEqual({ type: 'stop', reason: null });
  });

  it('returns typed errors for unknown and malformed messages instead of throwing', () => {
    const cases: Array<[string, string]> = [
      ['{"event":"clear","streamSid":"MZ1"}', 'unknown-event'],
      ['{"noEvent":true}', 'unknown-event'],
      ['not json', 'malformed-json'],
      ['[1,2]', 'malformed-json'],
      ['null', 'malformed-json'],
      ['{"event":"media","media":{}}', 'missing-field'],
      ['{"event":"mark","mark":{"name":7}}', 'missing-field'],
      ['{"event":"dtmf"}', 'missing-field'],
      ['{"event":"start","start":{"streamSid":"MZ1"}}', 'missing-field'],
    ];
    for (const [text, code] of cases) {
      const event = parseTwilioMediaMessage(text);
      expect(event.type, text).toBe('invalid');
      if (event.type !== 'invalid') continue;
      expect(event.error).toBeInstanceOf(MediaParseError);
      expect(event.error.code, text).toBe(code);
      expect(event.error.carrier).toBe('twilio');
    }
    const unknown = parseTwilioMediaMessage('{"event":"clear"}');
    expect(unknown.type === 'invalid' && unknown.error.event).toBe('clear');
  });
});

describe('TwilioMediaSerializer', () => {
  const serializer = new TwilioMediaSerializer(STREAM_SID);

  it('builds media messages in the exact wire shape', () => {
    const text = serializer.media(FRAME);
    expect(text).toBe(`{"event":"media","streamSid":"${STREAM_SID}","media":{"payload":"${Buffer.from(FRAME).toString('base64')}"}}`);
    expect(JSON.parse(text)).toEqual({ event: 'media', streamSid: STREAM_SID, media: { payload: Buffer.from(FRAME).toString('base64') } });
  });

  it('encodes only the bytes of a view into a larger buffer', () => {
    const big = new Uint8Array(400).fill(0x7f);
    big.set(FRAME, 100);
    const text = serializer.media(big.subarray(100, 260));
    const payload = (JSON.parse(text) as { media: { payload: string } }).media.payload;
    expect(new Uint8Array(Buffer.from(payload, 'base64'))).toEqual(FRAME);
  });

  it('builds mark and clear messages', () => {
    expect(serializer.mark('utterance-7')).toBe(`{"event":"mark","streamSid":"${STREAM_SID}","mark":{"name":"utterance-7"}}`);
    expect(JSON.parse(serializer.mark('say "hi"\n'))).toEqual({ event: 'mark', streamSid: STREAM_SID, mark: { name: 'say "hi"\n' } });
    expect(serializer.clear()).toBe(`{"event":"clear","streamSid":"${STREAM_SID}"}`);
    expect('dtmf' in serializer).toBe(false);
  });

  it('round-trips through its own parser for marks', () => {
    const echoed = serializer.mark('m-1');
    expect(parseTwilioMediaMessage(echoed)).toEqual({ type: 'mark', name: 'm-1' });
  });
});
