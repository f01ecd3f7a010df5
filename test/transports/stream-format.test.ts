/**
 * Issue 10, defect 1 (unit part): a media format the pipeline cannot pace is refused where it would do harm. A
 * 1 Hz µ-law stream made the outbound frame 0 bytes and the output's tick loop spin forever (100 % CPU).
 */
import { describe, expect, it } from 'vitest';
import type { ChannelAudioFormat } from '../../src/audio/channel-audio-format.ts';
import { LocalMediaChannel } from '../../src/transports/local/local-media-channel.ts';
import { MediaFormatError, formatProblem } from '../../src/transports/stream-format.ts';
import { TransportOutput } from '../../src/transports/transport-output.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { twilioStreamStart } from '../../src/telephony/twilio/media-serializer.ts';
import { plivoStreamStart } from '../../src/telephony/plivo/media-serializer.ts';

function channelWith(format: ChannelAudioFormat): LocalMediaChannel {
  const channel = new LocalMediaChannel();
  Object.defineProperty(channel, 'format', { value: format });
  return channel;
}

describe('TransportOutput refuses formats it cannot pace', () => {
  for (const format of [
    { encoding: 'mulaw', sampleRate: 1 },
    { encoding: 'pcm16', sampleRate: 3 },
    { encoding: 'mulaw', sampleRate: 0 },
    { encoding: 'mulaw', sampleRate: -8000 },
    { encoding: 'mulaw', sampleRate: Number.NaN },
    { encoding: 'mulaw', sampleRate: 1e12 },
  ] as ChannelAudioFormat[]) {
    it(`${format.encoding} at ${format.sampleRate} Hz: a MediaFormatError at construction, not a spinning tick`, () => {
      expect(() => new TransportOutput(channelWith(format), { clock: new ManualClock() as never })).toThrow(MediaFormatError);
    });
  }

  it('8 kHz µ-law still builds', () => {
    expect(() => new TransportOutput(channelWith({ encoding: 'mulaw', sampleRate: 8000 }))).not.toThrow();
  });
});

describe('start messages are checked against the carriers’ supported formats', () => {
  const twilio = (mediaFormat: unknown) => twilioStreamStart({ event: 'start', start: { streamSid: 'MZ1', callSid: 'CA1', mediaFormat } });
  const plivo = (mediaFormat: unknown) => plivoStreamStart({ event: 'start', start: { streamId: 's1', callId: 'c1', mediaFormat } });

  it('Twilio: µ-law 8 kHz (or nothing said) is fine; any other rate or encoding has a problem naming what is supported', () => {
    expect(twilio({ encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 })?.formatProblem).toBeUndefined();
    expect(twilio(undefined)?.formatProblem).toBeUndefined();
    for (const sampleRate of [1, 0, -1, 7919, 1e9, 8000.5, 1e12, 'abc', null, {}]) {
      const start = twilio({ encoding: 'audio/x-mulaw', sampleRate });
      expect(start?.formatProblem).toMatch(/unsupported format audio\/x-mulaw at .* Hz; supported: audio\/x-mulaw 8000 Hz/);
      expect(start?.format).toEqual({ encoding: 'mulaw', sampleRate: 8000 });
    }
    expect(twilio({ encoding: 'audio/opus', sampleRate: 8000 })?.formatProblem).toMatch(/unsupported encoding "audio\/opus"/);
  });

  it('Plivo: µ-law recognised leniently; missing fields mean the content type we asked for (µ-law 8 kHz)', () => {
    for (const encoding of ['audio/x-mulaw', 'MULAW', 'audio/mulaw', 'x-mulaw;rate=8000']) {
      expect(plivo({ encoding, sampleRate: 8000 })).toMatchObject({ format: { encoding: 'mulaw', sampleRate: 8000 } });
      expect(plivo({ encoding, sampleRate: 8000 })?.formatProblem).toBeUndefined();
    }
    expect(plivo({})?.format).toEqual({ encoding: 'mulaw', sampleRate: 8000 });
    expect(plivo(undefined)?.format).toEqual({ encoding: 'mulaw', sampleRate: 8000 });
    expect(plivo({ encoding: 'audio/x-l16', sampleRate: 16000 })?.format).toEqual({ encoding: 'pcm16', sampleRate: 16000 });
    expect(plivo({ encoding: 'audio/x-l16', sampleRate: 3 })?.formatProblem).toMatch(
      /supported: audio\/x-mulaw 8000 Hz, audio\/x-l16 8000\/16000 Hz/,
    );
    expect(plivo({ encoding: 'audio/x-mulaw', sampleRate: 16000 })?.formatProblem).toMatch(/unsupported format/);
    expect(plivo({ encoding: 42, sampleRate: 8000 })?.formatProblem).toMatch(/unsupported encoding 42/);
  });

  it('reasons fit a WebSocket close frame (123 bytes)', () => {
    const reason = formatProblem({ encoding: 'pcm16', sampleRate: 'x'.repeat(500) }, [
      { encoding: 'mulaw', sampleRate: 8000 },
      { encoding: 'pcm16', sampleRate: 8000 },
      { encoding: 'pcm16', sampleRate: 16000 },
    ]);
    expect(Buffer.byteLength(reason ?? '')).toBeLessThanOrEqual(123);
  });
});
