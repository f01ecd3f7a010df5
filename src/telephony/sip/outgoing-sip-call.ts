/**
 * A call we place: INVITE with our SDP offer (to a SIP URI, or a number through the trunk), progress from
 * provisional responses, one digest challenge answered, 422 retried with the peer's Min-SE, a ring timeout
 * that CANCELs (→ no-answer), and on 2xx the ACK, the dialog and the media channel.
 */
import type { CallStatus } from '../../call-status.ts';
import { SwitchboardError } from '../../errors.ts';
import type { RtpChannel, RtpPortLease } from '../../transports/rtp/rtp-channel.ts';
import { createOffer, readAnswer, sdpOriginVersion } from '../../transports/rtp/sdp-negotiation.ts';
import { answerDigestChallenge } from './lib/digest.ts';
import { formatSipUri, parseSipUri } from './lib/sip-codec.ts';
import { ALLOWED_METHODS, SipCall, SUPPORTED_EXTENSIONS } from './sip-call.ts';
import type { SipCallContext } from './sip-call-context.ts';
import type { SipCodecName } from './sip-config.ts';
import { SipDialog } from './sip-dialog.ts';
import { checkExtraHeaders, newCallId, newTag, utf8ForWire, type NameAddr, type SipRequest, type SipResponse } from './sip-message.ts';
import { callStatusForSipResponse } from './sip-status.ts';
import { formatSessionExpires, readMinSe, readSessionExpires } from './session-timer.ts';
import type { ClientTransaction } from './transport/sip-transactions.ts';
import type { SipPeer } from './transport/sip-transport.ts';

export interface PlaceSipCallOptions {
  /** `sip:alice@pbx.example.com` (sent there, or via the outbound proxy) or a number (`+15551230000`, via the trunk). */
  to: string;
  /** Caller: a number/user (`+15550100000`) or a SIP URI. @default the endpoint's defaultFromUser */
  from?: string;
  /** Display name in From. */
  fromName?: string;
  /** Extra headers, typically `X-…`. */
  headers?: Record<string, string>;
  /** @default the endpoint's codecs */
  codecs?: SipCodecName[];
  /** Cancel after ringing this long (→ no-answer). @default the endpoint's ringTimeoutSec */
  ringTimeoutMs?: number;
}

/** Outgoing call failed before it was answered. */
export class SipCallFailedError extends SwitchboardError {
  constructor(
    readonly status: CallStatus,
    readonly sipCode: number | undefined,
    reason: string,
    callId?: string,
  ) {
    // Busy/no-answer are outcomes, not faults; 408/5xx/6xx from a trunk may work on a later attempt.
    super(reason, {
      code: `sip_call_${status}`,
      providerCode: sipCode ?? null,
      ...(callId ? { callId } : {}),
      retryable: sipCode === undefined || sipCode === 408 || sipCode === 503,
    });
  }
}

export class OutgoingSipCall extends SipCall {
  readonly direction = 'outbound' as const;
  readonly to: string;
  /** Resolves with the media channel on answer; rejects with {@link SipCallFailedError}. */
  readonly answered: Promise<RtpChannel>;
  private resolveAnswered!: (channel: RtpChannel) => void;
  private rejectAnswered!: (error: SipCallFailedError) => void;
  private invite: SipRequest | undefined;
  private transaction: ClientTransaction | undefined;
  private target: SipPeer | undefined;
  private socket: RtpPortLease | undefined;
  private provisionalSeen = false;
  private cancelReason: 'timeout' | 'local' | undefined;
  private cancelSent = false;
  private ringTimer: unknown;
  private authTried = false;
  private intervalTried = false;
  private readonly fromTag = newTag();

  constructor(
    context: SipCallContext,
    private readonly options: PlaceSipCallOptions,
  ) {
    super(context, newCallId(context.settings.publicAddress), 'uac');
    this.to = options.to;
    this.answered = new Promise((resolve, reject) => {
      this.resolveAnswered = resolve;
      this.rejectAnswered = reject;
    });
    this.answered.catch(() => {}); // failures are also reported by 'ended'
  }

