/** Call states in Twilio's vocabulary; every carrier's states map onto these, and call records use them. */
export const CALL_STATUSES = ['queued', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled'] as const;

export type CallStatus = (typeof CALL_STATUSES)[number];

/** The statuses a call ends in and never leaves. */
export const FINAL_CALL_STATUSES: readonly CallStatus[] = ['completed', 'busy', 'no-answer', 'failed', 'canceled'];

/** True when the call is over and will not change state again. */
export function isFinalCallStatus(status: string): boolean {
  return (FINAL_CALL_STATUSES as readonly string[]).includes(status);
}
