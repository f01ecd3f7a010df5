/**
 * An INVITE we received: who calls whom (From, To, request URI, X- headers, source address) until the
 * application accepts it (200 OK with our SDP answer → an RTP media channel) or rejects it. A CANCEL before
 * that ends it with 487.
 */
import type { RtpChannel, RtpPortLease } from '../../transports/rtp/rtp-channel.ts';
import { answerOffer, createOffer, readAnswer, sdpOriginVersion, SdpNegotiationError } from '../../transports/rtp/sdp-negotiation.ts';
import { parseSipUri } from './lib/sip-codec.ts';
import { ALLOWED_METHODS, SipCall, SUPPORTED_EXTENSIONS } from './sip-call.ts';
import type { SipCallContext } from './sip-call-context.ts';
import type { SipCodecName } from './sip-config.ts';
import { SipDialog } from './sip-dialog.ts';
import { contentType, customHeaders, makeResponse, newTag, utf8FromWire, type SipRequest } from './sip-message.ts';
import type { IncomingRequest } from './transport/sip-stack.ts';
import type { InviteServerTransaction } from './transport/sip-transactions.ts';
import type { SipPeer } from './transport/sip-transport.ts';

export interface SipParty {
  uri: string;
  /** User part of the URI (a number or a name), if any. */
  user: string | undefined;
  displayName: string | undefined;
}

export interface AcceptOptions {
  /** Codecs to accept, in preference order. @default the endpoint's codecs */
  codecs?: SipCodecName[];
  /** Extra headers on the 200 OK. */
  headers?: Record<string, string>;
}

function party(nameAddr: { uri: string; name?: string }): SipParty {
  return { uri: nameAddr.uri, user: parseSipUri(nameAddr.uri)?.user, displayName: utf8FromWire(nameAddr.name) };
}

export class IncomingSipCall extends SipCall {
  readonly direction = 'inbound' as const;
  readonly from: SipParty;
  readonly to: SipParty;
  readonly requestUri: string;
  /** User part of the request URI: the number or name that was dialled. */
  readonly requestUser: string | undefined;
  /** `X-` headers of the INVITE, with their original spelling. */
  readonly headers: Record<string, string>;
  /** Where the INVITE came from. */
  readonly source: SipPeer;
  private readonly localTag = newTag();
  private state: 'offered' | 'accepting' | 'answered' | 'closed' = 'offered';
  private lateOffer: ((channel: RtpChannel) => void) | undefined;
  private lateOfferFailed: ((error: Error) => void) | undefined;
  private pendingSocket: RtpPortLease | undefined;

  constructor(
    context: SipCallContext,
    private readonly invite: IncomingRequest,
    private readonly transaction: InviteServerTransaction,
    source: SipPeer,
  ) {
    super(context, invite.headers['call-id'], 'uas');
    this.peer = source;
    this.source = source;
    this.from = party(invite.headers.from);
    this.to = party(invite.headers.to);
    this.requestUri = invite.uri;
    this.requestUser = parseSipUri(invite.uri)?.user;
    this.headers = customHeaders(invite);
  }

  /** The INVITE as received (headers, SDP). */
  get request(): SipRequest {
    return this.invite;
  }

  /** Sends 180 Ringing. */
  ring(): void {
    if (this.state !== 'offered') return;
    this.transaction.respond(makeResponse(this.invite, 180, { toTag: this.localTag, headers: { contact: [this.contactHeader()] } }));
  }

  /** Rejects the call (486 Busy Here by default). */
  reject(status = 486, reason?: string): void {
    if (this.state !== 'offered' && this.state !== 'accepting') return;
    this.state = 'closed';
    this.transaction.respond(makeResponse(this.invite, status, { toTag: this.localTag, ...(reason ? { reason } : {}) }));
    this.finish({
      status: status === 486 || status === 600 ? 'busy' : 'failed',
      by: 'local',
      reason: reason ?? `rejected with ${status}`,
      sipCode: status,
    });
  }

