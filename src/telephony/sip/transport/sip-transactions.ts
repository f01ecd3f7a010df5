/**
 * RFC 3261 §17 transactions (with RFC 6026's Accepted states). Written here rather than taken from the `sip`
 * package: its client transactions draw branches from a 20-bit random number (two concurrent calls through one
 * peer can collide) and its timers are fixed and untestable. Timers here are injectable and scale with T1.
 */
import type { SipRequest, SipResponse } from '../sip-message.ts';
import { makeResponse } from '../sip-message.ts';
import type { SipConnection } from './sip-transport.ts';

/** Timer functions (fake in unit tests). */
export interface SipTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: SipTimers = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface TransactionTiming {
  /** RTT estimate. @default 500 */
  t1Ms: number;
  /** Largest retransmit interval for non-INVITE requests and INVITE responses. @default 4000 */
  t2Ms: number;
  /** Longest a message stays in the network. @default 5000 */
  t4Ms: number;
}

export const DEFAULT_TIMING: TransactionTiming = { t1Ms: 500, t2Ms: 4000, t4Ms: 5000 };

class TimerSet {
  private readonly handles = new Set<unknown>();
  constructor(private readonly timers: SipTimers) {}
  start(ms: number, callback: () => void): unknown {
    const handle = this.timers.setTimeout(() => {
      this.handles.delete(handle);
      callback();
    }, ms);
    this.handles.add(handle);
    return handle;
  }
  stop(handle: unknown): void {
    if (handle === undefined) return;
    this.timers.clearTimeout(handle);
    this.handles.delete(handle);
  }
  stopAll(): void {
    for (const handle of this.handles) this.timers.clearTimeout(handle);
    this.handles.clear();
  }
}

interface TransactionContext {
  connection: SipConnection;
  timers: SipTimers;
  timing: TransactionTiming;
  /** Called once when the transaction is over (the stack forgets it). */
  terminated(): void;
}

// ── server side ──────────────────────────────────────────────────────────────────────────────────────

export interface ServerTransaction {
  readonly request: SipRequest;
  /** Sends a response (provisional or final). After a final, further calls are ignored (2xx: see below). */
  respond(response: SipResponse): void;
  /** Whether a final response was sent. */
  readonly finished: boolean;
}

export class InviteServerTransaction implements ServerTransaction {
  private state: 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated' = 'proceeding';
  private last: SipResponse | undefined;
  private readonly timerSet: TimerSet;
  private retransmitTimer: unknown;
  private awaitingAck = true;
  /** Called when a 2xx was never acknowledged (64·T1): the dialog must be torn down (RFC 3261 §13.3.1.4). */
  onAckTimeout: (() => void) | undefined;

  constructor(
    readonly request: SipRequest,
    private readonly context: TransactionContext,
  ) {
    this.timerSet = new TimerSet(context.timers);
  }

  get finished(): boolean {
    return this.state !== 'proceeding';
  }

  get reliable(): boolean {
    return this.context.connection.protocol !== 'UDP';
  }

  respond(response: SipResponse): void {
    if (this.state !== 'proceeding') return;
    this.last = response;
    this.context.connection.send(response);
    if (response.status < 200) return;
    const { t1Ms, t2Ms } = this.context.timing;
    this.state = response.status < 300 ? 'accepted' : 'completed';
    // Timer G (failure) or the TU's 2xx retransmission (success) on unreliable transports.
    if (!this.reliable) {
      const resend = (interval: number) => {
        this.retransmitTimer = this.timerSet.start(interval, () => {
          if (this.last) this.context.connection.send(this.last);
          resend(Math.min(interval * 2, t2Ms));
        });
      };
      resend(t1Ms);
    }
    // Timer H / L: give up waiting for the ACK.
    this.timerSet.start(64 * t1Ms, () => {
      const missedAck = this.state === 'accepted' && this.awaitingAck;
      this.terminate();
      if (missedAck) this.onAckTimeout?.();
    });
  }

  /** A retransmission of the INVITE arrived: repeat the last response (absorbed when accepted). */
  retransmission(): void {
    if (this.state === 'proceeding' || this.state === 'completed') {
      if (this.last) this.context.connection.send(this.last);
    }
  }

  /** ACK for a non-2xx final (same branch). */
  ackForFailure(): void {
    if (this.state !== 'completed') return;
    this.state = 'confirmed';
    this.timerSet.stopAll();
    // Timer I: absorb ACK retransmissions for T4 on UDP.
    this.timerSet.start(this.reliable ? 0 : this.context.timing.t4Ms, () => this.terminate());
  }

  /** The dialog received the ACK for our 2xx: stop retransmitting it. */
  ackFor2xx(): void {
    this.awaitingAck = false;
    this.timerSet.stop(this.retransmitTimer);
    this.retransmitTimer = undefined;
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.timerSet.stopAll();
    this.context.connection.release();
    this.context.terminated();
  }
}

export class NonInviteServerTransaction implements ServerTransaction {
  private state: 'trying' | 'completed' | 'terminated' = 'trying';
  private last: SipResponse | undefined;
  private readonly timerSet: TimerSet;

  constructor(
    readonly request: SipRequest,
    private readonly context: TransactionContext,
  ) {
    this.timerSet = new TimerSet(context.timers);
  }

  get finished(): boolean {
    return this.state !== 'trying';
  }

  respond(response: SipResponse): void {
    if (this.state !== 'trying') return;
    this.last = response;
    this.context.connection.send(response);
    if (response.status < 200) return;
    this.state = 'completed';
    // Timer J: answer retransmissions of the request with the same response.
    const reliable = this.context.connection.protocol !== 'UDP';
    this.timerSet.start(reliable ? 0 : 64 * this.context.timing.t1Ms, () => this.terminate());
  }

