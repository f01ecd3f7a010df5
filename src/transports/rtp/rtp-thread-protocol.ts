/**
 * Messages between the main thread and the RTP media thread. Both directions are batched: each side collects
 * what one event-loop turn produced and posts it as one array, so 100 calls' 20 ms frames cost one message per
 * tick, not one per frame.
 */
import type { AudioPayload } from '../../pipeline/audio-payload.ts';
import type { ChannelCloseInfo } from '../media-channel.ts';
import type { RtpChannelStats } from './rtp-media-channel.ts';
import type { NegotiatedMedia } from './sdp-negotiation.ts';

/** Main → media thread. `id` names a bound port and, once opened, its channel. */
export type ToMediaThread =
  | { t: 'bind'; id: number; address: string; min: number; max: number }
  | { t: 'release'; id: number }
  | { t: 'open'; id: number; carrierCallId: string; media: NegotiatedMedia; trusted: string[]; rtpTimeoutMs?: number }
  | { t: 'start'; id: number }
  | { t: 'audio'; id: number; bytes: Uint8Array }
  | { t: 'mark'; id: number; name: string }
  | { t: 'clear'; id: number }
  | { t: 'dtmf'; id: number; digits: string }
  | { t: 'update'; id: number; media: NegotiatedMedia; trusted: string[] }
  | { t: 'close'; id: number; reason: string }
  | { t: 'end'; id: number; by: 'remote' | 'error'; reason: string };

/** Media thread → main. */
export type FromMediaThread =
  | { t: 'bound'; id: number; port: number }
  | { t: 'bindFailed'; id: number; message: string }
  | { t: 'audio'; id: number; audio: AudioPayload }
  | { t: 'mark'; id: number; name: string }
  /** With the counters at the clear (what had been sent when the audio stopped). */
  | { t: 'cleared'; id: number; stats: RtpChannelStats }
  | { t: 'dtmf'; id: number; digit: string }
  | { t: 'failure'; id: number; reason: string }
  | { t: 'remote'; id: number; address: string; port: number }
  | { t: 'closed'; id: number; info: ChannelCloseInfo; stats: RtpChannelStats }
  /** A pino JSON line the channel logged (re-logged on main with the call's logger). */
  | { t: 'log'; id: number; line: string };
