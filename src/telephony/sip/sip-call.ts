/**
 * What both directions of a SIP call share once a dialog exists: in-dialog requests (BYE, re-INVITE and
 * UPDATE with hold and media changes, INFO DTMF, NOTIFY for transfers, OPTIONS), session-timer refreshes,
 * hanging up, REFER transfers and the media channel's life.
 */
import { EventEmitter } from 'node:events';
import type { CallStatus } from '../../call-status.ts';
import type { Logger } from '../../log.ts';
import type { RtpChannel, RtpPortLease } from '../../transports/rtp/rtp-channel.ts';
import {
  answerOffer,
  canSend,
  createOffer,
  sdpOriginVersion,
  SdpNegotiationError,
  type LocalMediaDescription,
  type NegotiatedMedia,
} from '../../transports/rtp/sdp-negotiation.ts';
import type { SipCallContext } from './sip-call-context.ts';
import type { SipDialog } from './sip-dialog.ts';
import { answerDigestChallenge, type DigestClientState } from './lib/digest.ts';
import { contentType, headerText, makeResponse, parseParamHeader, type SipRequest, type SipResponse } from './sip-message.ts';
import { formatSessionExpires, readSessionExpires, SessionTimer, supportsTimer, type Refresher } from './session-timer.ts';
import type { IncomingRequest } from './transport/sip-stack.ts';
import type { AnyServerTransaction, InviteServerTransaction } from './transport/sip-transactions.ts';
import type { SipPeer } from './transport/sip-transport.ts';
import { TransferSubscription, type TransferOutcome } from './sip-transfer.ts';

/** How a call ended. */
export interface SipCallEnd {
  status: CallStatus;
  /** `remote`: the peer (BYE, CANCEL, a final failure response); `local`: we hung up; `error`: timeouts and faults. */
  by: 'local' | 'remote' | 'error';
  reason: string;
  /** The SIP status that ended it, for failed outgoing calls. */
  sipCode?: number;
}

export interface SipCallEvents {
  /** Call progress of an outgoing call (`trying`, `ringing` 180/183, `answered`). */
  progress: [{ type: 'trying' | 'ringing' | 'answered'; sipCode: number }];
  /** The media direction changed (hold/resume by the peer). */
  hold: [{ held: boolean }];
  dtmf: [{ digit: string; via: 'rfc4733' | 'info' }];
  ended: [SipCallEnd];
}

export const ALLOWED_METHODS = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY';
export const SUPPORTED_EXTENSIONS = 'timer, replaces';

export abstract class SipCall extends EventEmitter<SipCallEvents> {
  abstract readonly direction: 'inbound' | 'outbound';
  /** The SIP Call-ID: the carrier call id. */
  readonly carrierCallId: string;
  protected readonly logger: Logger;
  protected dialog: SipDialog | undefined;
  protected channel: RtpChannel | undefined;
  protected local: LocalMediaDescription | undefined;
  /** Our last SDP body and the peer's last o= version (an unchanged re-offer is a refresh). */
  protected localSdp = '';
  protected remoteSdpVersion: string | undefined;
  protected peer: SipPeer | undefined;
  protected ending: SipCallEnd | undefined;
  protected readonly auth: DigestClientState = { context: null };
  protected readonly sessionTimer: SessionTimer;
  private pendingServerInvite: { seq: number; transaction: InviteServerTransaction } | undefined;
  private ourInviteInFlight = false;
  private readonly transfers = new Set<TransferSubscription>();
  answeredAt: Date | undefined;
  readonly startedAt = new Date();
  endedAt: Date | undefined;

  protected constructor(
    protected readonly context: SipCallContext,
    callId: string,
    role: Refresher,
  ) {
    super();
    this.carrierCallId = callId;
    this.logger = context.logger.child({ carrier: 'sip', carrierCallId: callId });
    this.sessionTimer = new SessionTimer(
      role,
      context.timers,
      () => void this.refreshSession(),
      () => void this.hangUp('session timer expired', 'error'),
    );
  }

  /** The media channel once the call is answered. */
  get media(): RtpChannel | undefined {
    return this.channel;
  }

  get isEnded(): boolean {
    return this.ending !== undefined;
  }

  get endInfo(): SipCallEnd | undefined {
    return this.ending;
  }

  /** Negotiated session timer, if any. */
  get sessionExpires(): { intervalSec: number; refresher: Refresher } | undefined {
    return this.sessionTimer.current;
  }

  /** True while the peer holds the call (we must not send). */
  get held(): boolean {
    return this.channel ? !canSend(this.channel.negotiated.direction) : false;
  }

