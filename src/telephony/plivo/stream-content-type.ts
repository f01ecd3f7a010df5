import type { ChannelAudioFormat } from '../../audio/channel-audio-format.ts';
import type { SupportedFormats } from '../../transports/stream-format.ts';

/** The `<Stream contentType>` values Plivo documents. */
export type PlivoStreamContentType = 'audio/x-mulaw;rate=8000' | 'audio/x-l16;rate=8000' | 'audio/x-l16;rate=16000';

/** What our answer markup asks Plivo for: µ-law 8 kHz both ways (no resampling for µ-law pipelines). */
export const PLIVO_STREAM_CONTENT_TYPE: PlivoStreamContentType = 'audio/x-mulaw;rate=8000';

/** The formats Plivo streams carry (one per documented content type). */
export const PLIVO_STREAM_FORMATS: SupportedFormats = [
  { encoding: 'mulaw', sampleRate: 8000 },
  { encoding: 'pcm16', sampleRate: 8000 },
  { encoding: 'pcm16', sampleRate: 16000 },
];

/** A content type as the channel format it carries. */
export function plivoContentTypeFormat(contentType: PlivoStreamContentType): ChannelAudioFormat {
  const [mime, rate] = contentType.split(';rate=') as [string, string];
  return { encoding: mime === 'audio/x-mulaw' ? 'mulaw' : 'pcm16', sampleRate: Number(rate) };
}