  /** Sends the INVITE. Rejects only for local errors (bad URI, no trunk, no RTP port). */
  async start(): Promise<void> {
    const settings = this.context.settings;
    const extra = checkExtraHeaders(this.options.headers);
    const requestUri = this.requestUri();
    const socket = await this.context.bindRtp();
    this.socket = socket;
    this.local = {
      address: settings.publicAddress,
      port: socket.address().port,
      codecs: this.options.codecs ?? settings.codecs,
      sessionId: Math.floor(Math.random() * 1e9),
      sessionVersion: 1,
    };
    this.localSdp = createOffer(this.local);
    const hop = settings.outboundProxy ?? requestUri;
    const target = await this.context.resolve(hop, settings.transport);
    this.target = target;
    this.peer = target;
    const fromUri = this.fromUri();
    const from: NameAddr = { uri: fromUri, params: { tag: this.fromTag } };
    if (this.options.fromName) from.name = `"${utf8ForWire(this.options.fromName).replace(/"/g, '')}"`;
    this.invite = {
      method: 'INVITE',
      uri: requestUri,
      version: '2.0',
      headers: {
        to: { uri: requestUri, params: {} },
        from,
        'call-id': this.carrierCallId,
        cseq: { seq: 1, method: 'INVITE' },
        contact: [this.context.contact(target.protocol)],
        ...(settings.outboundProxy ? { route: [{ uri: withLooseRouting(settings.outboundProxy), params: {} }] } : {}),
        allow: ALLOWED_METHODS,
        supported: SUPPORTED_EXTENSIONS,
        'session-expires': String(settings.sessionExpiresSec),
        'Min-SE': String(settings.minSessionExpiresSec),
        'user-agent': settings.userAgent,
        'content-type': 'application/sdp',
        ...extra,
      },
      content: this.localSdp,
    };
    this.ringTimer = this.context.timers.setTimeout(() => this.cancel('timeout'), this.options.ringTimeoutMs ?? settings.ringTimeoutMs);
    this.send();
  }

  /** Cancels before answer (CANCEL, RFC 3261 §9.1), or hangs up after. */
  override async hangUp(reason = 'normal clearing', by: 'local' | 'error' = 'local'): Promise<void> {
    if (!this.dialog) {
      this.cancel('local');
      return;
    }
    await super.hangUp(reason, by);
  }

  override handleStray2xx(response: SipResponse): void {
    // A retransmitted 2xx after our INVITE transaction ended: ACK again.
    if (this.dialog && this.target && response.headers.cseq?.method === 'INVITE') {
      this.context.stack.sendAck(this.dialog.ack(response.headers.cseq.seq), this.target);
    }
  }

  private send(): void {
    const invite = this.invite as SipRequest;
    this.transaction = this.context.stack.request(invite, this.target as SipPeer, (response) => this.onResponse(response));
  }

  private cancel(why: 'timeout' | 'local'): void {
    if (this.dialog || this.isEnded) return;
    this.cancelReason ??= why;
    // CANCEL only after a provisional response (RFC 3261 §9.1); otherwise it goes when one arrives.
    if (!this.provisionalSeen || this.cancelSent || !this.invite || !this.target) return;
    this.cancelSent = true;
    const h = this.invite.headers;
    const cancel: SipRequest = {
      method: 'CANCEL',
      uri: this.invite.uri,
      version: '2.0',
      headers: {
        via: h.via,
        to: { ...(h.to as NameAddr), params: {} },
        from: h.from,
        'call-id': h['call-id'],
        cseq: { seq: h.cseq?.seq ?? 1, method: 'CANCEL' },
        ...(h.route ? { route: h.route } : {}),
      },
    };
    this.context.stack.request(cancel, this.target, () => {});
  }

  private onResponse(response: SipResponse): void {
    if (this.isEnded && response.status < 200) return;
    const status = response.status;
    if (status < 200) {
      this.provisionalSeen = true;
      if (this.cancelReason) this.cancel(this.cancelReason);
      if (status === 100) this.emit('progress', { type: 'trying', sipCode: 100 });
      else if (status === 180 || status === 183) this.emit('progress', { type: 'ringing', sipCode: status });
      return;
    }
    if (status < 300) {
      this.onAnswered(response);
      return;
    }
    const invite = this.invite as SipRequest;
    const credentials = this.context.settings.trunkCredentials;
    if ((status === 401 || status === 407) && credentials && !this.authTried && !this.cancelReason) {
      this.authTried = true;
      if (this.retry(() => answerDigestChallenge(invite, response, credentials, this.auth))) return;
    }
    if (status === 422 && !this.intervalTried && !this.cancelReason) {
      this.intervalTried = true;
      const minSe = readMinSe(response);
      if (minSe) {
        invite.headers['session-expires'] = String(minSe);
        invite.headers['Min-SE'] = String(minSe);
        if (this.retry(() => true)) return;
      }
    }
    this.fail(status, `${status} ${response.reason}`);
  }

  /** Re-sends the INVITE with the next CSeq after `prepare` adjusted it. */
  private retry(prepare: () => boolean): boolean {
    const invite = this.invite as SipRequest;
    const seq = (invite.headers.cseq?.seq ?? 1) + 1;
    invite.headers.cseq = { seq, method: 'INVITE' };
    delete invite.headers.authorization;
    delete invite.headers['proxy-authorization'];
    if (!prepare()) return false;
    this.provisionalSeen = false;
    this.send();
    return true;
  }

