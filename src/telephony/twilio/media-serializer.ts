import {
  MediaParseError,
  isRecord,
  parseMediaEvent,
  parseJsonObject,
  toBase64,
  type CarrierMediaSerializer,
  type InboundMediaEvent,
  type MediaStreamProtocol,
  type MediaStreamStart,
} from '../../transports/media-serializer.ts';
import { formatProblem, type SupportedFormats } from '../../transports/stream-format.ts';

/** Twilio Media Streams carry µ-law at 8 kHz only (the one format Twilio documents for them). */
export const TWILIO_STREAM_FORMATS: SupportedFormats = [{ encoding: 'mulaw', sampleRate: 8000 }];

/**
 * Twilio Media Streams (bidirectional `<Connect><Stream>`). In: connected, start, media, dtmf, mark, stop.
 * Out: media, mark, clear — anything else makes Twilio log error 31924.
 */
export class TwilioMediaSerializer implements CarrierMediaSerializer {
  readonly carrier = 'twilio' as const;
  readonly streamSid: string;
  // The outbound JSON shapes are fixed; only the payload/name changes, so the rest is built once per stream.
  private readonly mediaPrefix: string;
  private readonly markPrefix: string;
  private readonly clearMessage: string;

  constructor(streamSid: string) {
    this.streamSid = streamSid;
    const sid = JSON.stringify(streamSid);
    this.mediaPrefix = `{"event":"media","streamSid":${sid},"media":{"payload":"`;
    this.markPrefix = `{"event":"mark","streamSid":${sid},"mark":{"name":`;
    this.clearMessage = `{"event":"clear","streamSid":${sid}}`;
  }

  parse(text: string): InboundMediaEvent {
    return parseTwilioMediaMessage(text);
  }

  /** µ-law 8 kHz bytes, no header. */
  media(audio: Uint8Array): string {
    return this.mediaPrefix + toBase64(audio) + '"}}';
  }

  mark(name: string): string {
    return this.markPrefix + JSON.stringify(name) + '}}';
  }

  clear(): string {
    return this.clearMessage;
  }
}

function invalid(code: MediaParseError['code'], message: string, event: string | null = null): InboundMediaEvent {
  return { type: 'invalid', error: new MediaParseError('twilio', code, message, event) };
}

/** Parse one Twilio media-socket text message. Never throws. */
export function parseTwilioMediaMessage(text: string): InboundMediaEvent {
  const msg = parseJsonObject('twilio', text);
  if (msg instanceof MediaParseError) return { type: 'invalid', error: msg };
  const event = msg.event;
  switch (event) {
    case 'media':
      return parseMediaEvent('twilio', msg);
    case 'mark': {
      const mark = msg.mark;
      if (!isRecord(mark) || typeof mark.name !== 'string') return invalid('missing-field', 'mark without mark.name', event);
      return { type: 'mark', name: mark.name };
    }
    case 'dtmf': {
      const dtmf = msg.dtmf;
      if (!isRecord(dtmf) || typeof dtmf.digit !== 'string') return invalid('missing-field', 'dtmf without dtmf.digit', event);
      return { type: 'dtmf', digit: dtmf.digit };
    }
    case 'start': {
      const start = twilioStreamStart(msg);
      return start ? { type: 'start', start } : invalid('missing-field', 'start without start.streamSid/start.callSid', event);
    }
    case 'connected':
      return { type: 'connected' };
    case 'stop':
      return { type: 'stop', reason: null };
    default:
      return invalid('unknown-event', `unknown event ${JSON.stringify(event)}`, typeof event === 'string' ? event : null);
  }
}

/**
 * Twilio's start message → stream facts, or `null` when it is not one. Rule (as Pipecat): `event == "start"` with
 * string `start.streamSid` and `start.callSid`.
 */
export function twilioStreamStart(msg: Record<string, unknown>): MediaStreamStart | null {
  if (msg.event !== 'start' || !isRecord(msg.start)) return null;
  const start = msg.start;
  if (typeof start.streamSid !== 'string' || typeof start.callSid !== 'string') return null;
  const customParameters: Record<string, string> = {};
  if (isRecord(start.customParameters)) {
    for (const [key, value] of Object.entries(start.customParameters)) customParameters[key] = String(value);
  }
  const mediaFormat = isRecord(start.mediaFormat) ? start.mediaFormat : {};
  // Absent fields mean Twilio's one format; present ones must be it (a tiny or absurd rate is refused, not used).
  const rawEncoding = mediaFormat.encoding;
  const encoding = rawEncoding === undefined || (typeof rawEncoding === 'string' && /mulaw/i.test(rawEncoding)) ? 'mulaw' : undefined;
  const sampleRate = mediaFormat.sampleRate === undefined ? 8000 : mediaFormat.sampleRate;
  const problem = formatProblem({ encoding, sampleRate, rawEncoding }, TWILIO_STREAM_FORMATS);
  return {
    carrier: 'twilio',
    streamId: start.streamSid,
    carrierCallId: start.callSid,
    accountId: typeof start.accountSid === 'string' ? start.accountSid : '',
    tracks: Array.isArray(start.tracks) ? start.tracks.filter((t): t is string => typeof t === 'string') : ['inbound'],
    customParameters,
    // Twilio streams are always µ-law 8 kHz (the only format it documents for Media Streams).
    format: { encoding: 'mulaw', sampleRate: 8000 },
    ...(problem ? { formatProblem: problem } : {}),
  };
}

/** Twilio Media Streams as our media socket sees them: recognised by its `start`, and it echoes marks on `clear`. */
export const twilioMediaStream: MediaStreamProtocol = {
  carrier: 'twilio',
  recognize: twilioStreamStart,
  createSerializer: (start) => new TwilioMediaSerializer(start.streamId),
  // Twilio echoes a mark sent before a clear even though its audio never played.
  echoesMarksOnClear: true,
  // `connected` comes first.
  supportedFormats: TWILIO_STREAM_FORMATS,
  maxMessagesBeforeStart: 2,
};
