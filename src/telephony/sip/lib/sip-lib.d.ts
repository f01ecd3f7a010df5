/**
 * Types for the parts of the npm `sip` package (0.0.6, plain CommonJS, no types of its own) that we use: its
 * message parser/serialiser, TCP stream parser, RFC 3261 transaction layer and MD5 digest helpers. Only
 * `lib/` imports these modules, so the package can be replaced without touching the dialog layer.
 */
declare module 'sip' {
  export interface LibUri {
    schema: string;
    user?: string;
    password?: string;
    host: string;
    port?: number;
    params: Record<string, string | null>;
    headers: Record<string, string>;
  }

  export interface LibNameAddr {
    name?: string;
    uri: string | LibUri;
    params: Record<string, string | null>;
  }

  export interface LibVia {
    version?: string;
    protocol?: string;
    host?: string;
    port?: number;
    params: Record<string, string | number | null>;
  }

  export interface LibCSeq {
    seq: number;
    method: string;
  }

  export type LibAuthHeader = Record<string, string | undefined> & { scheme?: string };

  export interface LibHeaders {
    via?: LibVia[];
    to?: LibNameAddr;
    from?: LibNameAddr;
    'call-id'?: string;
    cseq?: LibCSeq;
    contact?: LibNameAddr[] | '*';
    route?: LibNameAddr[];
    'record-route'?: LibNameAddr[];
    'www-authenticate'?: LibAuthHeader[];
    'proxy-authenticate'?: LibAuthHeader[];
    authorization?: LibAuthHeader[];
    'proxy-authorization'?: LibAuthHeader[];
    'refer-to'?: LibNameAddr;
    'content-length'?: number;
    [name: string]: unknown;
  }

  export interface LibMessage {
    method?: string;
    uri?: string | LibUri;
    version?: string;
    status?: number;
    reason?: string;
    headers: LibHeaders;
    content?: string;
  }

  /** What the transaction layer sends through: a connection opened for one target. */
  export interface LibConnection {
    send(message: LibMessage): void;
    release(): void;
    protocol: string;
  }

  export interface LibServerTransaction {
    send(response: LibMessage): void;
    message(request: LibMessage, remote?: unknown): void;
    shutdown(): void;
  }

  export interface LibClientTransaction {
    message(response: LibMessage, remote?: unknown): void;
    shutdown(): void;
  }

  export interface LibTransactionLayer {
    createServerTransaction(request: LibMessage, connection: LibConnection): LibServerTransaction;
    createClientTransaction(connection: LibConnection, request: LibMessage, callback: (response: LibMessage) => void): LibClientTransaction;
    getServer(message: LibMessage): LibServerTransaction | undefined;
    getClient(message: LibMessage): LibClientTransaction | undefined;
    destroy(): void;
  }

  export interface SipLibrary {
    parse(data: string | Buffer): LibMessage | undefined;
    stringify(message: LibMessage): string;
    parseUri(uri: string | LibUri): LibUri | undefined;
    stringifyUri(uri: string | LibUri): string;
    stringifyAuthHeader(header: LibAuthHeader): string;
    makeResponse(request: LibMessage, status: number, reason?: string, extension?: { headers?: LibHeaders; content?: string }): LibMessage;
    makeStreamParser(
      onMessage: (message: LibMessage) => void,
      onFlood?: () => void,
      maxBytesHeaders?: number,
      maxContentLength?: number,
    ): (data: string) => void;
    makeTransactionLayer(options: Record<string, unknown>, open: unknown): LibTransactionLayer;
    generateBranch(): string;
  }

  const sip: SipLibrary;
  export default sip;
}

declare module 'sip/digest.js' {
  import type { LibMessage } from 'sip';

  /** Client-side digest state kept between a challenge and later requests (nonce count, cnonce). */
  export type LibDigestContext = Record<string, unknown>;

  export interface LibDigest {
    signRequest(
      context: LibDigestContext | null,
      request: LibMessage,
      challenge: LibMessage | undefined,
      credentials: { user: string; password: string; realm?: string },
    ): LibDigestContext | null;
    calculateDigest(context: {
      ha1: string;
      method: string;
      nonce: string;
      nc?: string;
      cnonce?: string;
      qop?: string;
      uri: string;
      entity?: string;
    }): string;
    calculateUserRealmPasswordHash(user: string, realm: string, password: string): string;
  }

  const digest: LibDigest;
  export default digest;
}