  /** Hangs up an established call with BYE (outgoing calls not yet answered are cancelled instead). */
  async hangUp(reason = 'normal clearing', by: 'local' | 'error' = 'local'): Promise<void> {
    if (this.ending || !this.dialog) return;
    const bye = this.dialog.request('BYE', { reason: `SIP;cause=200;text="${reason.replace(/"/g, "'")}"` });
    this.finish({ status: 'completed', by, reason });
    await this.sendInDialog(bye).catch(() => undefined);
  }

  /** Blind transfer (REFER, RFC 3515): resolves with the outcome the transferee reported in NOTIFY. */
  async transfer(target: string, options: { hangUpOnSuccess?: boolean; timeoutMs?: number } = {}): Promise<TransferOutcome> {
    if (this.ending || !this.dialog) return { ok: false, status: 481, reason: 'call is not established' };
    const subscription = new TransferSubscription(this.context.timers, options.timeoutMs ?? 60_000);
    this.transfers.add(subscription);
    const refer = this.dialog.request('REFER', {
      'refer-to': { uri: target, params: {} },
      'referred-by': `<${this.dialog.local.uri}>`,
    });
    const response = await this.sendInDialog(refer);
    if (response.status >= 300) subscription.settle({ ok: false, status: response.status, reason: `REFER refused: ${response.reason}` });
    const outcome = await subscription.outcome;
    this.transfers.delete(subscription);
    this.logger.info({ target, outcome }, 'transfer outcome');
    if (outcome.ok && (options.hangUpOnSuccess ?? true)) await this.hangUp('transferred');
    return outcome;
  }

  /** Sends DTMF as RFC 4733 events on the media stream. */
  sendDtmf(digits: string): void {
    this.channel?.sendDtmf(digits);
  }

  /** An in-dialog request from the peer (the endpoint matched Call-ID and tags). */
  handleRequest(request: IncomingRequest, transaction: AnyServerTransaction, from: SipPeer): void {
    const dialog = this.dialog;
    if (!dialog || this.ending) {
      transaction.respond(makeResponse(request, 481));
      return;
    }
    if (!dialog.acceptRemoteSeq(request.headers.cseq.seq, request.method)) {
      transaction.respond(makeResponse(request, 500, { reason: 'CSeq out of order' }));
      return;
    }
    switch (request.method) {
      case 'BYE': {
        transaction.respond(makeResponse(request, 200));
        const cause = headerText(request, 'reason');
        this.finish({ status: 'completed', by: 'remote', reason: cause ? `BYE (${cause})` : 'BYE' });
        return;
      }
      case 'INVITE':
      case 'UPDATE':
        this.handleOffer(request, transaction, from);
        return;
      case 'INFO':
        this.handleInfo(request, transaction);
        return;
      case 'NOTIFY':
        this.handleNotify(request, transaction);
        return;
      case 'OPTIONS':
        transaction.respond(makeResponse(request, 200, { headers: { allow: ALLOWED_METHODS, supported: SUPPORTED_EXTENSIONS } }));
        return;
      case 'REFER':
        transaction.respond(makeResponse(request, 403, { reason: 'Transfer Not Accepted' }));
        return;
      default:
        transaction.respond(makeResponse(request, 405, { headers: { allow: ALLOWED_METHODS } }));
    }
  }

  /** An ACK in this dialog (for our 2xx to an INVITE or re-INVITE). */
  handleAck(request: IncomingRequest): void {
    const pending = this.pendingServerInvite;
    if (pending && pending.seq === request.headers.cseq.seq) {
      pending.transaction.ackFor2xx();
      this.pendingServerInvite = undefined;
    }
  }

  /** A retransmitted 2xx to our INVITE: send the ACK again (outgoing calls override). */
  handleStray2xx(_response: SipResponse): void {}

  // ── for subclasses ──────────────────────────────────────────────────────────────────────────────

  /** Media is up: wires the RTP channel's failure and DTMF reporting. */
  protected startChannel(channel: RtpChannel): void {
    this.channel = channel;
    channel.start();
  }

  protected createChannel(lease: RtpPortLease, media: NegotiatedMedia): RtpChannel {
    return this.context.rtp.open(lease, {
      carrierCallId: this.carrierCallId,
      media,
      trustedAddresses: this.peer ? [this.peer.address] : [],
      rtpTimeoutMs: this.context.settings.rtpTimeoutMs,
      logger: this.context.logger,
      onFailure: (reason) => void this.hangUp(reason, 'error'),
      onDtmf: (digit) => this.emit('dtmf', { digit, via: 'rfc4733' }),
    });
  }

  /** Remembers the INVITE transaction whose 2xx awaits an ACK (initial or re-INVITE). */
  protected awaitAck(seq: number, transaction: InviteServerTransaction): void {
    this.pendingServerInvite = { seq, transaction };
    transaction.onAckTimeout = () => {
      this.logger.warn({ seq }, 'no ACK for our 2xx; ending the call');
      void this.hangUp('no ACK for 200 OK', 'error');
    };
  }

