/** Identifier formats the emulated carriers hand out. */
import { randomBytes, randomUUID } from 'node:crypto';

/** A UUID v4 (call, request and stream ids of carriers that use UUIDs). */
export function uuid(): string {
  return randomUUID();
}

/** A random secret of `length` alphanumerics (auth tokens). */
export function secretToken(length = 32): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let token = '';
  for (const b of bytes) token += alphabet[b % alphabet.length];
  return token;
}
