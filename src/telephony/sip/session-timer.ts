/**
 * RFC 4028 session timers for one dialog: the refresher re-INVITEs at half the interval; the other side
 * sends BYE when no refresh came by `interval − min(32, interval/3)` seconds.
 */
import { headerText, headerTokens, parseParamHeader, type SipMessage } from './sip-message.ts';
import type { SipTimers } from './transport/sip-transactions.ts';

export type Refresher = 'uac' | 'uas';

export interface SessionTimerSpec {
  intervalSec: number;
  refresher: Refresher;
}

/** Session-Expires of a message: interval and refresher (undefined when absent or malformed). */
export function readSessionExpires(message: SipMessage): { intervalSec: number; refresher: Refresher | undefined } | undefined {
  const text = headerText(message, 'session-expires');
  if (!text) return undefined;
  const { value, params } = parseParamHeader(text);
  const intervalSec = Number(value);
  if (!Number.isInteger(intervalSec) || intervalSec <= 0) return undefined;
  const refresher = params.refresher === 'uac' || params.refresher === 'uas' ? params.refresher : undefined;
  return { intervalSec, refresher };
}

export function readMinSe(message: SipMessage): number | undefined {
  const text = headerText(message, 'min-se');
  if (!text) return undefined;
  const value = Number(parseParamHeader(text).value);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

export function supportsTimer(message: SipMessage): boolean {
  return headerTokens(message, 'supported').includes('timer') || headerTokens(message, 'require').includes('timer');
}

export function formatSessionExpires(spec: SessionTimerSpec): string {
  return `${spec.intervalSec};refresher=${spec.refresher}`;
}

export class SessionTimer {
  private handle: unknown;
  private spec: SessionTimerSpec | undefined;

  constructor(
    /** Which role we have in the dialog. */
    private readonly we: Refresher,
    private readonly timers: SipTimers,
    private readonly onRefreshDue: () => void,
    private readonly onExpired: () => void,
  ) {}

  get current(): SessionTimerSpec | undefined {
    return this.spec;
  }

  get weRefresh(): boolean {
    return this.spec?.refresher === this.we;
  }

  /** (Re)starts the timer after a successful INVITE/UPDATE transaction. */
  start(spec: SessionTimerSpec): void {
    this.stop();
    this.spec = spec;
    const ms = spec.intervalSec * 1000;
    if (spec.refresher === this.we) {
      this.handle = this.timers.setTimeout(() => this.onRefreshDue(), ms / 2);
    } else {
      this.handle = this.timers.setTimeout(() => this.onExpired(), ms - Math.min(32_000, ms / 3));
    }
  }

  stop(): void {
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
  }
}
