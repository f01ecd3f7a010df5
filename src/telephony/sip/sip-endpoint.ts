/**
 * The SIP endpoint: one SIP stack (UDP + TCP, TLS when configured), inbound INVITEs offered as
 * {@link IncomingSipCall}s after the source check, outbound calls placed as {@link OutgoingSipCall}s, OPTIONS
 * answered, in-dialog requests routed to their call, and registration with a registrar when configured.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import os from 'node:os';
import type { Logger } from '../../log.ts';
import { silentLogger } from '../../log.ts';
import { sharedMediaClock, type MediaClock } from '../../transports/media-clock.ts';
import { localRtpMedia } from '../../transports/rtp/rtp-socket.ts';
import { sharedThreadedRtpMedia } from '../../transports/rtp/threaded-rtp-media.ts';
import { answerOffer, SdpNegotiationError } from '../../transports/rtp/sdp-negotiation.ts';
import { AllowedSources } from './allowed-sources.ts';
import { IncomingSipCall } from './incoming-sip-call.ts';
import { DigestChallenger } from './lib/digest.ts';
import { formatSipUri, parseSipUri } from './lib/sip-codec.ts';
import { OutgoingSipCall, type PlaceSipCallOptions } from './outgoing-sip-call.ts';
import { ALLOWED_METHODS, SUPPORTED_EXTENSIONS, type SipCall } from './sip-call.ts';
import type { ResolvedSipSettings, SipCallContext } from './sip-call-context.ts';
import { SIP_DEFAULTS, type SipEndpointConfig } from './sip-config.ts';
import { dialogKey } from './sip-dialog.ts';
import { contentType, headerTokens, makeResponse, tagOf, type NameAddr } from './sip-message.ts';
import { SipRegistration } from './sip-registration.ts';
import { readMinSe, readSessionExpires } from './session-timer.ts';
import { SipStack, type IncomingRequest } from './transport/sip-stack.ts';
import { realTimers, type AnyServerTransaction, type InviteServerTransaction, type SipTimers } from './transport/sip-transactions.ts';
import type { SipPeer, SipProtocol } from './transport/sip-transport.ts';

export interface SipEndpointEvents {
  /** A new inbound call that passed the source check. Accept or reject it (unanswered calls ring on). */
  incoming: [IncomingSipCall];
  /** An inbound request was refused (403/401/488/420…), for logs and metrics. */
  refused: [{ method: string; status: number; reason: string; source: SipPeer; callId: string }];
}

export interface SipEndpointDependencies {
  /** @default silentLogger() */
  logger?: Logger;
  /** @default the process-wide shared media clock */
  clock?: MediaClock;
  /** @default real timers */
  timers?: SipTimers;
  /** SIP timer T1 (retransmissions, transaction timeouts). @default 500 */
  t1Ms?: number;
}

const UNSUPPORTED_REQUIRE = (required: string[]) => required.filter((tag) => tag !== 'timer' && tag !== 'replaces');

export class SipEndpoint extends EventEmitter<SipEndpointEvents> {
  readonly settings: ResolvedSipSettings;
  private readonly stack: SipStack;
  private readonly logger: Logger;
  private readonly clock: MediaClock;
  private readonly timers: SipTimers;
  private readonly allowed: AllowedSources;
  private readonly challenger: DigestChallenger | undefined;
  private readonly calls = new Map<string, SipCall>();
  private readonly pendingInvites = new Map<InviteServerTransaction, IncomingSipCall>();
  private readonly resolved = new Map<string, SipPeer>();
  private registration: SipRegistration | undefined;
  private readonly context: SipCallContext;
  private started = false;

