/**
 * SDP offer/answer (RFC 3264) for one audio stream, with `sdp-transform` doing the parsing and writing.
 *
 * - Answers use the offerer's payload type numbers and pick the first offered codec we support.
 * - `telephone-event` is accepted at the chosen codec's clock rate only.
 * - Other streams (video…) are refused with port 0, as RFC 3264 §6 requires.
 * - Hold: a `sendonly` offer is answered `recvonly`, `inactive` with `inactive`, and `c=0.0.0.0` (RFC 2543
 *   hold) means the offerer does not want media, so we answer without sending.
 */
import { parse, write, type MediaDescription, type SessionDescription } from 'sdp-transform';
import { SwitchboardError } from '../../errors.ts';

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** What both sides agreed on, seen from our side. */
export interface NegotiatedMedia {
  codec: string;
  payloadType: number;
  clockRate: number;
  channels: number;
  telephoneEventPayloadType: number | undefined;
  remoteAddress: string;
  remotePort: number;
  /** Our direction: whether we may send (`sendrecv`/`sendonly`) and should expect media. */
  direction: MediaDirection;
  /** The peer's a=ptime, if given. */
  remotePtimeMs: number | undefined;
}

/** Our side of the session description. */
export interface LocalMediaDescription {
  address: string;
  port: number;
  /** Codec names in our preference order (PCMU, PCMA, opus). */
  codecs: readonly string[];
  sessionId: number;
  sessionVersion: number;
  /** Direction we want (an offer) or allow at most (an answer). @default 'sendrecv' */
  direction?: MediaDirection;
}

/** The offer cannot be accepted: 488 Not Acceptable Here (or 400 when it is not SDP at all). */
export class SdpNegotiationError extends SwitchboardError {
  constructor(
    message: string,
    readonly sipStatus: 400 | 488,
  ) {
    super(message, { code: 'sdp_negotiation_failed', providerCode: sipStatus });
  }
}

interface CodecInfo {
  name: string;
  clockRate: number;
  channels: number;
  staticPayloadType?: number;
  fmtp?: string;
}

