/**
 * Transport plus transactions: what the dialog layer talks to. Incoming requests arrive with their server
 * transaction (INVITEs already answered with 100 Trying, retransmissions absorbed); requests go out in a
 * client transaction with our Via on top; responses are matched back by branch.
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import type { Logger } from '../../../log.ts';
import type { ParsedSipMessage } from '../lib/sip-codec.ts';
import { parseSipUri } from '../lib/sip-codec.ts';
import { makeResponse, newBranch, type SipRequest, type SipResponse, type Via } from '../sip-message.ts';
import {
  DEFAULT_TIMING,
  InviteClientTransaction,
  InviteServerTransaction,
  NonInviteClientTransaction,
  NonInviteServerTransaction,
  realTimers,
  type AnyServerTransaction,
  type ClientTransaction,
  type ResponseHandler,
  type SipTimers,
  type TransactionTiming,
} from './sip-transactions.ts';
import { SipTransport, type SipPeer, type SipProtocol, type SipTlsOptions } from './sip-transport.ts';

export type IncomingRequest = SipRequest & { headers: ParsedSipMessage['headers'] };

export interface SipStackHandler {
  /** A new request (not a retransmission, not an ACK). Must answer through `transaction` eventually. */
  request(request: IncomingRequest, from: SipPeer, transaction: AnyServerTransaction): void;
  /** An ACK for a 2xx (its own transaction, so the dialog layer matches it). */
  ack(request: IncomingRequest, from: SipPeer): void;
  /** A 2xx to an INVITE whose client transaction is gone (a retransmission: the dialog re-sends its ACK). */
  strayResponse?(response: SipResponse, from: SipPeer): void;
}

export interface SipStackOptions {
  bindAddress: string;
  port: number;
  listen: SipProtocol[];
  tls?: SipTlsOptions;
  /** Host (and port) written into Via; defaults to the bind address and bound port. */
  publicAddress?: string;
  publicPort?: number;
  logger: Logger;
  timers?: SipTimers;
  timing?: Partial<TransactionTiming>;
}

export class SipStack {
  readonly transport: SipTransport;
  private readonly servers = new Map<string, AnyServerTransaction>();
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly timers: SipTimers;
  private readonly timing: TransactionTiming;
  private handler: SipStackHandler | undefined;

  constructor(private readonly options: SipStackOptions) {
    this.timers = options.timers ?? realTimers;
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.transport = new SipTransport({
      bindAddress: options.bindAddress,
      port: options.port,
      listen: options.listen,
      ...(options.tls ? { tls: options.tls } : {}),
      logger: options.logger,
      onMessage: (message, from) => this.onMessage(message, from),
    });
  }

  setHandler(handler: SipStackHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    await this.transport.start();
  }

  /** The host:port peers should send to (Via sent-by, Contact). */
  get publicAddress(): string {
    return this.options.publicAddress ?? this.options.bindAddress;
  }

  publicPort(protocol: SipProtocol = 'UDP'): number {
    if (protocol === 'TLS') return this.transport.tlsPort;
    return this.options.publicPort ?? this.transport.port;
  }

  get pendingTransactions(): number {
    return this.servers.size + this.clients.size;
  }

  /** Sends `request` in a new client transaction; `onResponse` gets every response (and a 408/503 on failure). */
  request(request: SipRequest, to: SipPeer, onResponse: ResponseHandler): ClientTransaction {
    const branch = request.method === 'CANCEL' && request.headers.via?.[0] ? String(request.headers.via[0].params.branch) : newBranch();
    request.headers.via = [this.via(to.protocol, branch)];
    if (request.headers['max-forwards'] === undefined) request.headers['max-forwards'] = '70';
    const key = clientKey(branch, request.method === 'ACK' ? 'INVITE' : request.method);
    const connection = this.transport.open(to, (error) => transaction.transportError(error.message));
    const context = {
      connection,
      timers: this.timers,
      timing: this.timing,
      terminated: () => {
        if (this.clients.get(key) === transaction) this.clients.delete(key);
      },
    };
    const transaction: ClientTransaction =
      request.method === 'INVITE'
        ? new InviteClientTransaction(request, context, onResponse)
        : new NonInviteClientTransaction(request, context, onResponse);
    this.clients.set(key, transaction);
    transaction.start();
    return transaction;
  }

  /** Sends an ACK for a 2xx (outside any transaction, RFC 3261 §13.2.2.4). */
  sendAck(ack: SipRequest, to: SipPeer): void {
    ack.headers.via = [this.via(to.protocol, newBranch())];
    if (ack.headers['max-forwards'] === undefined) ack.headers['max-forwards'] = '70';
    this.transport.send(ack, to);
  }

  /** The INVITE server transaction a CANCEL refers to (same branch). */
  inviteTransactionFor(cancel: IncomingRequest): InviteServerTransaction | undefined {
    const found = this.servers.get(serverKey(cancel, 'INVITE'));
    return found instanceof InviteServerTransaction ? found : undefined;
  }

