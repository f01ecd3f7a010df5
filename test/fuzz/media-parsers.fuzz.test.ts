/**
 * Property-based fuzzing of every parser a carrier's media socket feeds (issue 10): Twilio and Plivo `parse`, start
 * recognition with format validation, and the serializer built from an accepted start (fast-check; `FUZZ_RUNS`
 * inputs per parser, `FUZZ_SEED`). Inputs are well-formed
 * messages broken at random (fields removed or of the wrong type, absurd numbers, bad base64, truncated text).
 * Property: nothing throws; every message is an event or an `invalid` with a known reason; an accepted start
 * always has a supported format that the output can pace.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ChannelAudioFormat } from '../../src/audio/channel-audio-format.ts';
import { parsePlivoMediaMessage } from '../../src/telephony/plivo/media-serializer.ts';
import { builtinCarriers } from '../../src/telephony/registry.ts';
import { parseTwilioMediaMessage } from '../../src/telephony/twilio/media-serializer.ts';
import { recognizeStreamStart } from '../../src/transports/detect-media-stream.ts';
import { LocalMediaChannel } from '../../src/transports/local/local-media-channel.ts';
import { MediaParseError, type InboundMediaEvent } from '../../src/transports/media-serializer.ts';
import { TransportOutput } from '../../src/transports/transport-output.ts';
import type { Carrier } from '../server/carrier-socket.ts';
import fc from 'fast-check';
import { brokenMessage } from './arbitraries.ts';
import { KINDS, TEMPLATES } from './templates.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const PROTOCOLS = builtinCarriers.flatMap((carrier) => (carrier.mediaStream ? [carrier.mediaStream] : []));
const PARSERS: Record<Carrier, (text: string) => InboundMediaEvent> = { twilio: parseTwilioMediaMessage, plivo: parsePlivoMediaMessage };
const EVENT_TYPES = new Set(['connected', 'start', 'media', 'dtmf', 'mark', 'cleared', 'stop', 'notice', 'invalid']);
const PARSE_CODES = new Set(['binary-frame', 'malformed-json', 'unknown-event', 'missing-field', 'bad-payload']);

const counts: Record<string, number> = {};
afterAll(() => {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  console.info(`media-parser fuzz (seed ${SEED}): ${JSON.stringify(counts)}; ${total} inputs, 0 failures`);
});

/** Runs the property on RUNS inputs (fast-check, fixed seed); returns how many were tried. */
function run(arbitrary: fc.Arbitrary<string>, property: (text: string) => void): number {
  let tried = 0;
  fc.assert(
    fc.property(arbitrary, (text) => {
      tried++;
      property(text);
    }),
    { numRuns: RUNS, seed: SEED },
  );
  return tried;
}

function channelWith(format: ChannelAudioFormat): LocalMediaChannel {
  const channel = new LocalMediaChannel();
  Object.defineProperty(channel, 'format', { value: format });
  return channel;
}

for (const carrier of ['twilio', 'plivo'] as const) {
  describe(`${carrier} media messages`, () => {
    for (const kind of KINDS) {
      it(`${kind}: parse never throws and classifies every input`, () => {
        counts[`${carrier}.parse.${kind}`] = run(brokenMessage(TEMPLATES[carrier][kind]), (text) => {
          const event = PARSERS[carrier](text);
          expect(EVENT_TYPES.has(event.type)).toBe(true);
          if (event.type === 'invalid') {
            expect(event.error).toBeInstanceOf(MediaParseError);
            expect(PARSE_CODES.has(event.error.code)).toBe(true);
          }
          if (event.type === 'media') expect(Buffer.isBuffer(event.audio)).toBe(true);
        });
      });
    }

    it('start: recognition never throws; an accepted format is supported and paceable; serializers build', () => {
      counts[`${carrier}.start-recognition`] = run(brokenMessage(TEMPLATES[carrier].start), (text) => {
        const start = recognizeStreamStart(text, PROTOCOLS);
        if (!start) return;
        if (start.formatProblem) {
          expect(start.formatProblem).toMatch(/^unsupported (format|encoding)/);
          return;
        }
        const supported = start.protocol.supportedFormats ?? [];
        expect(supported).toContainEqual(start.format);
        expect(() => new TransportOutput(channelWith(start.format))).not.toThrow();
        const serializer = start.protocol.createSerializer(start);
        for (const out of [serializer.media(new Uint8Array(160)), serializer.mark('m'), serializer.clear()]) {
          expect(() => JSON.parse(out)).not.toThrow();
        }
      });
    });
  });
}

it('recorded every parser', () => {
  expect(Object.keys(counts)).toHaveLength(2 * (KINDS.length + 1));
});