  /** Applies Session-Expires of a request we answer 2xx to; returns the headers for our 2xx. */
  protected sessionTimerHeaders(request: SipRequest): Record<string, string> {
    const requested = readSessionExpires(request);
    const peerSupports = supportsTimer(request);
    if (!requested && !peerSupports) {
      this.sessionTimer.stop();
      return {};
    }
    const intervalSec = requested?.intervalSec ?? this.context.settings.sessionExpiresSec;
    // We are the UAS of the request: the peer refreshes unless it asked us to (or cannot: no timer support).
    const refresher: Refresher = requested?.refresher ?? (peerSupports ? this.roleOfRequester() : this.roleOfAnswerer());
    const spec = { intervalSec, refresher };
    this.sessionTimer.start(spec);
    return { 'session-expires': formatSessionExpires(spec), ...(peerSupports ? { require: 'timer' } : {}) };
  }

  /** Dialog role ('uac'/'uas' in RFC 4028 terms) of whoever sends a request to us now. */
  private roleOfRequester(): Refresher {
    return this.direction === 'inbound' ? 'uac' : 'uas';
  }

  private roleOfAnswerer(): Refresher {
    return this.direction === 'inbound' ? 'uas' : 'uac';
  }

  protected finish(end: SipCallEnd): void {
    if (this.ending) return;
    this.ending = end;
    this.endedAt = new Date();
    this.sessionTimer.stop();
    for (const transfer of this.transfers) transfer.settle({ ok: false, status: 487, reason: 'call ended' });
    if (this.channel) {
      if (end.by === 'local') this.channel.close(end.reason);
      else this.channel.end(end.by, end.reason);
    }
    if (this.dialog) this.context.forgetDialog(this.dialog.key);
    this.logger.info({ status: end.status, by: end.by, reason: end.reason, sipCode: end.sipCode }, 'SIP call ended');
    this.emit('ended', end);
  }

  /** Sends an in-dialog request; answers one digest challenge; resolves with the final response. */
  protected async sendInDialog(request: SipRequest): Promise<SipResponse> {
    const dialog = this.dialog as SipDialog;
    const peer = await this.context.resolve(dialog.nextHop(), this.peer?.protocol);
    const send = (req: SipRequest) =>
      new Promise<SipResponse>((resolve) => {
        this.context.stack.request(req, peer, (response) => {
          if (response.status >= 200) resolve(response);
        });
      });
    let response = await send(request);
    const credentials = this.context.settings.trunkCredentials;
    if ((response.status === 401 || response.status === 407) && credentials) {
      const retry: SipRequest = { ...request, headers: { ...request.headers, cseq: { seq: ++dialog.localSeq, method: request.method } } };
      if (answerDigestChallenge(retry, response, credentials, this.auth)) response = await send(retry);
      request = retry;
    }
    if (request.method === 'INVITE' && response.status >= 200 && response.status < 300) {
      this.context.stack.sendAck(dialog.ack(request.headers.cseq?.seq ?? dialog.localSeq), peer);
    }
    return response;
  }

  // ── in-dialog handling ──────────────────────────────────────────────────────────────────────────

  private handleOffer(request: IncomingRequest, transaction: AnyServerTransaction, _from: SipPeer): void {
    if (request.method === 'INVITE' && (this.ourInviteInFlight || this.pendingServerInvite)) {
      transaction.respond(makeResponse(request, 491));
      return;
    }
    const dialog = this.dialog as SipDialog;
    const headers: Record<string, unknown> = { contact: [dialog.contact], allow: ALLOWED_METHODS, supported: SUPPORTED_EXTENSIONS };
    let body: string | undefined;
    const offer = contentType(request) === 'application/sdp' && request.content ? request.content : undefined;
    if (offer) {
      try {
        body = this.answerReOffer(offer);
      } catch (error) {
        const status = error instanceof SdpNegotiationError ? error.sipStatus : 500;
        this.logger.warn(
          { err: error instanceof Error ? error.message : String(error), method: request.method },
          'in-dialog offer refused',
        );
        transaction.respond(makeResponse(request, status, { headers: { warning: '304 - "Media type not available"' } }));
        return;
      }
    } else if (request.method === 'INVITE') {
      body = this.localSdp; // offerless re-INVITE: our current SDP is the offer, the answer comes in the ACK
    }
    dialog.refreshTarget(request);
    Object.assign(headers, this.sessionTimerHeaders(request));
    const response = makeResponse(request, 200, { toTag: dialog.localTag, headers, ...(body !== undefined ? { content: body } : {}) });
    transaction.respond(response);
    if (request.method === 'INVITE') this.awaitAck(request.headers.cseq.seq, transaction as InviteServerTransaction);
  }

