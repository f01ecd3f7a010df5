import type { ChannelAudioFormat } from '../audio/channel-audio-format.ts';
import { SwitchboardError } from '../errors.ts';

/** A media format a stream cannot be run with (announced by a carrier, or given to a transport). */
export class MediaFormatError extends SwitchboardError {
  constructor(message: string) {
    super(message, { code: 'unsupported_media_format' });
  }
}

/**
 * What a carrier's start message may announce. Anything else is refused before a session is set up: a rate the
 * pipeline was never meant for (1 Hz, 7919 Hz, 1e12 Hz) makes frame sizes round to nothing or resamplers throw.
 */
export type SupportedFormats = readonly ChannelAudioFormat[];

const ENCODING_NAMES: Record<ChannelAudioFormat['encoding'], string> = {
  mulaw: 'audio/x-mulaw',
  alaw: 'audio/x-alaw',
  pcm16: 'audio/x-l16',
};

/** `audio/x-mulaw 8000 Hz, audio/x-l16 8000/16000 Hz`, for refusal reasons and docs. */
export function describeFormats(supported: SupportedFormats): string {
  const byEncoding = new Map<string, number[]>();
  for (const format of supported) {
    const rates = byEncoding.get(format.encoding) ?? [];
    rates.push(format.sampleRate);
    byEncoding.set(format.encoding, rates);
  }
  return [...byEncoding]
    .map(([encoding, rates]) => `${ENCODING_NAMES[encoding as ChannelAudioFormat['encoding']]} ${rates.join('/')} Hz`)
    .join(', ');
}

/** Shortened value for a reason text (close reasons are limited to 123 bytes). */
function shown(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 12 ? `${text.slice(0, 12)}…` : text;
}

/**
 * Why a start message's format cannot be served, or `null` when it is one of `supported`. `encoding` is the
 * carrier's own spelling already mapped to ours (`undefined` when the carrier's was not recognised, with `raw`
 * the value it sent).
 */
export function formatProblem(
  claimed: { encoding: ChannelAudioFormat['encoding'] | undefined; sampleRate: unknown; rawEncoding?: unknown },
  supported: SupportedFormats,
): string | null {
  if (claimed.encoding === undefined) {
    return `unsupported encoding ${shown(claimed.rawEncoding)}; supported: ${describeFormats(supported)}`;
  }
  const rate = claimed.sampleRate;
  const ok = supported.some((format) => format.encoding === claimed.encoding && format.sampleRate === rate);
  if (ok) return null;
  return `unsupported format ${ENCODING_NAMES[claimed.encoding]} at ${shown(rate)} Hz; supported: ${describeFormats(supported)}`;
}
