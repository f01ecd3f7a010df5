import type { ChannelAudioFormat } from '../audio/channel-audio-format.ts';
import { SwitchboardError } from '../errors.ts';
import type { SupportedFormats } from './stream-format.ts';

/** A carrier's name as registered (its adapter's `name`), e.g. the value stored in call records. */
type CarrierName = string;

/** What the carrier said when the stream started (Twilio `start`, Plivo `start`). */
export interface MediaStreamStart {
  carrier: CarrierName;
  /** Twilio `streamSid` (MZ…), Plivo `streamId` (UUID). Outbound messages must carry it. */
  streamId: string;
  /** Twilio CallSid (CA…), Plivo CallUUID. */
  carrierCallId: string;
  /** Twilio AccountSid (AC…), Plivo account id (MA…); empty string if the carrier left it out. */
  accountId: string;
  tracks: string[];
  /** Twilio `customParameters` (from `<Parameter>`), Plivo `extra_headers` parsed into pairs. */
  customParameters: Record<string, string>;
  /** What the stream carries (a supported format; see `formatProblem` when the carrier announced another). */
  format: ChannelAudioFormat;
  /**
   * Set when the start message announced a format the carrier's protocol does not support (its reason): the
   * stream is refused (close 1008) before any session is set up.
   */
  formatProblem?: string;
}

/** One message from the carrier, parsed. */
export type InboundMediaEvent =
  /** Twilio's first message; carries nothing we need. */
  | { type: 'connected' }
  | { type: 'start'; start: MediaStreamStart }
  /**
   * Caller audio. `audio` is a fresh buffer decoded from base64 (µ-law bytes, or little-endian 16-bit PCM for Plivo
   * L16). `chunk`/`timestampMs` are numbers whatever the carrier sent (Twilio sends strings, Plivo numbers).
   * `timestampMs` is ms since stream start for Twilio, Unix epoch ms for Plivo; NaN when absent.
   */
  | { type: 'media'; track: string; chunk: number; timestampMs: number; audio: Buffer }
  | { type: 'dtmf'; digit: string }
  /** Playback reached a mark we sent (Twilio `mark` echo, Plivo `playedStream`). */
  | { type: 'mark'; name: string }
  /** The carrier confirmed a clear (Plivo `clearedAudio`). */
  | { type: 'cleared' }
  /** The stream ended (Twilio `stop`, Plivo's optional `stop`). */
  | { type: 'stop'; reason: string | null }
  /** A known carrier message we do not act on (Plivo `playFailed`, `error`, `muteStream`, `unmuteStream`). */
  | { type: 'notice'; event: string; detail: string | null }
  | { type: 'invalid'; error: MediaParseError };

export type MediaParseErrorCode = 'binary-frame' | 'malformed-json' | 'unknown-event' | 'missing-field' | 'bad-payload';

/** A media-socket message that could not be understood. Returned, never thrown, by serializers' `parse`. */
export class MediaParseError extends SwitchboardError {
  readonly carrier: CarrierName;
  declare readonly code: MediaParseErrorCode;
  /** The message's `event` field when it had one. */
  readonly event: string | null;

  constructor(carrier: CarrierName, code: MediaParseErrorCode, message: string, event: string | null = null) {
    super(`${carrier} media message: ${message}`, { code });
    this.carrier = carrier;
    this.event = event;
  }
}

/**
 * Translates one carrier's media-socket JSON. One instance per stream (outbound messages carry the stream id).
 * `parse` never throws; builders return the exact text frame to send.
 */
export interface CarrierMediaSerializer {
  readonly carrier: CarrierName;
  parse(text: string): InboundMediaEvent;
  /** Audio to play, already in the stream's format. The bytes are encoded before returning (not kept). */
  media(audio: Uint8Array): string;
  mark(name: string): string;
  clear(): string;
  /** Carriers that can play DTMF on the call (Plivo `sendDTMF`). */
  dtmf?(digits: string): string;
}

/**
 * A carrier's media-WebSocket protocol: how to recognise its stream from the first messages on our media socket,
 * how to talk to it, and how its playback acknowledgements behave. Each WebSocket carrier's adapter provides one.
 */
export interface MediaStreamProtocol {
  /** The carrier's name (its adapter's `name`). */
  readonly carrier: CarrierName;
  /** The stream facts when `message` (one parsed JSON object) is this carrier's start message, else `null`. */
  recognize(message: Record<string, unknown>): MediaStreamStart | null;
  /** The serializer for a stream this protocol recognised. */
  createSerializer(start: MediaStreamStart): CarrierMediaSerializer;
  /**
   * True when the carrier echoes a mark sent before a `clear` even though its audio never played; the transport
   * then discounts marks that arrive after a clear.
   */
  readonly echoesMarksOnClear: boolean;
  /** The formats its start message may announce (others are refused with close 1008). @default any */
  readonly supportedFormats?: SupportedFormats;
  /** How many text messages may precede the start message (e.g. a `connected` greeting). @default 2 */
  readonly maxMessagesBeforeStart?: number;
}

/** Base64 of a byte view without copying it first. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Parses JSON text into a plain object, or returns a parse error. Shared by both carriers' `parse`. */
export function parseJsonObject(carrier: CarrierName, text: string): Record<string, unknown> | MediaParseError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return new MediaParseError(carrier, 'malformed-json', `not JSON: ${preview(text)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return new MediaParseError(carrier, 'malformed-json', `not a JSON object: ${preview(text)}`);
  }
  return value as Record<string, unknown>;
}

/** The start of a message, for error text (never the whole audio payload). */
export function preview(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

/** Reads a field that carriers send as a number or a numeric string (Twilio strings, Plivo numbers). */
export function numberField(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.length > 0) return Number(value);
  return Number.NaN;
}

/**
 * The `media` event Twilio and Plivo both send (`{media: {payload, track, chunk, timestamp}}`; Twilio's
 * numbers are strings, Plivo's `chunk` a number): the hot path, 50 messages a second per call.
 */
export function parseMediaEvent(carrier: CarrierName, msg: Record<string, unknown>): InboundMediaEvent {
  const media = msg.media;
  if (!isRecord(media) || typeof media.payload !== 'string') {
    return { type: 'invalid', error: new MediaParseError(carrier, 'missing-field', 'media without media.payload', 'media') };
  }
  // Node's decoder skips characters outside the alphabet silently; a payload with any is not audio we can trust.
  if (!BASE64.test(media.payload)) {
    return { type: 'invalid', error: new MediaParseError(carrier, 'bad-payload', 'media.payload is not base64', 'media') };
  }
  return {
    type: 'media',
    track: typeof media.track === 'string' ? media.track : 'inbound',
    chunk: numberField(media.chunk),
    timestampMs: numberField(media.timestamp),
    audio: Buffer.from(media.payload, 'base64'),
  };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
