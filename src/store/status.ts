/**
 * Call status rules. Carrier callbacks arrive late, twice or out of order (a `ringing` after
 * `in-progress`, a `no-answer` after our own `canceled`), so status only moves forward:
 * queued → ringing → in-progress → one terminal status, skipping steps allowed, never back.
 */
import type { CallStatus, IgnoredTransitionReason } from './types.ts';
import { isFinalCallStatus } from './types.ts';

export type TransitionDecision = { apply: true } | { apply: false; because: IgnoredTransitionReason };

const progress: Record<CallStatus, number> = {
  queued: 0,
  ringing: 1,
  'in-progress': 2,
  completed: 3,
  busy: 3,
  'no-answer': 3,
  failed: 3,
  canceled: 3,
};

/** Whether a call in status `from` may move to `to`, and if not, why. */
export function decideTransition(from: CallStatus, to: CallStatus): TransitionDecision {
  if (from === to) return { apply: false, because: 'duplicate' };
  if (isFinalCallStatus(from)) return { apply: false, because: 'terminal' };
  if (progress[to] < progress[from]) return { apply: false, because: 'regression' };
  return { apply: true };
}

/** The timestamp column a status fills when a call enters it. */
export function timestampColumnFor(status: CallStatus): 'queued_at' | 'ringing_at' | 'answered_at' | 'ended_at' {
  switch (status) {
    case 'queued':
      return 'queued_at';
    case 'ringing':
      return 'ringing_at';
    case 'in-progress':
      return 'answered_at';
    default:
      return 'ended_at';
  }
}

/**
 * Seconds between answer and end, rounded to whole seconds like carriers report; 0 for a call that
 * was never answered; never negative (carrier and server clocks may disagree slightly).
 */
export function computeDurationSec(answeredAtMs: number | null, endedAtMs: number): number {
  if (answeredAtMs === null) return 0;
  return Math.max(0, Math.round((endedAtMs - answeredAtMs) / 1000));
}