  /**
   * Answers: negotiates media, sends 200 OK and returns the media channel (already sending silence). Rejects
   * (and answers 488) when the offer has no codec we accept.
   */
  async accept(options: AcceptOptions = {}): Promise<RtpChannel> {
    if (this.state !== 'offered') throw new Error(`call ${this.carrierCallId} cannot be accepted (${this.ending ? 'ended' : this.state})`);
    this.state = 'accepting';
    const socket = await this.context.bindRtp();
    if (this.isEnded) {
      socket.close();
      throw new Error(`call ${this.carrierCallId} ended before it was answered: ${this.ending?.reason}`);
    }
    const settings = this.context.settings;
    this.local = {
      address: settings.publicAddress,
      port: socket.address().port,
      codecs: options.codecs ?? settings.codecs,
      sessionId: Math.floor(Math.random() * 1e9),
      sessionVersion: 1,
    };
    const offer = contentType(this.invite) === 'application/sdp' && this.invite.content ? this.invite.content : undefined;
    let channel: RtpChannel | undefined;
    if (offer) {
      try {
        const answer = answerOffer(offer, this.local);
        this.localSdp = answer.sdp;
        const origin = sdpOriginVersion(offer);
        this.remoteSdpVersion = origin ? `${origin.sessionId}/${origin.version}` : undefined;
        channel = this.createChannel(socket, answer.media);
      } catch (error) {
        socket.close();
        const status = error instanceof SdpNegotiationError ? error.sipStatus : 500;
        this.reject(status, error instanceof Error ? error.message.slice(0, 100) : undefined);
        throw error;
      }
    } else {
      this.localSdp = createOffer(this.local); // late offer: the answer comes in the ACK
      this.pendingSocket = socket;
    }
    const dialog = SipDialog.forIncoming(this.invite, this.localTag, this.contactHeader());
    this.dialog = dialog;
    const headers: Record<string, unknown> = {
      contact: [dialog.contact],
      allow: ALLOWED_METHODS,
      supported: SUPPORTED_EXTENSIONS,
      'user-agent': settings.userAgent,
      ...this.sessionTimerHeaders(this.invite),
      ...(options.headers ?? {}),
    };
    this.context.registerDialog(dialog.key, this);
    this.state = 'answered';
    this.answeredAt = new Date();
    this.transaction.respond(makeResponse(this.invite, 200, { toTag: this.localTag, headers, content: this.localSdp }));
    this.awaitAck(this.invite.headers.cseq.seq, this.transaction);
    if (channel) {
      this.startChannel(channel);
      return channel;
    }
    return new Promise<RtpChannel>((resolve, reject) => {
      this.lateOffer = resolve;
      this.lateOfferFailed = reject;
    });
  }

  /** CANCEL before we answered: 487 for the INVITE (RFC 3261 §9.2). */
  cancelled(): void {
    if (this.state !== 'offered' && this.state !== 'accepting') return;
    this.state = 'closed';
    this.transaction.respond(makeResponse(this.invite, 487, { toTag: this.localTag }));
    this.finish({ status: 'canceled', by: 'remote', reason: 'caller cancelled before answer', sipCode: 487 });
  }

  override handleAck(request: IncomingRequest): void {
    super.handleAck(request);
    if (!this.lateOffer || !this.pendingSocket || !this.local) return;
    const resolve = this.lateOffer;
    const reject = this.lateOfferFailed as (error: Error) => void;
    this.lateOffer = undefined;
    const socket = this.pendingSocket;
    this.pendingSocket = undefined;
    try {
      const media = readAnswer(request.content ?? '', this.local);
      const channel = this.createChannel(socket, media);
      this.startChannel(channel);
      resolve(channel);
    } catch (error) {
      socket.close();
      reject(error instanceof Error ? error : new Error(String(error)));
      void this.hangUp('no usable SDP answer in ACK', 'error');
    }
  }

  protected override finish(end: Parameters<SipCall['finish']>[0]): void {
    this.pendingSocket?.close();
    this.pendingSocket = undefined;
    this.lateOfferFailed?.(new Error(`call ended: ${end.reason}`));
    this.lateOffer = undefined;
    super.finish(end);
  }

  private contactHeader() {
    return this.context.contact(this.source.protocol);
  }
}
