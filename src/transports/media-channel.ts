import type { ChannelAudioFormat } from '../audio/channel-audio-format.ts';
import type { AudioPayload } from '../pipeline/audio-payload.ts';

/** Why a media channel closed. */
export interface ChannelCloseInfo {
  /** `remote`: the carrier/caller ended the stream (hang-up, stop); `local`: we closed it; `error`: it broke. */
  by: 'remote' | 'local' | 'error';
  reason: string;
}

/** What the carrier tells us. Set once per channel; called synchronously on the socket's event loop turn. */
export interface MediaChannelHandler {
  /** Caller audio, in the channel's format (μ-law bytes are passed through, not decoded). */
  audio(audio: AudioPayload): void;
  /** The carrier played everything sent before the mark with this name (Twilio `mark`, Plivo `playedStream`). */
  mark(name: string): void;
  /** The carrier confirmed a `clear` (Plivo `clearedAudio`); carriers without a confirmation never call it. */
  cleared?(): void;
  dtmf(digit: string): void;
  closed(info: ChannelCloseInfo): void;
}

/**
 * The carrier side of one call's media: a Twilio or Plivo media WebSocket, a SIP/RTP leg, or the local
 * in-process channel used in tests. Transports drive it; serializers implement it per carrier.
 */
export interface MediaChannel {
  /** Identifies the call on the carrier side (Twilio CallSid, Plivo CallUUID). */
  readonly carrierCallId: string;
  readonly format: ChannelAudioFormat;
  /**
   * True when the carrier echoes a `mark` sent before a `clear` even though its audio never played
   * (reported for Twilio). Transports then discount marks that arrive after a clear.
   */
  readonly echoesMarksOnClear: boolean;
  setHandler(handler: MediaChannelHandler): void;
  /**
   * Queue audio for playback, already in {@link format}. The channel must not keep `bytes` after returning
   * (transports reuse the buffer for the next frame).
   */
  sendAudio(bytes: Uint8Array): void;
  /** Ask for an acknowledgement once everything queued so far has played. */
  sendMark(name: string): void;
  /** Drop audio queued at the carrier that has not played yet (barge-in). */
  clear(): void;
  /** Send DTMF digits to the far end where the carrier supports it. */
  sendDtmf?(digits: string): void;
  /**
   * The far end hears keys only as sound (carrier media streams): transports play generated DTMF tones in the
   * audio instead of calling {@link sendDtmf}. @default false (use `sendDtmf`: SIP RFC 4733, Daily)
   */
  readonly dtmfInBand?: boolean;
  /** Close the media stream (not the call: hanging up is the carrier REST client's job). */
  close(reason: string): void;
  /**
   * Why the media broke under the call (peer vanished, inbound audio stopped, socket error), once it has;
   * `undefined` while healthy and after an ordinary close. Channels that cannot tell leave it out.
   */
  readonly failure?: string | undefined;
  /** What arrived from the carrier: audio frames, and messages dropped per reason. Optional. */
  inboundStats?(): MediaInboundStats;
}

/** Counters of a channel's inbound messages. */
export interface MediaInboundStats {
  /** Audio frames accepted. */
  frames: number;
  /** Other messages acted on (marks, clears, DTMF, notices). */
  events: number;
  /** Messages dropped, by reason (`malformed-json`, `unknown-event`, `missing-field`, `binary-frame`, `bad-payload`…). */
  dropped: Record<string, number>;
}
