/** How a keypad answer ends. */
export interface KeypadOptions {
  /** Digits a complete answer has: it is committed the moment the last one arrives. @default unset (any number) */
  maxDigits?: number;
  /** Key that ends an answer (not part of it); `null` for none. @default '#' */
  terminator?: string | null;
  /** Quiet after the last key that ends the answer. @default 1.5 */
  timeoutSecs?: number;
}

/** Collects keypad digits into one answer. */
export class KeypadCollector {
  private digits = '';
  private expectation: KeypadOptions | undefined;

  constructor(private readonly defaults: KeypadOptions = {}) {}

  /** Digits gathered so far. */
  get pending(): string {
    return this.digits;
  }

  get timeoutMs(): number {
    return (this.expectation?.timeoutSecs ?? this.defaults.timeoutSecs ?? 1.5) * 1000;
  }

  /** The next answer ends as given (one question's expectation); the agent's settings apply again after it. */
  expect(options: KeypadOptions): void {
    this.expectation = options;
  }

  /** Adds a key; returns the answer when it is complete, else undefined. */
  push(digit: string): string | undefined {
    const terminator = this.expectation?.terminator !== undefined ? this.expectation.terminator : (this.defaults.terminator ?? '#');
    if (terminator !== null && digit === terminator) return this.take();
    this.digits += digit;
    const max = this.expectation?.maxDigits ?? this.defaults.maxDigits;
    if (max !== undefined && this.digits.length >= max) return this.take();
    return undefined;
  }

  /** Ends the answer now (the timeout passed); '' when nothing was pressed. */
  take(): string {
    const answer = this.digits;
    this.digits = '';
    if (answer !== '') this.expectation = undefined;
    return answer;
  }
}
