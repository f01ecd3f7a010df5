import { z } from 'zod';

/** E.164 number, or a SIP URI where the carrier can dial one. */
export const phoneNumberOrSipUri = z
  .string()
  .trim()
  .refine(
    (v) => /^\+[1-9]\d{6,14}$/.test(v) || /^sips?:[^\s@]+@[^\s]+$/.test(v),
    'must be an E.164 number like +15551230000 or a sip: URI',
  );
