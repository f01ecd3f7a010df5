import { definedFields, optionalString, optionalUrl } from '../../config-schema.ts';

/** The carrier's registered name (call records, `POST /calls {carrier}`). */
export const PLIVO = 'plivo';

/** Plivo's settings: credentials, default caller id, REST base. */
export interface PlivoSettings {
  /** `MA…` / `SA…` */
  authId?: string;
  authToken?: string;
  /** Default caller id (E.164). */
  phoneNumber?: string;
  /** REST base (or the sandbox emulator). @default https://api.plivo.com */
  apiBaseUrl?: string;
  /**
   * Which carrier gives `POST /outbound-call` its SIP URI (`<Dial><User>`): any registered carrier that takes SIP
   * legs, by name. @default the first registered carrier that takes SIP legs (our own SIP endpoint)
   */
  sipLegCarrier?: string;
}

/** Plivo's environment variables. */
export const plivoEnv = {
  PLIVO_AUTH_ID: optionalString,
  PLIVO_AUTH_TOKEN: optionalString,
  /** Default caller id for Plivo calls. @default unset */
  PLIVO_PHONE_NUMBER: optionalString,
  /** Plivo REST base. @default https://api.plivo.com */
  PLIVO_API_BASE_URL: optionalUrl('PLIVO_API_BASE_URL'),
  /** Carrier whose SIP URI `POST /outbound-call` dials. @default the first carrier that takes SIP legs */
  PLIVO_SIP_LEG_CARRIER: optionalString,
};

export function plivoSettingsFromEnv(env: Record<string, unknown>, problems: string[]): PlivoSettings {
  const authId = env.PLIVO_AUTH_ID as string | undefined;
  const authToken = env.PLIVO_AUTH_TOKEN as string | undefined;
  if (Boolean(authId) !== Boolean(authToken)) problems.push('PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN must be set together');
  return definedFields({
    authId,
    authToken,
    phoneNumber: env.PLIVO_PHONE_NUMBER as string | undefined,
    apiBaseUrl: env.PLIVO_API_BASE_URL as string | undefined,
    sipLegCarrier: env.PLIVO_SIP_LEG_CARRIER as string | undefined,
  });
}

export function plivoMissingCredentials(settings: PlivoSettings): string[] {
  return [...(settings.authId ? [] : ['PLIVO_AUTH_ID']), ...(settings.authToken ? [] : ['PLIVO_AUTH_TOKEN'])];
}
