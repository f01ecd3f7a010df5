import { randomBytes } from 'node:crypto';

/** A Twilio SID: two-letter prefix + 32 lowercase hex digits (34 characters), e.g. `CA…`, `MZ…`, `AC…`. */
export function twilioSid(prefix: 'AC' | 'CA' | 'MZ' | 'PN' | 'SK'): string {
  return prefix + randomBytes(16).toString('hex');
}