  /** Answers a re-offer: unchanged o= version → same SDP; otherwise follow address/port/direction changes. */
  private answerReOffer(offer: string): string {
    const local = this.local;
    const channel = this.channel;
    if (!local || !channel) throw new SdpNegotiationError('no media session to update', 488);
    const origin = sdpOriginVersion(offer);
    const version = origin ? `${origin.sessionId}/${origin.version}` : undefined;
    if (version !== undefined && version === this.remoteSdpVersion) return this.localSdp; // session refresh
    const { sdp, media } = answerOffer(offer, local, channel.negotiated.codec);
    if (media.codec !== channel.negotiated.codec || media.payloadType !== channel.negotiated.payloadType) {
      throw new SdpNegotiationError(`changing codec mid-call (${channel.negotiated.codec} → ${media.codec}) is not supported`, 488);
    }
    const wasHeld = this.held;
    channel.updateMedia(media, this.peer ? [this.peer.address] : []);
    this.remoteSdpVersion = version;
    if (stripOrigin(sdp) !== stripOrigin(this.localSdp)) {
      local.sessionVersion++;
      this.localSdp = answerOffer(offer, local, channel.negotiated.codec).sdp;
    }
    if (wasHeld !== this.held) {
      this.logger.info({ held: this.held, direction: media.direction }, this.held ? 'call put on hold by peer' : 'call resumed by peer');
      this.emit('hold', { held: this.held });
    }
    return this.localSdp;
  }

  private handleInfo(request: IncomingRequest, transaction: AnyServerTransaction): void {
    const type = contentType(request);
    const body = (request.content ?? '').trim();
    let digit: string | undefined;
    if (type === 'application/dtmf-relay') {
      digit = /(?:^|\n)\s*signal\s*=\s*([0-9A-Da-d*#])/i.exec(body)?.[1];
    } else if (type === 'application/dtmf') {
      digit = /^[0-9A-Da-d*#]$/.test(body) ? body : undefined;
    } else if (type !== undefined && body.length > 0) {
      transaction.respond(makeResponse(request, 415, { headers: { accept: 'application/dtmf-relay, application/dtmf' } }));
      return;
    }
    transaction.respond(makeResponse(request, 200));
    if (digit) {
      const upper = digit.toUpperCase();
      this.channel?.deliverDtmf(upper);
      this.emit('dtmf', { digit: upper, via: 'info' });
    }
  }

  private handleNotify(request: IncomingRequest, transaction: AnyServerTransaction): void {
    const event = parseParamHeader(headerText(request, 'event') ?? '').value.toLowerCase();
    const subscription = [...this.transfers][0];
    if (event !== 'refer' || !subscription) {
      transaction.respond(makeResponse(request, 481, { reason: 'Subscription Does Not Exist' }));
      return;
    }
    transaction.respond(makeResponse(request, 200));
    subscription.notify(request.content ?? '', headerText(request, 'subscription-state') ?? '');
  }

  /** Our session refresh: a re-INVITE with unchanged SDP (RFC 4028 §7.4). */
  private async refreshSession(): Promise<void> {
    const spec = this.sessionTimer.current;
    if (this.ending || !this.dialog || !spec) return;
    this.ourInviteInFlight = true;
    const invite = this.dialog.request(
      'INVITE',
      {
        'content-type': 'application/sdp',
        'session-expires': formatSessionExpires(spec),
        'Min-SE': String(this.context.settings.minSessionExpiresSec),
        supported: SUPPORTED_EXTENSIONS,
        allow: ALLOWED_METHODS,
      },
      this.localSdp,
    );
    const response = await this.sendInDialog(invite).finally(() => {
      this.ourInviteInFlight = false;
    });
    if (this.ending) return;
    if (response.status >= 200 && response.status < 300) {
      const answered = readSessionExpires(response);
      this.sessionTimer.start(answered?.refresher ? { intervalSec: answered.intervalSec, refresher: answered.refresher } : spec);
      this.logger.debug({ intervalSec: spec.intervalSec }, 'session refreshed');
    } else if (response.status === 408 || response.status === 481) {
      await this.hangUp(`session refresh failed (${response.status})`, 'error');
    } else {
      this.sessionTimer.start(spec); // RFC 4028 §10: other failures keep the session; try again later
    }
  }

  /** For re-offers from us (not used for hold: we never put the peer on hold). */
  protected buildOffer(): string {
    return createOffer(this.local as LocalMediaDescription);
  }
}

function stripOrigin(sdp: string): string {
  return sdp.replace(/^o=.*$/m, '');
}