const KNOWN_CODECS: Record<string, CodecInfo> = {
  pcmu: { name: 'PCMU', clockRate: 8000, channels: 1, staticPayloadType: 0 },
  pcma: { name: 'PCMA', clockRate: 8000, channels: 1, staticPayloadType: 8 },
  opus: { name: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' },
};

/** Static payload types an offer may use without a=rtpmap (RFC 3551). */
const STATIC_TYPES: Record<number, { name: string; clockRate: number }> = {
  0: { name: 'PCMU', clockRate: 8000 },
  8: { name: 'PCMA', clockRate: 8000 },
};

const DYNAMIC_TELEPHONE_EVENT = 101;
const DYNAMIC_OPUS = 111;

function codecInfo(name: string): CodecInfo {
  const info = KNOWN_CODECS[name.toLowerCase()];
  if (!info) throw new Error(`unsupported codec ${name}`);
  return info;
}

export function oppositeDirection(direction: MediaDirection): MediaDirection {
  if (direction === 'sendonly') return 'recvonly';
  if (direction === 'recvonly') return 'sendonly';
  return direction;
}

/** Directions both allowed by `a` and `b`. */
function intersect(a: MediaDirection, b: MediaDirection): MediaDirection {
  const send = a !== 'recvonly' && a !== 'inactive' && b !== 'recvonly' && b !== 'inactive';
  const recv = a !== 'sendonly' && a !== 'inactive' && b !== 'sendonly' && b !== 'inactive';
  return send && recv ? 'sendrecv' : send ? 'sendonly' : recv ? 'recvonly' : 'inactive';
}

export function canSend(direction: MediaDirection): boolean {
  return direction === 'sendrecv' || direction === 'sendonly';
}

export function canReceive(direction: MediaDirection): boolean {
  return direction === 'sendrecv' || direction === 'recvonly';
}

function parseSdp(text: string): SessionDescription {
  let sdp: SessionDescription;
  try {
    sdp = parse(text);
  } catch (error) {
    throw new SdpNegotiationError(`unparseable SDP: ${error instanceof Error ? error.message : String(error)}`, 400);
  }
  if (!Array.isArray(sdp.media) || sdp.media.length === 0) throw new SdpNegotiationError('SDP has no media', 488);
  return sdp;
}

interface OfferedPayload {
  payloadType: number;
  name: string;
  clockRate: number;
  channels: number;
}

function offeredPayloads(media: MediaDescription): OfferedPayload[] {
  const types = String(media.payloads ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n >= 0 && n <= 127);
  return types.flatMap((payloadType) => {
    const map = media.rtp?.find((r) => r.payload === payloadType);
    if (map) return [{ payloadType, name: map.codec, clockRate: map.rate ?? 8000, channels: Number(map.encoding ?? 1) || 1 }];
    const known = STATIC_TYPES[payloadType];
    return known ? [{ payloadType, ...known, channels: 1 }] : [];
  });
}

function connectionOf(sdp: SessionDescription, media: MediaDescription): string {
  const address = media.connection?.ip ?? sdp.connection?.ip;
  if (!address) throw new SdpNegotiationError('SDP has no connection address', 488);
  return address.split('/')[0] as string; // drop a multicast TTL
}

function directionOf(sdp: SessionDescription, media: MediaDescription): MediaDirection {
  return (media.direction ?? (sdp as { direction?: MediaDirection }).direction ?? 'sendrecv') as MediaDirection;
}

function isHoldAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

function isAudioRtp(media: MediaDescription): boolean {
  return media.type === 'audio' && media.port !== 0 && /^RTP\/AVPF?$/i.test(media.protocol);
}

/** Reads the remote side's audio stream (offer or answer) against our codec list. */
function chooseMedia(
  sdp: SessionDescription,
  media: MediaDescription,
  codecs: readonly string[],
  prefer?: string,
): Omit<NegotiatedMedia, 'direction'> & { remoteDirection: MediaDirection } {
  const offered = offeredPayloads(media);
  const wanted = new Set(codecs.map((c) => c.toLowerCase()));
  const usable = offered.filter((p) => wanted.has(p.name.toLowerCase()) && codecInfo(p.name).clockRate === p.clockRate);
  const chosen = usable.find((p) => prefer !== undefined && p.name.toLowerCase() === prefer.toLowerCase()) ?? usable[0];
  if (!chosen) {
    const names = offered.map((p) => `${p.name}/${p.clockRate}`).join(' ') || 'none';
    throw new SdpNegotiationError(`no common codec (offered: ${names}; we support: ${codecs.join(' ')})`, 488);
  }
  const event = offered.find((p) => p.name.toLowerCase() === 'telephone-event' && p.clockRate === chosen.clockRate);
  return {
    codec: codecInfo(chosen.name).name,
    payloadType: chosen.payloadType,
    clockRate: chosen.clockRate,
    channels: chosen.channels,
    telephoneEventPayloadType: event?.payloadType,
    remoteAddress: connectionOf(sdp, media),
    remotePort: media.port,
    remoteDirection: directionOf(sdp, media),
    remotePtimeMs: media.ptime,
  };
}

/** Writes our SDP for one audio stream with the given payload types. */
function describe(local: LocalMediaDescription, payloads: OfferedPayload[], direction: MediaDirection, extra: MediaDescription[]): string {
  const ipVer = local.address.includes(':') ? 6 : 4;
  const audio: MediaDescription = {
    type: 'audio',
    port: local.port,
    protocol: 'RTP/AVP',
    payloads: payloads.map((p) => p.payloadType).join(' '),
    rtp: payloads.map((p) => ({
      payload: p.payloadType,
      codec: p.name,
      rate: p.clockRate,
      ...(p.channels > 1 ? { encoding: p.channels } : {}),
    })),
    fmtp: payloads.flatMap((p) => {
      if (p.name === 'telephone-event') return [{ payload: p.payloadType, config: '0-16' }];
      const fmtp = KNOWN_CODECS[p.name.toLowerCase()]?.fmtp;
      return fmtp ? [{ payload: p.payloadType, config: fmtp }] : [];
    }),
    ptime: 20,
    direction,
  };
  const sdp: SessionDescription = {
    version: 0,
    origin: {
      username: '-',
      sessionId: local.sessionId,
      sessionVersion: local.sessionVersion,
      netType: 'IN',
      ipVer,
      address: local.address,
    },
    name: 'Switchboard',
    connection: { version: ipVer, ip: local.address },
    timing: { start: 0, stop: 0 },
    media: [audio, ...extra],
  };
  return write(sdp);
}

/** Our offer: every codec we support (static types where they exist) plus telephone-event per clock rate. */
export function createOffer(local: LocalMediaDescription): string {
  const payloads: OfferedPayload[] = local.codecs.map((name) => {
    const info = codecInfo(name);
    return { payloadType: info.staticPayloadType ?? DYNAMIC_OPUS, name: info.name, clockRate: info.clockRate, channels: info.channels };
  });
  const rates = [...new Set(payloads.map((p) => p.clockRate))];
  rates.forEach((clockRate, i) =>
    payloads.push({ payloadType: DYNAMIC_TELEPHONE_EVENT + i, name: 'telephone-event', clockRate, channels: 1 }),
  );
  return describe(local, payloads, local.direction ?? 'sendrecv', []);
}

/**
 * Answers an offer. `prefer` keeps the current codec on a re-INVITE when the offer still has it. Throws
 * {@link SdpNegotiationError} (→ 488 / 400).
 */
export function answerOffer(offer: string, local: LocalMediaDescription, prefer?: string): { sdp: string; media: NegotiatedMedia } {
  const sdp = parseSdp(offer);
  const index = sdp.media.findIndex(isAudioRtp);
  if (index < 0) {
    const secure = sdp.media.some((m) => m.type === 'audio' && /SAVP/i.test(m.protocol));
    throw new SdpNegotiationError(secure ? 'SRTP (RTP/SAVP) is not supported' : 'no audio stream offered', 488);
  }
  const media = sdp.media[index] as MediaDescription;
  const chosen = chooseMedia(sdp, media, local.codecs, prefer);
  let direction = intersect(oppositeDirection(chosen.remoteDirection), local.direction ?? 'sendrecv');
  if (isHoldAddress(chosen.remoteAddress)) direction = intersect(direction, 'recvonly');
  const payloads: OfferedPayload[] = [
    { payloadType: chosen.payloadType, name: chosen.codec, clockRate: chosen.clockRate, channels: chosen.channels },
  ];
  if (chosen.telephoneEventPayloadType !== undefined) {
    payloads.push({ payloadType: chosen.telephoneEventPayloadType, name: 'telephone-event', clockRate: chosen.clockRate, channels: 1 });
  }
  // Refused streams keep their place with port 0 (RFC 3264 §6).
  const refused = sdp.media.map(
    (m) => ({ type: m.type, port: 0, protocol: m.protocol, payloads: String(m.payloads ?? '0') }) as MediaDescription,
  );
  const before = refused.slice(0, index);
  const after = refused.slice(index + 1);
  let text = describe(local, payloads, direction, after);
  if (before.length > 0) {
    // Keep m-line order: rebuild with the refused streams first.
    const parsed = parse(text);
    parsed.media = [...before, ...parsed.media];
    text = write(parsed);
  }
  const { remoteDirection: _remote, ...rest } = chosen;
  return { sdp: text, media: { ...rest, direction } };
}

/** Reads the answer to our offer. Throws {@link SdpNegotiationError} when it accepted nothing we can use. */
export function readAnswer(answer: string, local: LocalMediaDescription): NegotiatedMedia {
  const sdp = parseSdp(answer);
  const media = sdp.media.find(isAudioRtp);
  if (!media) throw new SdpNegotiationError('answer refused the audio stream', 488);
  const chosen = chooseMedia(sdp, media, local.codecs);
  let direction = intersect(oppositeDirection(chosen.remoteDirection), local.direction ?? 'sendrecv');
  if (isHoldAddress(chosen.remoteAddress)) direction = intersect(direction, 'recvonly');
  const { remoteDirection: _remote, ...rest } = chosen;
  return { ...rest, direction };
}

/** The o= line's session id and version of an SDP body (to spot an unchanged re-offer). */
export function sdpOriginVersion(text: string): { sessionId: string; version: number } | undefined {
  try {
    const sdp = parse(text);
    return { sessionId: String(sdp.origin?.sessionId), version: Number(sdp.origin?.sessionVersion) };
  } catch {
    return undefined;
  }
}
