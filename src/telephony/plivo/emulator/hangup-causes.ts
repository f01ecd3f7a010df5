/**
 * Plivo hangup causes as reported in hangup callbacks and CDRs. Codes 1000 (Canceled), 4000 (Normal Hangup)
 * and 4010 (End Of XML Instructions) are from Plivo's hangup-cause table; the other codes, and the legacy
 * SIP-style `HangupCause` names, are best knowledge and unverified against a live account.
 */
export interface HangupCause {
  /** Legacy `HangupCause` value. */
  cause: string;
  /** `HangupCauseName`. */
  name: string;
  /** `HangupCauseCode`. */
  code: number;
}

export const HANGUP_CAUSES = {
  normal: { cause: 'NORMAL_CLEARING', name: 'Normal Hangup', code: 4000 },
  endOfXml: { cause: 'NORMAL_CLEARING', name: 'End Of XML Instructions', code: 4010 },
  canceled: { cause: 'ORIGINATOR_CANCEL', name: 'Canceled', code: 1000 },
  busy: { cause: 'USER_BUSY', name: 'Busy Line', code: 3000 },
  noAnswer: { cause: 'NO_ANSWER', name: 'No Answer', code: 3020 },
  invalidDestination: { cause: 'UNALLOCATED_NUMBER', name: 'Invalid Destination Address', code: 2000 },
  answerUrlFailure: { cause: 'NORMAL_CLEARING', name: 'Error Reaching Answer URL', code: 7011 },
  invalidXml: { cause: 'NORMAL_CLEARING', name: 'Invalid Answer XML', code: 7012 },
  timeLimit: { cause: 'ALLOTTED_TIMEOUT', name: 'Time Limit Reached', code: 0 }, // code unknown
} as const satisfies Record<string, HangupCause>;

/** `HangupSource` values (Plivo's hangup-source table). */
export type HangupSource = 'Caller' | 'Call recipient' | 'Plivo' | 'API Request' | 'Answer XML' | 'Error';
