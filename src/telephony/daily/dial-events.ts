/**
 * Daily's `dialin.*` / `dialout.*` / `calltransfer.*` webhook events (envelope `{version, type, id, payload, event_ts}`) and how they
 * map onto our call statuses. The payload field names beyond `room`, `session_id`, `domain_id` and the phone
 * number / SIP URI are not documented; the error fields we read (`error_msg`, `sip_code`) are guesses, so the
 * outcome of a failed dial-out is also recognised from the words of any string field.
 */
import { z } from 'zod';
import type { CallStatus } from '../call-status.ts';

export const DIAL_EVENT_TYPES = [
  'dialin.ready',
  'dialin.connected',
  'dialin.stopped',
  'dialin.warning',
  'dialin.error',
  'dialout.connected',
  'dialout.answered',
  'dialout.stopped',
  'dialout.warning',
  'dialout.error',
  // Transfers (`sipCallTransfer` / `sipRefer`): payload `{room, session_id, to_endpoint, from_endpoint, is_sip_refer?}`.
  'calltransfer.triggered',
  'calltransfer.initiated',
  'calltransfer.answered',
  'calltransfer.completed',
] as const;
export type DialEventType = (typeof DIAL_EVENT_TYPES)[number];

export const dailyEventEnvelope = z.object({
  version: z.string().optional(),
  type: z.string(),
  id: z.string().optional(),
  payload: z.record(z.string(), z.unknown()).default({}),
  event_ts: z.number().optional(),
});
export type DailyEventEnvelope = z.infer<typeof dailyEventEnvelope>;

export interface DialEvent {
  type: DialEventType;
  room: string | undefined;
  sessionId: string | undefined;
  payload: Record<string, unknown>;
}

/** The envelope as a dial event, or `undefined` for event types we do not handle (answered 200 and ignored). */
export function dialEventOf(envelope: DailyEventEnvelope): DialEvent | undefined {
  if (!(DIAL_EVENT_TYPES as readonly string[]).includes(envelope.type)) return undefined;
  const { payload } = envelope;
  const text = (key: string) => (typeof payload[key] === 'string' ? (payload[key] as string) : undefined);
  return { type: envelope.type as DialEventType, room: text('room'), sessionId: text('session_id') ?? text('sessionId'), payload };
}

/** How one failed dial-out attempt ended: `busy`, `no-answer` or `failed`. */
export function dialOutFailure(payload: Record<string, unknown>): CallStatus {
  const code = Number(payload.sip_code ?? payload.sipCode ?? payload.status_code);
  if (code === 486 || code === 600) return 'busy';
  if (code === 408 || code === 480 || code === 487) return 'no-answer';
  const words = Object.values(payload)
    .filter((v): v is string => typeof v === 'string')
    .join(' ')
    .toLowerCase();
  if (/\bbusy\b/.test(words)) return 'busy';
  if (/no[ -]?answer|timeout|timed out|not answered/.test(words)) return 'no-answer';
  return 'failed';
}

/** The record status an event moves a call to (`undefined`: no change). Dial-out errors are decided by the retry policy. */
export function statusForDialEvent(type: DialEventType, answered: boolean): CallStatus | undefined {
  switch (type) {
    case 'dialout.connected':
      return 'ringing'; // connected = media negotiation started; not yet answered
    case 'dialout.answered':
    case 'dialin.connected':
      return 'in-progress';
    case 'dialout.stopped':
    case 'dialin.stopped':
      return answered ? 'completed' : 'canceled';
    case 'dialin.error':
      return 'failed';
    default:
      return undefined;
  }
}
