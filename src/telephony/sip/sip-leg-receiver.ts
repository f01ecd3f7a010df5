/**
 * Brings SIP legs into calls that already exist elsewhere (e.g. a room service dialling out to us for a call
 * whose record another carrier created): each expected leg gets a SIP URI of its own (`sip:leg-<random>@host:port`)
 * to hand to whoever dials; the INVITE for it is answered and its RTP channel given to the waiter, which runs the
 * agent on it (`CallControl.runMedia(callId, channel)`). INVITEs for users nobody expects get 404.
 *
 * Use it on an endpoint of its own (its `incoming` events are all taken here): `new SipEndpoint({ port: 0, … })`.
 */
import { randomBytes } from 'node:crypto';
import { SwitchboardError } from '../../errors.ts';
import type { RtpChannel } from '../../transports/rtp/rtp-channel.ts';
import type { IncomingSipCall } from './incoming-sip-call.ts';
import type { SipEndpoint } from './sip-endpoint.ts';

export interface ExpectedSipLeg {
  /** The URI to dial (give it to the service that calls us). */
  readonly uri: string;
  /** Resolves with the answered call and its media channel; rejects on timeout, cancel, or a failed answer. */
  readonly answered: Promise<{ call: IncomingSipCall; channel: RtpChannel }>;
  /** Stops waiting (the call went away); a later INVITE for it gets 404. */
  cancel(reason: string): void;
}

export class SipLegNotConnectedError extends SwitchboardError {
  constructor(message: string, callId?: string) {
    super(message, { code: 'sip_leg_not_connected', ...(callId ? { callId } : {}) });
  }
}

interface Waiter {
  callId: string | undefined;
  resolve: (value: { call: IncomingSipCall; channel: RtpChannel }) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class SipLegReceiver {
  private readonly waiting = new Map<string, Waiter>();

  constructor(
    private readonly endpoint: SipEndpoint,
    private readonly options: {
      /** How long an expected leg may take to arrive. @default 60000 */
      timeoutMs?: number;
    } = {},
  ) {
    endpoint.on('incoming', (call) => void this.onIncoming(call));
  }

  /** A new URI for one leg; `callId` (ours) goes into errors and logs. */
  expect(callId?: string): ExpectedSipLeg {
    const user = `leg-${randomBytes(12).toString('hex')}`;
    let cancel!: (reason: string) => void;
    const answered = new Promise<{ call: IncomingSipCall; channel: RtpChannel }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(user);
        reject(new SipLegNotConnectedError(`no INVITE for ${user} within ${this.options.timeoutMs ?? 60_000} ms`, callId));
      }, this.options.timeoutMs ?? 60_000);
      this.waiting.set(user, { callId, resolve, reject, timer });
      cancel = (reason) => {
        const waiter = this.waiting.get(user);
        if (!waiter) return;
        clearTimeout(waiter.timer);
        this.waiting.delete(user);
        reject(new SipLegNotConnectedError(`leg ${user} cancelled: ${reason}`, callId));
      };
    });
    answered.catch(() => {}); // the caller awaits it; an unobserved timeout must not crash the process
    return { uri: this.endpoint.uri(user), answered, cancel };
  }

  private async onIncoming(call: IncomingSipCall): Promise<void> {
    const user = call.requestUser ?? '';
    const waiter = this.waiting.get(user);
    if (!waiter) {
      call.reject(404, 'Not Found');
      return;
    }
    this.waiting.delete(user);
    clearTimeout(waiter.timer);
    try {
      const channel = await call.accept();
      waiter.resolve({ call, channel });
    } catch (error) {
      waiter.reject(
        new SipLegNotConnectedError(`leg ${user} not answered: ${error instanceof Error ? error.message : String(error)}`, waiter.callId),
      );
    }
  }
}
