/** What a call needs from its endpoint (kept narrow so calls can be tested against a fake). */
import type { Logger } from '../../log.ts';
import type { MediaClock } from '../../transports/media-clock.ts';
import type { RtpMedia, RtpPortLease } from '../../transports/rtp/rtp-channel.ts';
import type { SipCodecName, SipCredentials } from './sip-config.ts';
import type { NameAddr } from './sip-message.ts';
import type { SipStack } from './transport/sip-stack.ts';
import type { SipTimers } from './transport/sip-transactions.ts';
import type { SipPeer, SipProtocol } from './transport/sip-transport.ts';

/** The endpoint's configuration with every default applied. */
export interface ResolvedSipSettings {
  publicAddress: string;
  /** Address RTP sockets bind to. */
  rtpBindAddress: string;
  rtpPortMin: number;
  rtpPortMax: number;
  transport: SipProtocol;
  codecs: SipCodecName[];
  sessionExpiresSec: number;
  minSessionExpiresSec: number;
  rtpTimeoutMs: number;
  ringTimeoutMs: number;
  userAgent: string;
  defaultFromUser: string;
  trunk: string | undefined;
  trunkCredentials: SipCredentials | undefined;
  outboundProxy: string | undefined;
}

export interface SipCallContext {
  readonly stack: SipStack;
  readonly settings: ResolvedSipSettings;
  readonly logger: Logger;
  readonly timers: SipTimers;
  readonly clock: MediaClock;
  /** Our Contact for requests/responses over `protocol`. */
  contact(protocol: SipProtocol, user?: string): NameAddr;
  /** Where a request to `uri` goes (cached per URI). */
  resolve(uri: string, preferred?: SipProtocol): Promise<SipPeer>;
  /** Binds an RTP port in the configured range. */
  bindRtp(): Promise<RtpPortLease>;
  /** Opens channels on ports from {@link bindRtp}. */
  readonly rtp: RtpMedia;
  /** Files the call under its dialog so in-dialog requests find it. */
  registerDialog(key: string, call: DialogOwner): void;
  forgetDialog(key: string): void;
}

/** What the endpoint routes in-dialog traffic to. */
export interface DialogOwner {
  readonly carrierCallId: string;
}
