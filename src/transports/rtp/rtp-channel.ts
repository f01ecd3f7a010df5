/**
 * What SIP calls hold on to for their media, whichever thread runs it: the RTP channel (a {@link MediaChannel}
 * with SIP's extras) and the port it was bound on before the SDP answer. {@link RtpMediaChannel} runs it on the
 * calling thread's media clock; `ThreadedRtpMedia` runs it on a media thread of its own, so pacing does not
 * wait for the agent's work on the main event loop.
 */
import type { Logger } from '../../log.ts';
import type { MediaChannel } from '../media-channel.ts';
import type { RtpChannelStats } from './rtp-media-channel.ts';
import type { NegotiatedMedia } from './sdp-negotiation.ts';

export interface RtpChannel extends MediaChannel {
  readonly stats: RtpChannelStats;
  /** Resolves with the final counters once the channel has closed (a media thread reports them then). */
  readonly closedStats: Promise<RtpChannelStats>;
  readonly localPort: number;
  readonly negotiated: NegotiatedMedia;
  /** Where we send (the SDP address, or the latched source). */
  readonly remote: { address: string; port: number };
  readonly isClosed: boolean;
  start(): void;
  sendDtmf(digits: string): void;
  /** A digit that arrived by other means (SIP INFO): the pipeline hears it like an RFC 4733 one. */
  deliverDtmf(digit: string): void;
  end(by: 'remote' | 'error', reason: string): void;
  updateMedia(media: NegotiatedMedia, trustedAddresses?: string[]): void;
}

/** A bound RTP port waiting for its channel (the SDP offer/answer names it first). `dgram.Socket` is one. */
export interface RtpPortLease {
  address(): { port: number };
  close(): void;
}

/** Everything a channel needs besides its port. */
export interface RtpChannelSpec {
  /** The SIP Call-ID. */
  carrierCallId: string;
  /** Our call id, on log lines. @default carrierCallId */
  callId?: string;
  media: NegotiatedMedia;
  /** More source addresses accepted besides the SDP address (the SIP peer's address). @default none */
  trustedAddresses?: string[];
  /** No RTP for this long while the peer should send ends the channel (`by: 'error'`). @default 30000 */
  rtpTimeoutMs?: number;
  /** @default silentLogger() */
  logger?: Logger;
  /** Called once when the channel ends by itself (RTP timeout): the call should hang up. */
  onFailure?: (reason: string) => void;
  /** Observes RFC 4733 digits (besides the handler). */
  onDtmf?: (digit: string) => void;
}

/** Binds RTP ports and opens channels on them. */
export interface RtpMedia {
  bind(address: string, range: { min: number; max: number }): Promise<RtpPortLease>;
  open(lease: RtpPortLease, spec: RtpChannelSpec): RtpChannel;
}