  /** Where to send a request for `uri` (RFC 3263, simplified: IP literal, SRV, then A/AAAA). */
  async resolve(uri: string, preferred?: SipProtocol): Promise<SipPeer> {
    const parsed = parseSipUri(uri);
    if (!parsed) throw new Error(`not a SIP URI: ${uri}`);
    const param = parsed.params.transport?.toUpperCase();
    const protocol: SipProtocol = parsed.schema === 'sips' || param === 'TLS' ? 'TLS' : param === 'TCP' ? 'TCP' : (preferred ?? 'UDP');
    const defaultPort = protocol === 'TLS' ? 5061 : 5060;
    const host = parsed.host.replace(/^\[|\]$/g, '');
    if (net.isIP(host)) return { protocol, address: host, port: parsed.port ?? defaultPort };
    if (!parsed.port) {
      const service = protocol === 'TLS' ? '_sips._tcp' : protocol === 'TCP' ? '_sip._tcp' : '_sip._udp';
      try {
        const records = await dns.resolveSrv(`${service}.${host}`);
        records.sort((a, b) => a.priority - b.priority || b.weight - a.weight);
        const best = records[0];
        if (best) {
          const { address } = await dns.lookup(best.name);
          return { protocol, address, port: best.port };
        }
      } catch {
        // no SRV records: fall through to A/AAAA
      }
    }
    const { address } = await dns.lookup(host);
    return { protocol, address, port: parsed.port ?? defaultPort };
  }

  async close(): Promise<void> {
    for (const transaction of [...this.clients.values(), ...this.servers.values()]) transaction.terminate();
    await this.transport.close();
  }

  private via(protocol: SipProtocol, branch: string): Via {
    const params: Via['params'] = { branch };
    if (protocol === 'UDP') params.rport = null;
    return { version: '2.0', protocol, host: this.publicAddress, port: this.publicPort(protocol), params };
  }

  private onMessage(message: ParsedSipMessage, from: SipPeer): void {
    if (message.method) this.onRequest(message as IncomingRequest, from);
    else this.onResponse(message as SipResponse & ParsedSipMessage, from);
  }

  private onRequest(request: IncomingRequest, from: SipPeer): void {
    const handler = this.handler;
    if (!handler) return;
    if (request.method === 'ACK') {
      const invite = this.servers.get(serverKey(request, 'INVITE'));
      if (invite instanceof InviteServerTransaction) invite.ackForFailure();
      else handler.ack(request, from);
      return;
    }
    const key = serverKey(request, request.method);
    const existing = this.servers.get(key);
    if (existing) {
      existing.retransmission();
      return;
    }
    const context = {
      connection: this.transport.open(this.responsePeer(request, from)),
      timers: this.timers,
      timing: this.timing,
      terminated: () => {
        if (this.servers.get(key) === transaction) this.servers.delete(key);
      },
    };
    const transaction: AnyServerTransaction =
      request.method === 'INVITE' ? new InviteServerTransaction(request, context) : new NonInviteServerTransaction(request, context);
    this.servers.set(key, transaction);
    if (request.method === 'INVITE') transaction.respond(makeResponse(request, 100)); // at once: stops the caller's retransmissions
    try {
      handler.request(request, from, transaction);
    } catch (error) {
      this.options.logger.error(
        { err: error instanceof Error ? error.message : String(error), callId: request.headers['call-id'] },
        'SIP request handler failed',
      );
      transaction.respond(makeResponse(request, 500));
    }
  }

  private onResponse(response: SipResponse & ParsedSipMessage, from: SipPeer): void {
    const via = response.headers.via[0];
    const branch = via?.params.branch;
    const transaction = typeof branch === 'string' ? this.clients.get(clientKey(branch, response.headers.cseq.method)) : undefined;
    if (transaction) transaction.receive(response);
    else if (response.headers.cseq.method === 'INVITE' && response.status >= 200 && response.status < 300)
      this.handler?.strayResponse?.(response, from);
  }

  /** RFC 3261 §18.2.2 with RFC 3581: streams answer on the connection; UDP to the source when `rport` asked. */
  private responsePeer(request: IncomingRequest, from: SipPeer): SipPeer {
    if (from.protocol !== 'UDP') return from;
    const via = request.headers.via[0];
    if (!via || 'rport' in via.params) return from;
    const address = typeof via.params.received === 'string' ? via.params.received : (via.host ?? from.address);
    return { protocol: 'UDP', address, port: via.port ?? 5060 };
  }
}

function clientKey(branch: string, method: string): string {
  return `${branch}|${method}`;
}

/** RFC 3261 §17.2.3 matching: branch, sent-by and method; older peers without the magic cookie by Call-ID/CSeq/tag. */
function serverKey(request: IncomingRequest, method: string): string {
  const via = request.headers.via[0] as Via;
  const branch = typeof via.params.branch === 'string' ? via.params.branch : '';
  const sentBy = `${via.host ?? ''}:${via.port ?? ''}`;
  if (branch.startsWith('z9hG4bK')) return `${branch}|${sentBy}|${method}`;
  const fromTag = request.headers.from.params.tag ?? '';
  return `old|${request.headers['call-id']}|${request.headers.cseq.seq}|${fromTag}|${sentBy}|${method}`;
}
