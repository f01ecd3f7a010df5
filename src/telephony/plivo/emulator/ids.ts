import { randomBytes } from 'node:crypto';

/** A Plivo auth id: `MA` + 18 upper-case alphanumerics (20 characters). */
export function plivoAuthId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const bytes = randomBytes(18);
  let id = 'MA';
  for (const b of bytes) id += alphabet[b % alphabet.length];
  return id;
}
