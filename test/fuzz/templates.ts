/** Well-formed media-socket messages of each carrier, the seeds the fuzzers break. */
import type { Carrier } from '../server/carrier-socket.ts';

const PAYLOAD = Buffer.alloc(160, 0xff).toString('base64');

export type MessageKind = 'start' | 'media' | 'mark' | 'dtmf' | 'stop' | 'other';

export const TEMPLATES: Record<Carrier, Record<MessageKind, Record<string, unknown>>> = {
  twilio: {
    start: {
      event: 'start',
      sequenceNumber: '1',
      streamSid: 'MZ00000000000000000000000000000000',
      start: {
        accountSid: 'AC00000000000000000000000000000000',
        streamSid: 'MZ00000000000000000000000000000000',
        callSid: 'CA00000000000000000000000000000000',
        tracks: ['inbound'],
        customParameters: { a: 'b' },
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    },
    media: {
      event: 'media',
      sequenceNumber: '3',
      streamSid: 'MZ0',
      media: { track: 'inbound', chunk: '2', timestamp: '20', payload: PAYLOAD },
    },
    mark: { event: 'mark', sequenceNumber: '4', streamSid: 'MZ0', mark: { name: 'm1' } },
    dtmf: { event: 'dtmf', sequenceNumber: '5', streamSid: 'MZ0', dtmf: { track: 'inbound_track', digit: '1' } },
    stop: { event: 'stop', sequenceNumber: '6', streamSid: 'MZ0', stop: { accountSid: 'AC0', callSid: 'CA0' } },
    other: { event: 'connected', protocol: 'Call', version: '1.0.0' },
  },
  plivo: {
    start: {
      event: 'start',
      sequenceNumber: 1,
      start: {
        callId: '12345678-1234-1234-1234-123456789abc',
        streamId: '87654321-4321-4321-4321-cba987654321',
        accountId: 'MAXXXXXXXXXXXXXXXXXX',
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 },
      },
      extra_headers: 'a=b;c=d',
    },
    media: {
      event: 'media',
      sequenceNumber: 2,
      streamId: 's',
      media: { track: 'inbound', timestamp: '1700000000000', chunk: 1, payload: PAYLOAD },
    },
    mark: { event: 'playedStream', sequenceNumber: 3, streamId: 's', name: 'm1' },
    dtmf: { event: 'dtmf', sequenceNumber: 4, streamId: 's', dtmf: { track: 'inbound', digit: '5' } },
    stop: { event: 'stop', sequenceNumber: 5, streamId: 's', reason: 'callEnded' },
    other: { event: 'clearedAudio', sequenceNumber: 6, streamId: 's' },
  },
};

export const KINDS: readonly MessageKind[] = ['start', 'media', 'mark', 'dtmf', 'stop', 'other'];