  private onAnswered(response: SipResponse): void {
    const invite = this.invite as SipRequest;
    const target = this.target as SipPeer;
    if (this.dialog) {
      // A 2xx retransmission (or another fork): ACK it; only the first one makes the call.
      const seq = response.headers.cseq?.seq ?? 1;
      if (response.headers.to?.params.tag === this.dialog.remoteTag) this.context.stack.sendAck(this.dialog.ack(seq), target);
      return;
    }
    this.context.timers.clearTimeout(this.ringTimer);
    const dialog = SipDialog.forOutgoing(invite, response, invite.headers.contact?.[0] as NameAddr);
    this.dialog = dialog;
    this.context.registerDialog(dialog.key, this);
    this.context.stack.sendAck(dialog.ack(dialog.localSeq), target);
    if (this.cancelReason || this.isEnded) {
      // 200 crossed our CANCEL: the call exists now, end it.
      void super.hangUp('cancelled');
      return;
    }
    let channel: RtpChannel;
    try {
      const media = readAnswer(response.content ?? '', this.local as NonNullable<typeof this.local>);
      const origin = sdpOriginVersion(response.content ?? '');
      this.remoteSdpVersion = origin ? `${origin.sessionId}/${origin.version}` : undefined;
      channel = this.createChannel(this.socket as RtpPortLease, media);
      this.socket = undefined;
    } catch (error) {
      const reason = `unusable SDP answer: ${error instanceof Error ? error.message : String(error)}`;
      this.logger.warn({ reason }, 'answered call has no usable media; hanging up');
      this.rejectAnswered(new SipCallFailedError('failed', 488, reason, this.carrierCallId));
      void super.hangUp(reason, 'error');
      return;
    }
    const expires = readSessionExpires(response);
    if (expires) {
      const spec = { intervalSec: expires.intervalSec, refresher: expires.refresher ?? 'uac' };
      this.sessionTimer.start(spec);
      this.logger.debug({ sessionExpires: formatSessionExpires(spec) }, 'session timer negotiated');
    }
    this.answeredAt = new Date();
    this.startChannel(channel);
    this.emit('progress', { type: 'answered', sipCode: response.status });
    this.resolveAnswered(channel);
  }

  private fail(sipCode: number, reason: string): void {
    this.context.timers.clearTimeout(this.ringTimer);
    const status = callStatusForSipResponse(sipCode, {
      cancelledByTimeout: this.cancelReason === 'timeout',
      cancelledByUs: this.cancelReason === 'local',
    });
    this.socket?.close();
    this.socket = undefined;
    const why = this.cancelReason === 'timeout' ? `no answer within the ring timeout (${reason})` : reason;
    this.rejectAnswered(new SipCallFailedError(status, sipCode, why, this.carrierCallId));
    this.finish({ status, by: this.cancelReason === 'local' ? 'local' : 'remote', reason: why, sipCode });
  }

  private requestUri(): string {
    const to = this.options.to.trim();
    if (/^sips?:/i.test(to)) {
      if (!parseSipUri(to)) throw new Error(`invalid SIP URI: ${to}`);
      return to;
    }
    const trunk = this.context.settings.trunk;
    if (!trunk) throw new Error(`cannot dial ${to}: no SIP trunk configured (SIP_TRUNK)`);
    if (!/^\+?[0-9*#]+$/.test(to.replace(/[\s().-]/g, ''))) throw new Error(`not a phone number or SIP URI: ${to}`);
    const trunkUri = parseSipUri(/^sips?:/i.test(trunk) ? trunk : `sip:${trunk}`);
    if (!trunkUri) throw new Error(`invalid SIP trunk: ${trunk}`);
    return formatSipUri({ ...trunkUri, user: to.replace(/[\s().-]/g, ''), headers: {} });
  }

  private fromUri(): string {
    const from = this.options.from?.trim() || this.context.settings.defaultFromUser;
    if (/^sips?:/i.test(from)) return from;
    const trunk = this.context.settings.trunk
      ? parseSipUri(/^sips?:/i.test(this.context.settings.trunk) ? this.context.settings.trunk : `sip:${this.context.settings.trunk}`)
      : undefined;
    const host = trunk?.host ?? this.context.settings.publicAddress;
    return `sip:${from}@${host}`;
  }
}

function withLooseRouting(uri: string): string {
  const full = /^sips?:/i.test(uri) ? uri : `sip:${uri}`;
  return /;lr\b/.test(full) ? full : `${full};lr`;
}
