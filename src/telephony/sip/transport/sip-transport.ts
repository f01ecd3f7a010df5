/**
 * SIP over UDP, TCP and TLS (RFC 3261 §18): one UDP socket and one TCP (and optionally TLS) listener on the
 * same port, outgoing stream connections reused per peer, and framing/parsing per message. Written here
 * rather than taken from the `sip` package because its transport cannot bind port 0, throws on bind errors
 * and mistakes requests to our own host for flow tokens.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../../log.ts';
import { makeSipStreamParser, parseSipDatagram, serializeSipMessage, type ParsedSipMessage } from '../lib/sip-codec.ts';
import type { SipMessage } from '../sip-message.ts';

export type SipProtocol = 'UDP' | 'TCP' | 'TLS';

/** Where a message came from or goes to. */
export interface SipPeer {
  protocol: SipProtocol;
  address: string;
  port: number;
}

export interface SipTlsOptions {
  /** PEM key and certificate for the TLS listener (and client certificate, if the peer asks). */
  key?: string | Buffer;
  cert?: string | Buffer;
  /** Extra trusted CAs for outgoing TLS. */
  ca?: string | Buffer;
  /** Check the peer's certificate on outgoing TLS. @default true */
  rejectUnauthorized?: boolean;
  /** TLS listener port; 0 picks a free one. @default SIP port + 1 */
  port?: number;
}

export interface SipTransportOptions {
  bindAddress: string;
  /** 0 picks a free port (the same one for UDP and TCP). */
  port: number;
  /** Listen for these (UDP and TCP are always able to send). */
  listen: SipProtocol[];
  tls?: SipTlsOptions;
  logger: Logger;
  onMessage(message: ParsedSipMessage, from: SipPeer): void;
  /** Stream connections idle this long are closed. @default 300000 */
  idleTimeoutMs?: number;
  /** At most this many inbound stream connections. @default 2000 */
  maxConnections?: number;
}

/** What the transaction layer sends through (the `sip` package's connection shape). */
export interface SipConnection {
  readonly protocol: SipProtocol;
  send(message: SipMessage): void;
  release(): void;
}

interface StreamConnection {
  socket: net.Socket;
  errorListeners: Set<(error: Error) => void>;
}

const peerKey = (protocol: SipProtocol, address: string, port: number) => `${protocol}|${address}|${port}`;

export class SipTransport {
  private udp: dgram.Socket | undefined;
  private tcpServer: net.Server | undefined;
  private tlsServer: tls.Server | undefined;
  private readonly streams = new Map<string, StreamConnection>();
  private boundPort = 0;
  private boundTlsPort = 0;
  private closed = false;
  /** Messages dropped because they did not parse. */
  invalidMessages = 0;

  constructor(private readonly options: SipTransportOptions) {}

  get port(): number {
    return this.boundPort;
  }

  get tlsPort(): number {
    return this.boundTlsPort;
  }

  async start(): Promise<void> {
    const wantStream = this.options.listen.includes('TCP');
    for (let attempt = 0; ; attempt++) {
      const udp = await this.bindUdp(this.options.port);
      const port = (udp.address() as net.AddressInfo).port;
      if (!wantStream) {
        this.udp = udp;
        this.boundPort = port;
        break;
      }
      try {
        this.tcpServer = await this.listenStream(net.createServer(), port);
        this.udp = udp;
        this.boundPort = port;
        break;
      } catch (error) {
        udp.close();
        // Port 0 gave a UDP port whose TCP twin is taken: try another.
        if (this.options.port !== 0 || attempt >= 20) throw error;
      }
    }
    this.udp.on('message', (data, rinfo) => this.receive(data, { protocol: 'UDP', address: rinfo.address, port: rinfo.port }));
    this.udp.on('error', (error) => this.options.logger.error({ err: error.message }, 'SIP UDP socket error'));
    this.tcpServer?.on('connection', (socket) => this.accept(socket, 'TCP'));
    if (this.options.listen.includes('TLS')) {
      const tlsOptions = this.options.tls ?? {};
      if (!tlsOptions.key || !tlsOptions.cert) throw new Error('SIP TLS listener needs a key and certificate');
      const server = tls.createServer({ key: tlsOptions.key, cert: tlsOptions.cert });
      this.tlsServer = await this.listenStream(server, tlsOptions.port ?? this.boundPort + 1);
      this.boundTlsPort = (this.tlsServer.address() as net.AddressInfo).port;
      this.tlsServer.on('secureConnection', (socket) => this.accept(socket, 'TLS'));
    }
  }

  /** A connection to `peer` for one transaction; UDP needs none, streams are opened or reused. */
  open(peer: SipPeer, onError?: (error: Error) => void): SipConnection {
    if (peer.protocol === 'UDP') {
      return { protocol: 'UDP', send: (message) => this.sendUdp(message, peer), release: () => {} };
    }
    const connection = this.streamTo(peer);
    if (onError) connection.errorListeners.add(onError);
    return {
      protocol: peer.protocol,
      send: (message) => {
        if (!connection.socket.destroyed) connection.socket.write(Buffer.from(serializeSipMessage(message), 'latin1'));
      },
      release: () => {
        if (onError) connection.errorListeners.delete(onError);
      },
    };
  }