  constructor(
    private readonly config: SipEndpointConfig = {},
    dependencies: SipEndpointDependencies = {},
  ) {
    super();
    this.logger = (dependencies.logger ?? silentLogger()).child({ component: 'sip' });
    this.clock = dependencies.clock ?? sharedMediaClock;
    this.timers = dependencies.timers ?? realTimers;
    const bindAddress = config.bindAddress ?? SIP_DEFAULTS.bindAddress;
    const publicAddress = config.publicAddress ?? defaultPublicAddress(bindAddress);
    const transport = (config.transport ?? SIP_DEFAULTS.transport).toUpperCase() as SipProtocol;
    this.settings = {
      publicAddress,
      rtpBindAddress: bindAddress,
      rtpPortMin: config.rtpPortMin ?? SIP_DEFAULTS.rtpPortMin,
      rtpPortMax: config.rtpPortMax ?? SIP_DEFAULTS.rtpPortMax,
      transport,
      codecs: config.codecs ?? [...SIP_DEFAULTS.codecs],
      sessionExpiresSec: config.sessionExpiresSec ?? SIP_DEFAULTS.sessionExpiresSec,
      minSessionExpiresSec: config.minSessionExpiresSec ?? SIP_DEFAULTS.minSessionExpiresSec,
      rtpTimeoutMs: (config.rtpTimeoutSec ?? SIP_DEFAULTS.rtpTimeoutSec) * 1000,
      ringTimeoutMs: (config.ringTimeoutSec ?? SIP_DEFAULTS.ringTimeoutSec) * 1000,
      userAgent: config.userAgent ?? SIP_DEFAULTS.userAgent,
      defaultFromUser: config.defaultFromUser ?? 'switchboard',
      trunk: config.trunk,
      trunkCredentials: config.trunkCredentials,
      outboundProxy: config.outboundProxy,
    };
    this.allowed = new AllowedSources(config.allowedSources ?? [...SIP_DEFAULTS.allowedSources]);
    if (config.inboundCredentials) {
      this.challenger = new DigestChallenger({ ...config.inboundCredentials, realm: config.inboundCredentials.realm ?? publicAddress });
    }
    this.stack = new SipStack({
      bindAddress,
      port: config.port ?? SIP_DEFAULTS.port,
      listen: config.tls?.key && config.tls.cert ? ['UDP', 'TCP', 'TLS'] : ['UDP', 'TCP'],
      ...(config.tls ? { tls: config.tls } : {}),
      publicAddress,
      logger: this.logger,
      timers: this.timers,
      ...(dependencies.t1Ms ? { timing: { t1Ms: dependencies.t1Ms, t2Ms: dependencies.t1Ms * 8 } } : {}),
    });
    this.stack.setHandler({
      request: (request, from, transaction) => this.onRequest(request, from, transaction),
      ack: (request) => this.callForDialog(request)?.handleAck(request),
      strayResponse: (response) => this.findCallById(response.headers['call-id'] as string)?.handleStray2xx(response),
    });
    const threaded = (config.mediaThread ?? SIP_DEFAULTS.mediaThread) && dependencies.clock === undefined;
    const rtp = threaded ? sharedThreadedRtpMedia() : localRtpMedia(this.clock);
    this.context = {
      stack: this.stack,
      settings: this.settings,
      logger: this.logger,
      timers: this.timers,
      clock: this.clock,
      contact: (protocol, user) => this.contact(protocol, user),
      resolve: (uri, preferred) => this.resolve(uri, preferred),
      bindRtp: () => rtp.bind(this.settings.rtpBindAddress, { min: this.settings.rtpPortMin, max: this.settings.rtpPortMax }),
      rtp,
      registerDialog: (key, call) => this.calls.set(key, call as SipCall),
      forgetDialog: (key) => this.calls.delete(key),
    };
  }

  /** The bound SIP port (UDP and TCP). */
  get port(): number {
    return this.stack.transport.port;
  }

  get tlsPort(): number {
    return this.stack.transport.tlsPort;
  }

  /** Calls with a dialog (answered or being answered). */
  get activeCalls(): number {
    return this.calls.size;
  }

  /** Our SIP URI for `user` (what peers dial to reach us). */
  uri(user = 'switchboard', protocol: SipProtocol = 'UDP'): string {
    return this.contact(protocol, user).uri;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.stack.start();
    this.logger.info({ port: this.port, publicAddress: this.settings.publicAddress }, 'SIP endpoint listening');
    if (this.config.registrar) {
      this.registration = new SipRegistration({
        registrar: this.config.registrar,
        expiresSec: this.config.registerExpiresSec ?? SIP_DEFAULTS.registerExpiresSec,
        credentials: this.settings.trunkCredentials,
        user: this.settings.trunkCredentials?.username ?? this.settings.defaultFromUser,
        context: this.context,
      });
      this.registration.start();
    }
  }

  /** The registration with the registrar, when configured. */
  get registrationState(): SipRegistration | undefined {
    return this.registration;
  }

