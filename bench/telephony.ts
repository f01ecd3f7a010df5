import { PlivoMediaSerializer, parsePlivoMediaMessage } from '../src/telephony/plivo/media-serializer.ts';
import { TwilioMediaSerializer, parseTwilioMediaMessage } from '../src/telephony/twilio/media-serializer.ts';
import type { BenchRow, BenchSuite } from './types.ts';

const FRAME = Uint8Array.from({ length: 160 }, (_, i) => (i * 37 + 11) & 0xff); // 20 ms of 8 kHz µ-law
const PAYLOAD = Buffer.from(FRAME).toString('base64');
const STREAM_SID = 'MZ0123456789abcdef0123456789abcdef';
const PLIVO_STREAM = '87654321-4321-4321-4321-cba987654321';

const TWILIO_MEDIA = JSON.stringify({
  event: 'media',
  sequenceNumber: '1234',
  media: { track: 'inbound', chunk: '1233', timestamp: '24660', payload: PAYLOAD },
  streamSid: STREAM_SID,
});
const PLIVO_MEDIA = JSON.stringify({
  event: 'media',
  sequenceNumber: 1234,
  streamId: PLIVO_STREAM,
  media: { track: 'inbound', timestamp: '1705312200000', chunk: 1233, payload: PAYLOAD },
  extra_headers: 'callId=c123',
});

/** Mean µs per call of `fn` over `iterations`, after a warm-up. */
function measure(iterations: number, fn: () => number): number {
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink += fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += fn();
  const elapsedNs = Number(process.hrtime.bigint() - start);
  if (sink === -1) console.log(sink); // keeps the work observable
  return elapsedNs / iterations / 1000;
}

const round = (value: number): number => Math.round(value * 1000) / 1000;

/** Per-message cost of the carrier media hot path: 50 inbound + up to 50 outbound messages/s per call. */
export const benchTelephony: BenchSuite = async () => {
  const twilio = new TwilioMediaSerializer(STREAM_SID);
  const plivo = new PlivoMediaSerializer(PLIVO_STREAM, { encoding: 'mulaw', sampleRate: 8000 });
  const iterations = 200_000;
  const twilioParse = measure(iterations, () => {
    const event = parseTwilioMediaMessage(TWILIO_MEDIA);
    return event.type === 'media' ? event.audio.length : 0;
  });
  // charCodeAt flattens V8's lazy concatenation, as sending the string would.
  const twilioBuild = measure(iterations, () => twilio.media(FRAME).charCodeAt(200));
  const plivoParse = measure(iterations, () => {
    const event = parsePlivoMediaMessage(PLIVO_MEDIA);
    return event.type === 'media' ? event.audio.length : 0;
  });
  const plivoBuild = measure(iterations, () => plivo.media(FRAME).charCodeAt(200));
  // 100 calls × 50 messages/s each way, as a share of one core.
  const coreShare = (parse: number, build: number): number => ((parse + build) * 50 * 100) / 1e6;
  const rows: BenchRow[] = [
    { name: 'Twilio inbound media parse (20 ms µ-law, JSON + base64)', value: round(twilioParse), unit: 'µs' },
    { name: 'Twilio outbound media build (20 ms µ-law)', value: round(twilioBuild), unit: 'µs' },
    { name: 'Plivo inbound media parse (20 ms µ-law, JSON + base64)', value: round(plivoParse), unit: 'µs' },
    { name: 'Plivo outbound playAudio build (20 ms µ-law)', value: round(plivoBuild), unit: 'µs' },
    {
      name: 'Twilio media serialization, 100 calls both ways',
      value: round(coreShare(twilioParse, twilioBuild) * 100),
      unit: '% of a core',
    },
    { name: 'Plivo media serialization, 100 calls both ways', value: round(coreShare(plivoParse, plivoBuild) * 100), unit: '% of a core' },
  ];
  return rows;
};
