/**
 * The implicit subscription a REFER creates (RFC 3515): NOTIFYs carry `message/sipfrag` status lines of the
 * transferee's call to the target; a final status (or a terminated subscription) is the outcome.
 */
import type { SipTimers } from './transport/sip-transactions.ts';

export interface TransferOutcome {
  /** The transferee reached the target (sipfrag 2xx). */
  ok: boolean;
  /** Final SIP status from the sipfrag (or of the REFER itself when it was refused). */
  status: number;
  reason: string;
}

export class TransferSubscription {
  readonly outcome: Promise<TransferOutcome>;
  private resolve!: (outcome: TransferOutcome) => void;
  private settled = false;
  private readonly timer: unknown;
  /** Provisional statuses reported so far (100 Trying, 180 Ringing…). */
  readonly progress: number[] = [];

  constructor(
    private readonly timers: SipTimers,
    timeoutMs: number,
  ) {
    this.outcome = new Promise((resolve) => (this.resolve = resolve));
    this.timer = timers.setTimeout(() => this.settle({ ok: false, status: 408, reason: 'no final NOTIFY for the transfer' }), timeoutMs);
  }

  /** A NOTIFY body (`SIP/2.0 200 OK`) and its Subscription-State header. */
  notify(body: string, subscriptionState: string): void {
    const match = /^SIP\/2\.0\s+(\d{3})\s*(.*)$/m.exec(body.trim());
    const status = match ? Number(match[1]) : undefined;
    const reason = match?.[2]?.trim() ?? '';
    if (status !== undefined && status < 200) {
      this.progress.push(status);
      return;
    }
    if (status !== undefined) {
      this.settle({ ok: status < 300, status, reason });
      return;
    }
    if (/^terminated/i.test(subscriptionState.trim()))
      this.settle({ ok: false, status: 487, reason: 'subscription terminated without a final status' });
  }

  settle(outcome: TransferOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.timers.clearTimeout(this.timer);
    this.resolve(outcome);
  }
}