  /** Places a call. The returned call reports progress; `await call.answered` gives its media channel. */
  async placeCall(options: PlaceSipCallOptions): Promise<OutgoingSipCall> {
    const call = new OutgoingSipCall(this.context, options);
    this.calls.set(`pending|${call.carrierCallId}`, call);
    call.once('ended', () => this.calls.delete(`pending|${call.carrierCallId}`));
    void call.answered.then(
      () => this.calls.delete(`pending|${call.carrierCallId}`),
      () => {},
    );
    try {
      await call.start();
    } catch (error) {
      this.calls.delete(`pending|${call.carrierCallId}`);
      throw error;
    }
    return call;
  }

  /** Hangs up every call, unregisters, closes the sockets. */
  async close(): Promise<void> {
    const calls = [...new Set(this.calls.values())];
    // BYE to everyone, but do not wait long for peers that are gone (a BYE transaction can take 64·T1).
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)));
    await Promise.race([Promise.allSettled(calls.map((call) => call.hangUp('endpoint shutting down'))), giveUp]);
    clearTimeout(timer);
    for (const call of this.pendingInvites.values()) call.reject(503, 'Service Unavailable');
    await this.registration?.stop();
    await this.stack.close();
  }

  private onRequest(request: IncomingRequest, from: SipPeer, transaction: AnyServerTransaction): void {
    const h = request.headers;
    if (tagOf(h.to)) {
      const call = this.callForDialog(request);
      if (call) call.handleRequest(request, transaction, from);
      else transaction.respond(makeResponse(request, 481));
      return;
    }
    if (request.method === 'CANCEL') {
      const invite = this.stack.inviteTransactionFor(request);
      const call = invite ? this.pendingInvites.get(invite) : undefined;
      transaction.respond(makeResponse(request, call ? 200 : 481));
      call?.cancelled();
      return;
    }
    if (!this.admit(request, from, transaction)) return;
    switch (request.method) {
      case 'INVITE':
        this.onInvite(request, from, transaction as InviteServerTransaction);
        return;
      case 'OPTIONS':
        transaction.respond(
          makeResponse(request, 200, { headers: { allow: ALLOWED_METHODS, supported: SUPPORTED_EXTENSIONS, accept: 'application/sdp' } }),
        );
        return;
      default:
        transaction.respond(makeResponse(request, request.method === 'BYE' ? 481 : 405, { headers: { allow: ALLOWED_METHODS } }));
    }
  }

  /** Source check for out-of-dialog requests: allowed networks pass, others need digest auth or get 403. */
  private admit(request: IncomingRequest, from: SipPeer, transaction: AnyServerTransaction): boolean {
    if (this.allowed.has(from.address)) return true;
    if (this.challenger && request.method !== 'ACK') {
      const verdict = this.challenger.verify(request);
      if (verdict === 'ok') return true;
      if (verdict !== 'invalid' || !request.headers.authorization) {
        transaction.respond(
          makeResponse(request, 401, {
            toTag: 'auth',
            headers: { 'www-authenticate': [{ ...this.challenger.challenge(), ...(verdict === 'stale' ? { stale: 'true' } : {}) }] },
          }),
        );
        return false;
      }
    }
    this.refuse(request, from, transaction, 403, 'source address not allowed');
    return false;
  }

  private onInvite(request: IncomingRequest, from: SipPeer, transaction: InviteServerTransaction): void {
    // The same INVITE again under another branch (a fork through two proxies, an old UA): merged request.
    const fromTag = tagOf(request.headers.from);
    for (const pending of this.pendingInvites.values()) {
      if (pending.carrierCallId === request.headers['call-id'] && tagOf(pending.request.headers.from) === fromTag) {
        this.refuse(request, from, transaction, 482, 'merged request (same Call-ID and From tag as a call in progress)');
        return;
      }
    }
    const unsupported = UNSUPPORTED_REQUIRE(headerTokens(request, 'require'));
    if (unsupported.length > 0) {
      this.refuse(request, from, transaction, 420, `unsupported extension ${unsupported.join(', ')}`, {
        unsupported: unsupported.join(', '),
      });
      return;
    }
    const expires = readSessionExpires(request);
    if (expires && expires.intervalSec < this.settings.minSessionExpiresSec) {
      const minSe = Math.max(this.settings.minSessionExpiresSec, readMinSe(request) ?? 0);
      this.refuse(request, from, transaction, 422, `Session-Expires ${expires.intervalSec} below our minimum`, { 'Min-SE': String(minSe) });
      return;
    }
    const offer = contentType(request) === 'application/sdp' ? request.content : undefined;
    if (offer) {
      try {
        answerOffer(offer, {
          address: this.settings.publicAddress,
          port: 9,
          codecs: this.settings.codecs,
          sessionId: 0,
          sessionVersion: 0,
        });
      } catch (error) {
        const status = error instanceof SdpNegotiationError ? error.sipStatus : 400;
        this.refuse(request, from, transaction, status, error instanceof Error ? error.message : String(error), {
          warning: '305 - "Incompatible media format"',
        });
        return;
      }
    }
    const call = new IncomingSipCall(this.context, request, transaction, from);
    this.pendingInvites.set(transaction, call);
    call.once('ended', () => this.pendingInvites.delete(transaction));
    this.logger.info(
      { callId: call.carrierCallId, from: call.from.uri, to: call.requestUri, source: `${from.address}:${from.port}` },
      'inbound SIP call',
    );
    if (this.listenerCount('incoming') === 0) {
      call.reject(480, 'No Application Listening');
      return;
    }
    this.emit('incoming', call);
  }

  private refuse(
    request: IncomingRequest,
    from: SipPeer,
    transaction: AnyServerTransaction,
    status: number,
    reason: string,
    headers: Record<string, string> = {},
  ): void {
    const callId = request.headers['call-id'];
    this.logger.warn({ callId, method: request.method, status, reason, source: `${from.address}:${from.port}` }, 'SIP request refused');
    transaction.respond(makeResponse(request, status, { toTag: 'refused', headers }));
    this.emit('refused', { method: request.method, status, reason, source: from, callId });
  }

  private callForDialog(request: IncomingRequest): SipCall | undefined {
    const h = request.headers;
    return this.calls.get(dialogKey(h['call-id'], tagOf(h.to) ?? '', tagOf(h.from) ?? ''));
  }

  private findCallById(callId: string): SipCall | undefined {
    for (const call of this.calls.values()) if (call.carrierCallId === callId) return call;
    return undefined;
  }

  private contact(protocol: SipProtocol, user = 'switchboard'): NameAddr {
    const port = this.stack.publicPort(protocol);
    const host = this.settings.publicAddress.includes(':') ? `[${this.settings.publicAddress}]` : this.settings.publicAddress;
    const scheme = protocol === 'TLS' ? 'sips' : 'sip';
    const transport = protocol === 'UDP' || protocol === 'TLS' ? '' : `;transport=${protocol.toLowerCase()}`;
    return { uri: `${scheme}:${user}@${host}:${port}${transport}`, params: {} };
  }

  private routed(uri: string): string {
    return routedUri(uri, this.config.hostRoutes);
  }

  private async resolve(uri: string, preferred?: SipProtocol): Promise<SipPeer> {
    const key = `${uri}|${preferred ?? ''}`;
    const cached = this.resolved.get(key);
    if (cached) return cached;
    const peer = await this.stack.resolve(this.routed(uri), preferred ?? this.settings.transport);
    if (this.resolved.size > 1000) this.resolved.clear();
    this.resolved.set(key, peer);
    return peer;
  }
}

/** Rewrites a URI whose host has a fixed route (`hostRoutes`) to that `host:port`, keeping scheme and params. */
function routedUri(uri: string, routes: Record<string, string> | undefined): string {
  if (!routes) return uri;
  const parsed = parseSipUri(uri);
  const route = parsed ? routes[parsed.host.toLowerCase()] : undefined;
  if (!parsed || !route) return uri;
  const target = parseSipUri(`sip:${route}`);
  if (!target) return uri;
  return formatSipUri({ ...parsed, host: target.host, port: target.port });
}

/** With a wildcard bind, the first external IPv4 address (else loopback) goes into Contact/SDP. */
function defaultPublicAddress(bindAddress: string): string {
  if (bindAddress !== '0.0.0.0' && bindAddress !== '::') return bindAddress;
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (!address.internal && address.family === 'IPv4' && net.isIPv4(address.address)) return address.address;
    }
  }
  return '127.0.0.1';
}
