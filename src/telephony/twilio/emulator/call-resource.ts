/** The Call resource JSON the Twilio REST API returns (field names as in the official SDK's CallResource). */

/** RFC 2822 date as Twilio writes it: `Tue, 31 Aug 2010 20:36:28 +0000`. */
export function rfc2822(epochMs: number): string {
  return new Date(epochMs).toUTCString().replace(/GMT$/, '+0000');
}

/** `+15550100001` → `(555) 010-0001` for NANP numbers; anything else unchanged. */
export function formatNumber(number: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(number);
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : number;
}

export interface CallResourceInput {
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  status: string;
  direction: 'outbound-api' | 'inbound';
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  endedAt: number | null;
  /** Whole seconds, set once the call ended. */
  durationSec: number | null;
  answeredBy: string | null;
  phoneNumberSid: string;
}

export function callResource(c: CallResourceInput): Record<string, unknown> {
  const uri = `/2010-04-01/Accounts/${c.accountSid}/Calls/${c.sid}`;
  return {
    sid: c.sid,
    date_created: rfc2822(c.createdAt),
    date_updated: rfc2822(c.updatedAt),
    parent_call_sid: null,
    account_sid: c.accountSid,
    to: c.to,
    to_formatted: formatNumber(c.to),
    from: c.from,
    from_formatted: formatNumber(c.from),
    phone_number_sid: c.phoneNumberSid,
    status: c.status,
    start_time: c.startedAt === null ? null : rfc2822(c.startedAt),
    end_time: c.endedAt === null ? null : rfc2822(c.endedAt),
    duration: c.durationSec === null ? null : String(c.durationSec),
    price: null,
    price_unit: 'USD',
    direction: c.direction,
    answered_by: c.answeredBy,
    api_version: '2010-04-01',
    forwarded_from: null,
    group_sid: null,
    caller_name: null,
    queue_time: '0',
    trunk_sid: null,
    uri: `${uri}.json`,
    subresource_uris: {
      feedback: `${uri}/Feedback.json`,
      user_defined_messages: `${uri}/UserDefinedMessages.json`,
      notifications: `${uri}/Notifications.json`,
      recordings: `${uri}/Recordings.json`,
      streams: `${uri}/Streams.json`,
      payments: `${uri}/Payments.json`,
      user_defined_message_subscriptions: `${uri}/UserDefinedMessageSubscriptions.json`,
      siprec: `${uri}/Siprec.json`,
      events: `${uri}/Events.json`,
      feedback_summaries: `/2010-04-01/Accounts/${c.accountSid}/Calls/FeedbackSummary.json`,
    },
  };
}
