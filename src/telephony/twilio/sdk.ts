/**
 * twilio-node, loaded on first use (the first call placed, answered or verified), not when the Twilio carrier is
 * registered: the SDK and its dependencies (axios, jsonwebtoken, …) are ~25 MB resident, which an idle server
 * does not need. It is CommonJS, so `require` gives the same object as `import twilio from 'twilio'`, synchronously.
 */
import { createRequire } from 'node:module';
import type twilio from 'twilio';

let sdk: typeof twilio | undefined;

export function twilioSdk(): typeof twilio {
  sdk ??= createRequire(import.meta.url)('twilio') as typeof twilio;
  return sdk;
}