  /** Sends one message outside any transaction (ACK for 2xx, stateless responses). */
  send(message: SipMessage, peer: SipPeer): void {
    const connection = this.open(peer);
    try {
      connection.send(message);
    } finally {
      connection.release();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { socket } of this.streams.values()) socket.destroy();
    this.streams.clear();
    const closing: Promise<void>[] = [];
    if (this.udp) {
      const udp = this.udp;
      closing.push(new Promise((resolve) => udp.close(() => resolve())));
    }
    for (const server of [this.tcpServer, this.tlsServer]) {
      if (server) closing.push(new Promise((resolve) => server.close(() => resolve())));
    }
    await Promise.all(closing);
  }

  private bindUdp(port: number): Promise<dgram.Socket> {
    const type = net.isIPv6(this.options.bindAddress) ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, reuseAddr: false });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, this.options.bindAddress, () => {
        socket.off('error', reject);
        resolve(socket);
      });
    });
  }

  private listenStream<T extends net.Server>(server: T, port: number): Promise<T> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.options.bindAddress, () => {
        server.off('error', reject);
        server.on('error', (error) => this.options.logger.error({ err: error.message }, 'SIP listener error'));
        server.maxConnections = this.options.maxConnections ?? 2000;
        resolve(server);
      });
    });
  }

  private receive(data: Buffer, from: SipPeer): void {
    if (this.closed) return;
    const message = parseSipDatagram(data);
    if (!message) {
      this.rejectInvalid(from, 'unparseable message', data.subarray(0, 80).toString('latin1'));
      return;
    }
    this.deliver(message, from);
  }

  private deliver(message: ParsedSipMessage, from: SipPeer): void {
    if (message.method) {
      // RFC 3261 §18.2.1 and RFC 3581: note where the request really came from.
      const via = message.headers.via[0] as NonNullable<ParsedSipMessage['headers']['via']>[number];
      if (via.host !== from.address) via.params.received = from.address;
      if ('rport' in via.params) via.params.rport = from.port;
    }
    try {
      this.options.onMessage(message, from);
    } catch (error) {
      this.options.logger.error({ err: error instanceof Error ? error.message : String(error), from }, 'SIP message handler failed');
    }
  }

  private rejectInvalid(from: SipPeer, reason: string, excerpt?: string): void {
    this.invalidMessages++;
    this.options.logger.warn({ from, reason, excerpt }, 'malformed SIP message dropped');
  }

  private sendUdp(message: SipMessage, peer: SipPeer): void {
    if (this.closed || !this.udp) return;
    const bytes = Buffer.from(serializeSipMessage(message), 'latin1');
    this.udp.send(bytes, peer.port, peer.address, (error) => {
      if (error) this.options.logger.warn({ err: error.message, to: peer }, 'SIP UDP send failed');
    });
  }

  private accept(socket: net.Socket, protocol: SipProtocol): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const address = socket.remoteAddress ?? '';
    const port = socket.remotePort ?? 0;
    this.track(socket, { protocol, address: address.replace(/^::ffff:/, ''), port });
  }

  private streamTo(peer: SipPeer): StreamConnection {
    const key = peerKey(peer.protocol, peer.address, peer.port);
    const existing = this.streams.get(key);
    if (existing && !existing.socket.destroyed) return existing;
    const socket =
      peer.protocol === 'TLS'
        ? tls.connect({
            host: peer.address,
            port: peer.port,
            ...(this.options.tls?.ca ? { ca: this.options.tls.ca } : {}),
            ...(this.options.tls?.key && this.options.tls.cert ? { key: this.options.tls.key, cert: this.options.tls.cert } : {}),
            rejectUnauthorized: this.options.tls?.rejectUnauthorized ?? true,
            ...(net.isIP(peer.address) ? {} : { servername: peer.address }),
          })
        : net.connect({ host: peer.address, port: peer.port });
    return this.track(socket, peer);
  }

  private track(socket: net.Socket, peer: SipPeer): StreamConnection {
    const key = peerKey(peer.protocol, peer.address, peer.port);
    const connection: StreamConnection = { socket, errorListeners: new Set() };
    this.streams.set(key, connection);
    socket.setNoDelay(true);
    socket.setTimeout(this.options.idleTimeoutMs ?? 300_000, () => socket.destroy());
    const parse = makeSipStreamParser(
      (message) => this.deliver(message, peer),
      (reason, fatal) => {
        this.rejectInvalid(peer, reason);
        if (fatal) socket.destroy();
      },
    );
    socket.on('data', (chunk: Buffer) => parse(chunk));
    socket.on('error', (error) => {
      this.options.logger.warn({ err: error.message, peer }, 'SIP stream connection error');
      for (const listener of connection.errorListeners) listener(error);
      connection.errorListeners.clear();
    });
    socket.on('close', () => {
      if (this.streams.get(key) === connection) this.streams.delete(key);
    });
    return connection;
  }
}
