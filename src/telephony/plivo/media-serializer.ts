import type { ChannelAudioFormat } from '../../audio/channel-audio-format.ts';

import {
  MediaParseError,
  isRecord,
  numberField,
  parseMediaEvent,
  parseJsonObject,
  toBase64,
  type CarrierMediaSerializer,
  type InboundMediaEvent,
  type MediaStreamProtocol,
  type MediaStreamStart,
} from '../../transports/media-serializer.ts';
import { formatProblem } from '../../transports/stream-format.ts';
import { PLIVO_STREAM_CONTENT_TYPE, PLIVO_STREAM_FORMATS, plivoContentTypeFormat } from './stream-content-type.ts';

/** Plivo events we recognise but do not act on (sent per Plivo's stream SDKs, not its protocol page). */
const NOTICE_EVENTS = new Set(['playFailed', 'error', 'muteStream', 'unmuteStream']);
const DTMF_DIGITS = /^[0-9*#A-D]+$/;

/**
 * Plivo audio streams (bidirectional `<Stream>`). In: start, media, dtmf, playedStream, clearedAudio (+ the optional
 * stop and a few notices). Out: playAudio, checkpoint, clearAudio, sendDTMF.
 */
export class PlivoMediaSerializer implements CarrierMediaSerializer {
  readonly carrier = 'plivo' as const;
  readonly streamId: string;
  readonly format: ChannelAudioFormat;
  private readonly mediaPrefix: string;
  private readonly checkpointPrefix: string;
  private readonly clearMessage: string;

  /** `format` is what the stream carries (from its start message); playAudio must use the same. */
  constructor(streamId: string, format: ChannelAudioFormat) {
    if (format.encoding === 'alaw') throw new RangeError('Plivo streams carry µ-law or L16, not A-law');
    this.streamId = streamId;
    this.format = format;
    const id = JSON.stringify(streamId);
    const contentType = format.encoding === 'mulaw' ? 'audio/x-mulaw' : 'audio/x-l16';
    // Plivo's documented playAudio has no streamId (Pipecat adds one; both are accepted).
    this.mediaPrefix = `{"event":"playAudio","media":{"contentType":"${contentType}","sampleRate":${format.sampleRate},"payload":"`;
    this.checkpointPrefix = `{"event":"checkpoint","streamId":${id},"name":`;
    this.clearMessage = `{"event":"clearAudio","streamId":${id}}`;
  }

  parse(text: string): InboundMediaEvent {
    return parsePlivoMediaMessage(text);
  }

  /** µ-law bytes, or little-endian 16-bit PCM, in the stream's format. */
  media(audio: Uint8Array): string {
    return this.mediaPrefix + toBase64(audio) + '"}}';
  }

  mark(name: string): string {
    return this.checkpointPrefix + JSON.stringify(name) + '}';
  }

  clear(): string {
    return this.clearMessage;
  }

  dtmf(digits: string): string {
    if (!DTMF_DIGITS.test(digits)) throw new RangeError(`DTMF digits must match [0-9*#A-D]+, got ${JSON.stringify(digits)}`);
    return `{"event":"sendDTMF","dtmf":"${digits}"}`;
  }
}

function invalid(code: MediaParseError['code'], message: string, event: string | null = null): InboundMediaEvent {
  return { type: 'invalid', error: new MediaParseError('plivo', code, message, event) };
}

/** Parse one Plivo media-socket text message. Never throws. */
export function parsePlivoMediaMessage(text: string): InboundMediaEvent {
  const msg = parseJsonObject('plivo', text);
  if (msg instanceof MediaParseError) return { type: 'invalid', error: msg };
  const event = msg.event;
  switch (event) {
    case 'media':
      return parseMediaEvent('plivo', msg);
    case 'playedStream':
    case 'played': // older name in a Plivo support article
      if (typeof msg.name !== 'string') return invalid('missing-field', `${event} without name`, event);
      return { type: 'mark', name: msg.name };
    case 'clearedAudio':
      return { type: 'cleared' };
    case 'dtmf': {
      const dtmf = msg.dtmf;
      if (!isRecord(dtmf) || typeof dtmf.digit !== 'string') return invalid('missing-field', 'dtmf without dtmf.digit', event);
      return { type: 'dtmf', digit: dtmf.digit };
    }
    case 'start': {
      const start = plivoStreamStart(msg);
      return start ? { type: 'start', start } : invalid('missing-field', 'start without start.streamId/start.callId', event);
    }
    case 'stop':
      return { type: 'stop', reason: typeof msg.reason === 'string' ? msg.reason : null };
    default:
      if (typeof event === 'string' && NOTICE_EVENTS.has(event)) {
        const detail = typeof msg.reason === 'string' ? msg.reason : typeof msg.name === 'string' ? msg.name : null;
        return { type: 'notice', event, detail };
      }
      return invalid('unknown-event', `unknown event ${JSON.stringify(event)}`, typeof event === 'string' ? event : null);
  }
}

/**
 * Plivo's start message → stream facts, or `null` when it is not one. Rule (as Pipecat): string `start.streamId`
 * and `start.callId`.
 */
export function plivoStreamStart(msg: Record<string, unknown>): MediaStreamStart | null {
  if (msg.event !== 'start' || !isRecord(msg.start)) return null;
  const start = msg.start;
  if (typeof start.streamId !== 'string' || typeof start.callId !== 'string') return null;
  const format = plivoStreamFormat(isRecord(start.mediaFormat) ? start.mediaFormat : {});
  return {
    carrier: 'plivo',
    streamId: start.streamId,
    carrierCallId: start.callId,
    accountId: typeof start.accountId === 'string' ? start.accountId : '',
    tracks: Array.isArray(start.tracks) ? start.tracks.filter((t): t is string => typeof t === 'string') : ['inbound'],
    customParameters: parsePlivoExtraHeaders(msg.extra_headers),
    format: format.problem ? plivoContentTypeFormat(PLIVO_STREAM_CONTENT_TYPE) : format.format,
    ...(format.problem ? { formatProblem: format.problem } : {}),
  };
}

/**
 * The format a Plivo start message announces. Leniently read: any encoding spelling containing `mulaw` is µ-law,
 * any containing `l16` is L16; a missing encoding or rate means what our markup asked for
 * ({@link PLIVO_STREAM_CONTENT_TYPE}), since Plivo streams what `contentType` names. Anything else is a problem.
 */
export function plivoStreamFormat(mediaFormat: Record<string, unknown>): { format: ChannelAudioFormat; problem: string | null } {
  const asked = plivoContentTypeFormat(PLIVO_STREAM_CONTENT_TYPE);
  const rawEncoding = mediaFormat.encoding;
  let encoding: ChannelAudioFormat['encoding'] | undefined;
  if (rawEncoding === undefined || rawEncoding === null || rawEncoding === '') encoding = asked.encoding;
  else if (typeof rawEncoding === 'string' && /mulaw/i.test(rawEncoding)) encoding = 'mulaw';
  else if (typeof rawEncoding === 'string' && /l16/i.test(rawEncoding)) encoding = 'pcm16';
  const rawRate = mediaFormat.sampleRate;
  const sampleRate = rawRate === undefined || rawRate === null || rawRate === '' ? asked.sampleRate : numberField(rawRate);
  const problem = formatProblem({ encoding, sampleRate, rawEncoding }, PLIVO_STREAM_FORMATS);
  return { format: { encoding: encoding ?? asked.encoding, sampleRate }, problem };
}

/**
 * Plivo `extra_headers`: documented as `k=v;k2=v2` on the socket although the XML attribute uses `k=v,k2=v2`; some
 * implementations also see a JSON object string. All three are accepted.
 */
export function parsePlivoExtraHeaders(value: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  let source: unknown = value;
  if (typeof source === 'string' && source.trimStart().startsWith('{')) {
    try {
      source = JSON.parse(source);
    } catch {
      // fall through: treat it as pairs
    }
  }
  if (isRecord(source)) {
    for (const [key, v] of Object.entries(source)) result[key] = String(v);
    return result;
  }
  if (typeof source !== 'string') return result;
  for (const pair of source.split(/[;,]/)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    result[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return result;
}

/** Plivo audio streams as our media socket sees them: recognised by its `start`; clears are confirmed, not echoed. */
export const plivoMediaStream: MediaStreamProtocol = {
  carrier: 'plivo',
  recognize: plivoStreamStart,
  createSerializer: (start) => new PlivoMediaSerializer(start.streamId, start.format),
  // Plivo confirms a clear with `clearedAudio`; pending checkpoints then get no `playedStream`.
  echoesMarksOnClear: false,
  supportedFormats: PLIVO_STREAM_FORMATS,
  maxMessagesBeforeStart: 2,
};
