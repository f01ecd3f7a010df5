import { definedFields, optionalString, optionalUrl } from '../../config-schema.ts';

/** The carrier's registered name (call records, `POST /calls {carrier}`). */
export const TWILIO = 'twilio';

/** Twilio's settings: credentials, default caller id, REST base. */
export interface TwilioSettings {
  /** `AC…` */
  accountSid?: string;
  authToken?: string;
  /** Default caller id (E.164). */
  phoneNumber?: string;
  /** REST base (a Twilio-compatible back end, or the sandbox emulator). @default https://api.twilio.com */
  apiBaseUrl?: string;
  /**
   * What a caller on hold hears during a warm transfer: the conference's `waitUrl` (an MP3/WAV, or TwiML with
   * `<Play>`/`<Say>`). @default unset: Twilio's own default hold music
   */
  holdMusicUrl?: string;
}

/** Twilio's environment variables. */
export const twilioEnv = {
  TWILIO_ACCOUNT_SID: optionalString,
  TWILIO_AUTH_TOKEN: optionalString,
  /** Default caller id for Twilio calls. @default unset (requests must give one) */
  TWILIO_PHONE_NUMBER: optionalString,
  /** Twilio REST base (a Twilio-compatible backend). @default https://api.twilio.com */
  TWILIO_API_BASE_URL: optionalUrl('TWILIO_API_BASE_URL'),
  /** Hold audio of warm transfers (the conference `waitUrl`). @default unset (Twilio's default hold music) */
  TWILIO_HOLD_MUSIC_URL: optionalUrl('TWILIO_HOLD_MUSIC_URL'),
};

export function twilioSettingsFromEnv(env: Record<string, unknown>, problems: string[]): TwilioSettings {
  const accountSid = env.TWILIO_ACCOUNT_SID as string | undefined;
  const authToken = env.TWILIO_AUTH_TOKEN as string | undefined;
  if (Boolean(accountSid) !== Boolean(authToken)) problems.push('TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set together');
  if (accountSid && !/^AC[0-9a-fA-F]{32}$/.test(accountSid)) {
    problems.push('TWILIO_ACCOUNT_SID must look like AC followed by 32 hex characters');
  }
  return definedFields({
    accountSid,
    authToken,
    phoneNumber: env.TWILIO_PHONE_NUMBER as string | undefined,
    apiBaseUrl: env.TWILIO_API_BASE_URL as string | undefined,
    holdMusicUrl: env.TWILIO_HOLD_MUSIC_URL as string | undefined,
  });
}

export function twilioMissingCredentials(settings: TwilioSettings): string[] {
  return [...(settings.accountSid ? [] : ['TWILIO_ACCOUNT_SID']), ...(settings.authToken ? [] : ['TWILIO_AUTH_TOKEN'])];
}
