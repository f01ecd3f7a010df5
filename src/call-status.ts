/** Call states in Twilio's vocabulary; every carrier's states map onto these, and call records use them. */
export const CALL_STATUSES = ['queued', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled'] as const;

export type CallStatus = (typeof CALL_STATUSES)[number];

/** True when the call is over and will not change state again. */
export function isFinalCallStatus(status: string): boolean {
  return status === 'completed' || status === 'busy' || status === 'no-answer' || status === 'failed' || status === 'canceled';
}