  retransmission(): void {
    if (this.last) this.context.connection.send(this.last);
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.timerSet.stopAll();
    this.context.connection.release();
    this.context.terminated();
  }
}

// ── client side ──────────────────────────────────────────────────────────────────────────────────────

export type ResponseHandler = (response: SipResponse) => void;

export class InviteClientTransaction {
  private state: 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated' = 'calling';
  private readonly timerSet: TimerSet;
  private timerA: unknown;
  private timerB: unknown;
  private ack: SipRequest | undefined;

  constructor(
    readonly request: SipRequest,
    private readonly context: TransactionContext,
    private readonly onResponse: ResponseHandler,
  ) {
    this.timerSet = new TimerSet(context.timers);
  }

  start(): void {
    const { t1Ms } = this.context.timing;
    this.context.connection.send(this.request);
    if (this.context.connection.protocol === 'UDP') {
      const resend = (interval: number) => {
        this.timerA = this.timerSet.start(interval, () => {
          this.context.connection.send(this.request);
          resend(interval * 2);
        });
      };
      resend(t1Ms);
    }
    this.timerB = this.timerSet.start(64 * t1Ms, () => {
      this.terminate();
      this.onResponse(makeResponse(this.request, 408, { reason: 'Request Timeout (no response)' }));
    });
  }

  receive(response: SipResponse): void {
    const status = response.status;
    switch (this.state) {
      case 'calling':
      case 'proceeding':
        this.timerSet.stop(this.timerA);
        if (status < 200) {
          this.state = 'proceeding';
          this.onResponse(response);
          return;
        }
        this.timerSet.stop(this.timerB);
        if (status < 300) {
          this.state = 'accepted';
          this.timerSet.start(64 * this.context.timing.t1Ms, () => this.terminate()); // timer M
        } else {
          this.state = 'completed';
          this.sendAck(response);
          const reliable = this.context.connection.protocol !== 'UDP';
          this.timerSet.start(reliable ? 0 : 32_000, () => this.terminate()); // timer D
        }
        this.onResponse(response);
        return;
      case 'accepted':
        if (status >= 200 && status < 300) this.onResponse(response); // 2xx retransmissions or forks: the TU ACKs
        return;
      case 'completed':
        if (status >= 300 && this.ack) this.context.connection.send(this.ack);
        return;
      case 'terminated':
        return;
    }
  }

  /** Transport failure (stream connection refused or reset). */
  transportError(reason: string): void {
    if (this.state !== 'calling' && this.state !== 'proceeding') return;
    this.terminate();
    this.onResponse(makeResponse(this.request, 503, { reason: `Service Unavailable (${reason})` }));
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.timerSet.stopAll();
    this.context.connection.release();
    this.context.terminated();
  }

  /** ACK for a non-2xx final (RFC 3261 §17.1.1.3): same branch, Route of the INVITE, To of the response. */
  private sendAck(response: SipResponse): void {
    const h = this.request.headers;
    const via = h.via?.[0];
    this.ack = {
      method: 'ACK',
      uri: this.request.uri,
      version: '2.0',
      headers: {
        via: via ? [via] : [],
        to: response.headers.to,
        from: h.from,
        'call-id': h['call-id'],
        cseq: { seq: h.cseq?.seq ?? 1, method: 'ACK' },
        ...(h.route ? { route: h.route } : {}),
        'max-forwards': '70',
      },
    };
    this.context.connection.send(this.ack);
  }
}

export class NonInviteClientTransaction {
  private state: 'trying' | 'proceeding' | 'completed' | 'terminated' = 'trying';
  private readonly timerSet: TimerSet;
  private timerE: unknown;

  constructor(
    readonly request: SipRequest,
    private readonly context: TransactionContext,
    private readonly onResponse: ResponseHandler,
  ) {
    this.timerSet = new TimerSet(context.timers);
  }

  start(): void {
    const { t1Ms, t2Ms } = this.context.timing;
    this.context.connection.send(this.request);
    if (this.context.connection.protocol === 'UDP') {
      const resend = (interval: number) => {
        this.timerE = this.timerSet.start(interval, () => {
          this.context.connection.send(this.request);
          resend(this.state === 'proceeding' ? t2Ms : Math.min(interval * 2, t2Ms));
        });
      };
      resend(t1Ms);
    }
    this.timerSet.start(64 * t1Ms, () => {
      if (this.state !== 'trying' && this.state !== 'proceeding') return;
      this.terminate();
      this.onResponse(makeResponse(this.request, 408, { reason: 'Request Timeout (no response)' }));
    });
  }

  receive(response: SipResponse): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    if (response.status < 200) {
      this.state = 'proceeding';
      this.onResponse(response);
      return;
    }
    this.state = 'completed';
    this.timerSet.stopAll();
    void this.timerE;
    const reliable = this.context.connection.protocol !== 'UDP';
    this.timerSet.start(reliable ? 0 : this.context.timing.t4Ms, () => this.terminate()); // timer K
    this.onResponse(response);
  }

  transportError(reason: string): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    this.terminate();
    this.onResponse(makeResponse(this.request, 503, { reason: `Service Unavailable (${reason})` }));
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.timerSet.stopAll();
    this.context.connection.release();
    this.context.terminated();
  }
}

export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
export type AnyServerTransaction = InviteServerTransaction | NonInviteServerTransaction;
export type { TransactionContext };
