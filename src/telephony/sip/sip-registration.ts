/**
 * REGISTER with a registrar (RFC 3261 §10) for trunks that need it: digest challenges answered, the binding
 * refreshed before it expires (at 80 % of the granted time), retried with backoff after failures, removed
 * (Expires: 0) on stop.
 */
import { answerDigestChallenge, type DigestClientState } from './lib/digest.ts';
import { parseSipUri } from './lib/sip-codec.ts';
import type { SipCallContext } from './sip-call-context.ts';
import type { SipCredentials } from './sip-config.ts';
import { headerText, newCallId, newTag, type SipRequest, type SipResponse } from './sip-message.ts';

export interface SipRegistrationOptions {
  /** `sip:registrar.example.com` or a host. */
  registrar: string;
  expiresSec: number;
  credentials: SipCredentials | undefined;
  /** User part of the address of record. */
  user: string;
  context: SipCallContext;
  /** First retry after a failure; doubles up to 5 minutes. @default 5000 */
  retryMs?: number;
}

export type RegistrationStatus = 'idle' | 'registering' | 'registered' | 'failed' | 'stopped';

export class SipRegistration {
  status: RegistrationStatus = 'idle';
  /** Seconds the registrar granted last time. */
  grantedSec: number | undefined;
  /** Successful REGISTER transactions so far (first one and refreshes). */
  registrations = 0;
  lastError: string | undefined;
  private readonly callId: string;
  private readonly tag = newTag();
  private seq = 0;
  private timer: unknown;
  private failures = 0;
  private readonly auth: DigestClientState = { context: null };
  private readonly registrarUri: string;

  constructor(private readonly options: SipRegistrationOptions) {
    this.callId = newCallId(options.context.settings.publicAddress);
    this.registrarUri = /^sips?:/i.test(options.registrar) ? options.registrar : `sip:${options.registrar}`;
    if (!parseSipUri(this.registrarUri)) throw new Error(`invalid SIP registrar: ${options.registrar}`);
  }

  start(): void {
    if (this.status === 'stopped') return;
    void this.register(this.options.expiresSec);
  }

  /** Removes the binding (best effort) and stops refreshing. */
  async stop(): Promise<void> {
    if (this.status === 'stopped') return;
    const wasRegistered = this.status === 'registered';
    this.status = 'stopped';
    this.options.context.timers.clearTimeout(this.timer);
    if (!wasRegistered) return;
    // Best effort, bounded: shutting down must not wait for a registrar that is gone.
    let timer: unknown;
    const giveUp = new Promise<void>((resolve) => (timer = this.options.context.timers.setTimeout(resolve, 2000)));
    await Promise.race([this.send(0).catch(() => undefined), giveUp]);
    this.options.context.timers.clearTimeout(timer);
  }

  private async register(expiresSec: number): Promise<void> {
    if (this.status === 'stopped') return;
    this.status = 'registering';
    let response: SipResponse;
    try {
      response = await this.send(expiresSec);
    } catch (error) {
      response = { status: 503, reason: error instanceof Error ? error.message : String(error), headers: {} };
    }
    if ((this.status as RegistrationStatus) === 'stopped') return;
    const { logger, timers } = this.options.context;
    if (response.status >= 200 && response.status < 300) {
      this.failures = 0;
      this.registrations++;
      this.status = 'registered';
      this.grantedSec = grantedExpires(response, expiresSec);
      logger.info({ registrar: this.registrarUri, expiresSec: this.grantedSec }, 'SIP registration ok');
      this.timer = timers.setTimeout(() => void this.register(this.options.expiresSec), Math.max(1, this.grantedSec * 0.8) * 1000);
      return;
    }
    this.status = 'failed';
    this.lastError = `${response.status} ${response.reason}`;
    this.failures++;
    const retryMs = Math.min(300_000, (this.options.retryMs ?? 5000) * 2 ** (this.failures - 1));
    logger.warn({ registrar: this.registrarUri, status: response.status, retryMs }, 'SIP registration failed');
    this.timer = timers.setTimeout(() => void this.register(this.options.expiresSec), retryMs);
  }

  /** One REGISTER transaction (answering one challenge). */
  private async send(expiresSec: number): Promise<SipResponse> {
    const { context } = this.options;
    const peer = await context.resolve(context.settings.outboundProxy ?? this.registrarUri, context.settings.transport);
    const request = this.build(expiresSec);
    let response = await this.transact(request, peer);
    const credentials = this.options.credentials;
    if ((response.status === 401 || response.status === 407) && credentials) {
      const retry = this.build(expiresSec);
      if (answerDigestChallenge(retry, response, credentials, this.auth)) response = await this.transact(retry, peer);
    }
    return response;
  }

  private transact(request: SipRequest, peer: Parameters<SipCallContext['stack']['request']>[1]): Promise<SipResponse> {
    return new Promise((resolve) => {
      this.options.context.stack.request(request, peer, (response) => {
        if (response.status >= 200) resolve(response);
      });
    });
  }

  private build(expiresSec: number): SipRequest {
    const { context, user } = this.options;
    const registrar = parseSipUri(this.registrarUri);
    const aor = `sip:${user}@${registrar?.host ?? context.settings.publicAddress}`;
    this.seq++;
    return {
      method: 'REGISTER',
      uri: `sip:${registrar?.host ?? ''}${registrar?.port ? `:${registrar.port}` : ''}`,
      version: '2.0',
      headers: {
        to: { uri: aor, params: {} },
        from: { uri: aor, params: { tag: this.tag } },
        'call-id': this.callId,
        cseq: { seq: this.seq, method: 'REGISTER' },
        contact: [context.contact(context.settings.transport, user)],
        expires: String(expiresSec),
        'user-agent': context.settings.userAgent,
      },
    };
  }
}

/** Expiry the registrar granted: our Contact's `expires` param, else the Expires header, else what we asked. */
function grantedExpires(response: SipResponse, asked: number): number {
  const contact = response.headers.contact;
  if (Array.isArray(contact)) {
    for (const c of contact) {
      const value = Number(c.params.expires);
      if (Number.isFinite(value) && value > 0) return value;
    }
  }
  const header = Number(headerText(response, 'expires'));
  return Number.isFinite(header) && header > 0 ? header : asked;
}
