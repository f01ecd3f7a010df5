/** Form parameters of Twilio's voice requests and status callbacks, and their signer. */
import type { FormFields } from '../../../sandbox/carriers/shared/http-util.ts';
import type { WebhookSigner } from '../../../sandbox/carriers/shared/webhook.ts';
import { rfc2822 } from './call-resource.ts';
import { twilioSignature } from './signature.ts';

export interface TwilioCallIdentity {
  accountSid: string;
  callSid: string;
  from: string;
  to: string;
  direction: 'outbound-api' | 'inbound';
}

function country(number: string): string {
  return number.startsWith('+1') ? 'US' : '';
}

/** Parameters on every voice request (TwiML fetch, redirect, action). */
export function voiceParams(call: TwilioCallIdentity, callStatus: string, extra: FormFields = {}): FormFields {
  return {
    AccountSid: call.accountSid,
    ApiVersion: '2010-04-01',
    CallSid: call.callSid,
    CallStatus: callStatus,
    Called: call.to,
    CalledCountry: country(call.to),
    Caller: call.from,
    CallerCountry: country(call.from),
    Direction: call.direction,
    From: call.from,
    FromCountry: country(call.from),
    To: call.to,
    ToCountry: country(call.to),
    ...extra,
  };
}

/** Parameters of a call-progress status callback. */
export function statusCallbackParams(
  call: TwilioCallIdentity,
  callStatus: string,
  sequenceNumber: number,
  at: number,
  extra: FormFields = {},
): FormFields {
  return {
    ...voiceParams(call, callStatus),
    CallbackSource: 'call-progress-events',
    SequenceNumber: String(sequenceNumber),
    Timestamp: rfc2822(at),
    ...extra,
  };
}

/** Signs requests with `X-Twilio-Signature` (the URL as requested, query included; POST params). */
export function twilioSigner(authToken: string): WebhookSigner {
  return (url, bodyParams) => ({ 'X-Twilio-Signature': twilioSignature(authToken, url, bodyParams) });
}

export const TWILIO_USER_AGENT = 'TwilioProxy/1.1';
