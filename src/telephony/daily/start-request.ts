/**
 * Request bodies of Daily's routes. `POST /daily/dialin` is Daily's pinless room-creation webhook;
 * `POST /daily/start` takes Pipecat Cloud's start body (`{createDailyRoom?, dailyRoomProperties?, body}`) whose
 * `body` carries `dialin_settings` or `dialout_settings` and any custom data for the bot.
 */
import { z } from 'zod';
import { phoneNumberOrSipUri } from '../phone-number.ts';
import { dailyRoomPropertiesSchema } from './room-properties.ts';

/** Daily's room-creation webhook body. */
export const pinlessWebhookBody = z.object({
  To: z.string().min(1),
  From: z.string().min(1),
  callId: z.string().min(1),
  callDomain: z.string().min(1),
  sipHeaders: z.record(z.string(), z.unknown()).optional(),
});

/** The configuration ping (`{"Test":"test"}`; Pipecat also accepts a lower-case `test` key). */
export function isTestPing(body: unknown): boolean {
  return typeof body === 'object' && body !== null && ('Test' in body || 'test' in body);
}

const dialinSettings = z
  .object({
    from: z.string().optional(),
    to: z.string().optional(),
    From: z.string().optional(),
    To: z.string().optional(),
    call_id: z.string().optional(),
    callId: z.string().optional(),
    call_domain: z.string().optional(),
    callDomain: z.string().optional(),
    sip_headers: z.record(z.string(), z.unknown()).optional(),
  })
  .transform((s, ctx) => {
    const callId = s.call_id ?? s.callId;
    const callDomain = s.call_domain ?? s.callDomain;
    if (!callId || !callDomain) {
      ctx.addIssue({ code: 'custom', message: 'dialin_settings needs call_id and call_domain (or callId and callDomain)' });
      return z.NEVER;
    }
    return { callId, callDomain, from: s.from ?? s.From ?? 'unknown', to: s.to ?? s.To ?? 'unknown', sipHeaders: s.sip_headers };
  });

const dialoutTarget = z
  .object({
    phoneNumber: phoneNumberOrSipUri.optional(),
    phone_number: phoneNumberOrSipUri.optional(),
    sipUri: z.string().optional(),
    sip_uri: z.string().optional(),
    callerId: z.string().optional(),
    caller_id: z.string().optional(),
  })
  .transform((t, ctx) => {
    const phoneNumber = t.phoneNumber ?? t.phone_number;
    const sipUri = t.sipUri ?? t.sip_uri;
    if (Boolean(phoneNumber) === Boolean(sipUri)) {
      ctx.addIssue({ code: 'custom', message: 'each dialout_settings entry needs phoneNumber or sipUri, not both' });
      return z.NEVER;
    }
    if (sipUri && !/^sips?:[^\s@]+@[^\s]+$/.test(sipUri)) {
      ctx.addIssue({ code: 'custom', message: 'sipUri must be a sip: URI' });
      return z.NEVER;
    }
    return { to: (phoneNumber ?? sipUri) as string, callerId: t.callerId ?? t.caller_id };
  });

export const dailyStartBody = z.object({
  /** Accepted for Pipecat Cloud compatibility; we always create the room the flow needs. */
  createDailyRoom: z.boolean().optional(),
  /** Properties for the call's room (Daily's names; the flow's own SIP/dial-out properties win, README "Daily"). */
  dailyRoomProperties: dailyRoomPropertiesSchema.optional(),
  body: z
    .object({
      dialin_settings: dialinSettings.optional(),
      dialout_settings: z.union([dialoutTarget, z.array(dialoutTarget).min(1).max(5)]).optional(),
    })
    .passthrough()
    .refine(
      (b) => Boolean(b.dialin_settings) !== Boolean(b.dialout_settings),
      'body needs dialin_settings or dialout_settings (one of them)',
    ),
});

export type DailyStartBody = z.infer<typeof dailyStartBody>;

/** The custom data of a start body: everything but the dial settings. */
export function customData(body: Record<string, unknown>): Record<string, unknown> {
  const { dialin_settings: _in, dialout_settings: _out, ...rest } = body;
  return rest;
}
