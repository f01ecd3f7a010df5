/** Backoff settings of an STT session's own reconnection. */
export interface ReconnectSettings {
  /** Consecutive failed attempts before the session fails. @default 5 */
  maxAttempts?: number;
  /** First backoff; doubles per attempt (+0–20 % jitter). @default 250 */
  initialDelayMs?: number;
  /** @default 4000 */
  maxDelayMs?: number;
  /** A connection that lived this long (or produced results) resets the attempt count. @default 5000 */
  resetAfterMs?: number;
}

/**
 * Counts consecutive connection failures and spaces the retries: exponential backoff with jitter, reset by a
 * connection that proved healthy (it produced results or stayed up `resetAfterMs`).
 */
export class ReconnectPolicy {
  readonly maxAttempts: number;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly resetAfterMs: number;
  /** Failures since the last healthy connection; also the number of the next attempt. */
  failures = 0;

  constructor(settings: ReconnectSettings = {}) {
    this.maxAttempts = settings.maxAttempts ?? 5;
    this.initialDelayMs = settings.initialDelayMs ?? 250;
    this.maxDelayMs = settings.maxDelayMs ?? 4000;
    this.resetAfterMs = settings.resetAfterMs ?? 5000;
  }

  /**
   * A connection ended. Returns the delay before the next attempt, or undefined when the attempts are used up.
   * @param connection whether it was usable, whether it produced results, and when it opened (`performance.now()`)
   */
  onDrop(connection: { ready: boolean; gotResults: boolean; openedAt: number }): number | undefined {
    if (connection.ready && (connection.gotResults || performance.now() - connection.openedAt >= this.resetAfterMs)) {
      this.failures = 0;
    }
    this.failures++;
    if (this.failures > this.maxAttempts) return undefined;
    const base = Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** (this.failures - 1));
    return Math.round(base * (1 + Math.random() * 0.2));
  }
}
