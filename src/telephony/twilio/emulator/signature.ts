/**
 * `X-Twilio-Signature` (documented algorithm): base64(HMAC-SHA1(authToken, url + Σ sorted(key) key+value)).
 * Repeated keys contribute each of their values, sorted. For GET requests the params are in the URL and the
 * param map is empty.
 */
import { createHmac } from 'node:crypto';
import type { FormFields } from '../../../sandbox/carriers/shared/http-util.ts';

/** The data string Twilio signs: the full URL followed by every POST param as key+value, keys sorted. */
export function twilioSignedString(url: string, params: FormFields): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const value = params[key];
    const values = Array.isArray(value) ? [...new Set(value)].sort() : [value as string];
    for (const v of values) data += key + v;
  }
  return data;
}

export function twilioSignature(authToken: string, url: string, params: FormFields): string {
  return createHmac('sha1', authToken)
    .update(Buffer.from(twilioSignedString(url, params), 'utf8'))
    .digest('base64');
}
