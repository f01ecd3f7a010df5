/** Identifier formats the emulated carriers hand out. */
import { randomBytes, randomUUID } from 'node:crypto';

/** A Twilio SID: two-letter prefix + 32 lowercase hex digits (34 characters), e.g. `CA…`, `MZ…`, `AC…`. */
export function twilioSid(prefix: 'AC' | 'CA' | 'MZ' | 'PN' | 'SK'): string {
  return prefix + randomBytes(16).toString('hex');
}

/** A UUID v4 (Plivo call, request and stream ids; `api_id`s). */
export function uuid(): string {
  return randomUUID();
}

/** A Plivo auth id: `MA` + 18 upper-case alphanumerics (20 characters). */
export function plivoAuthId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const bytes = randomBytes(18);
  let id = 'MA';
  for (const b of bytes) id += alphabet[b % alphabet.length];
  return id;
}

/** A random secret of `length` alphanumerics (auth tokens). */
export function secretToken(length = 32): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let token = '';
  for (const b of bytes) token += alphabet[b % alphabet.length];
  return token;
}
