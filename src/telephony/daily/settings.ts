import { z } from 'zod';
import { definedFields, optionalString, optionalUrl } from '../../config-schema.ts';

/** The carrier's registered name (call records, `POST /calls {carrier}`). */
export const DAILY = 'daily';

/**
 * How the bot's SIP leg gets into a room (see README "Daily"; Daily does not document whether a room with no SDK
 * participant starts a session for either): `dial-bot` — the room dials our SIP endpoint (`dialOut/start
 * {sipUri}`); `dial-room` — our endpoint dials the room's `sip_uri.endpoint`.
 */
export type DailyBotLegMode = 'dial-bot' | 'dial-room';

/** How `transfer_call` moves a Daily call: `sipCallTransfer` (Daily stays in the media path) or `sipRefer` (SIP only). */
export type DailyTransferMethod = 'sip-call-transfer' | 'sip-refer';

/** Defaults of every Daily setting, defined once. */
export const DAILY_DEFAULTS = {
  /** DAILY_API_URL */
  apiUrl: 'https://api.daily.co/v1',
  /** DAILY_BOT_LEG */
  botLeg: 'dial-bot' as DailyBotLegMode,
  /** DAILY_ROOM_EXPIRY_SEC: rooms (and owner tokens) expire this long after creation (Pipecat uses 2 h). */
  roomExpirySec: 7200,
  /** DAILY_DIALOUT_RETRIES: a failed dial-out is tried again this many times (Pipecat's dial-out example: 5). */
  dialoutRetries: 5,
  /** DAILY_DIALOUT_RETRY_DELAY_MS: wait before the first retry; doubled for each further one. */
  dialoutRetryDelayMs: 2000,
  /** Longest wait between two dial-out attempts. */
  dialoutRetryMaxDelayMs: 15_000,
  /** DAILY_WEBHOOK_MAX_AGE_SEC: signed webhooks older (or newer) than this are refused as stale. */
  webhookMaxAgeSec: 300,
  /** DAILY_SIP_PORT: our SIP endpoint for bot legs (UDP + TCP). */
  sipPort: 5062,
  /** DAILY_SIP_BIND_ADDRESS */
  sipBindAddress: '0.0.0.0',
  /** How long to wait for the bot's SIP leg to be up in a room before giving up. */
  botLegTimeoutMs: 20_000,
  /** DAILY_TRANSFER_METHOD: `transfer_call` uses `sipCallTransfer` (Daily stays in the call; numbers and SIP URIs) or `sipRefer`. */
  transferMethod: 'sip-call-transfer' as DailyTransferMethod,
  /** How long a transfer waits for Daily's outcome webhook (`calltransfer.answered`, or `.initiated` for REFER). */
  transferOutcomeTimeoutMs: 30_000,
} as const;

/** Daily's settings: API credentials, webhook secrets, room and dial-out policy, our SIP endpoint for bot legs. */
export interface DailySettings {
  apiKey?: string;
  /** @default https://api.daily.co/v1 */
  apiUrl?: string;
  /** The pinless dial-in config's `hmac` (base64): verifies `POST /daily/dialin`. @default unset (dial-in webhooks refused) */
  pinlessHmac?: string;
  /** The `hmac` of the Daily webhook pointing at `/daily/events` (base64). @default unset (events refused) */
  webhookHmac?: string;
  /** Caller id shown on dial-outs (E.164); also the number dial-in callers reach. @default unset */
  phoneNumber?: string;
  /** Id of the purchased number to dial out from (Daily's `callerId`). @default unset (Daily's default number) */
  callerId?: string;
  /** @default 'dial-bot' */
  botLeg?: DailyBotLegMode;
  /** @default 7200 */
  roomExpirySec?: number;
  /** @default 5 */
  dialoutRetries?: number;
  /** @default 2000 */
  dialoutRetryDelayMs?: number;
  /** @default 300 */
  webhookMaxAgeSec?: number;
  /** @default 5062 (0: any free port) */
  sipPort?: number;
  /** @default 0.0.0.0 */
  sipBindAddress?: string;
  /** Address Daily reaches our SIP endpoint at (Contact, SDP). @default the bind address / first external IPv4 */
  sipPublicAddress?: string;
  /** RTP port range of bot legs. @default 10000–20000 (0–0: any free port) */
  rtpPortMin?: number;
  rtpPortMax?: number;
  /** Register `${PUBLIC_URL}/daily/events` as the domain's webhook on first use (sandbox). @default false */
  registerWebhook?: boolean;
  /** @default 'sip-call-transfer' */
  transferMethod?: DailyTransferMethod;
}

const port = z.coerce.number().int().min(0).max(65535).optional();
const positiveInt = z.coerce.number().int().min(0).optional();

/** Daily's environment variables (defaults in {@link DAILY_DEFAULTS}). */
export const dailyEnv = {
  DAILY_API_KEY: optionalString,
  /** @default https://api.daily.co/v1 */
  DAILY_API_URL: optionalUrl('DAILY_API_URL'),
  /** @default unset */
  DAILY_PINLESS_HMAC: optionalString,
  /** @default unset */
  DAILY_WEBHOOK_HMAC: optionalString,
  /** @default unset */
  DAILY_PHONE_NUMBER: optionalString,
  /** @default unset */
  DAILY_CALLER_ID: optionalString,
  /** @default dial-bot */
  DAILY_BOT_LEG: z.enum(['dial-bot', 'dial-room']).optional(),
  /** @default 7200 */
  DAILY_ROOM_EXPIRY_SEC: positiveInt,
  /** @default 5 */
  DAILY_DIALOUT_RETRIES: positiveInt,
  /** @default 2000 */
  DAILY_DIALOUT_RETRY_DELAY_MS: positiveInt,
  /** @default 300 */
  DAILY_WEBHOOK_MAX_AGE_SEC: positiveInt,
  /** @default 5062 (a free port when PORT is 0, as in tests and one-off CLI runs) */
  DAILY_SIP_PORT: port,
  /** @default 0.0.0.0 */
  DAILY_SIP_BIND_ADDRESS: optionalString,
  /** @default the bind address / first external IPv4 */
  DAILY_SIP_PUBLIC_ADDRESS: optionalString,
  /** @default sip-call-transfer */
  DAILY_TRANSFER_METHOD: z.enum(['sip-call-transfer', 'sip-refer']).optional(),
};

export function dailySettingsFromEnv(env: Record<string, unknown>, problems: string[]): DailySettings {
  const hmacs = ['DAILY_PINLESS_HMAC', 'DAILY_WEBHOOK_HMAC'] as const;
  for (const name of hmacs) {
    const value = env[name] as string | undefined;
    if (value && Buffer.from(value, 'base64').length < 16) problems.push(`${name} must be a base64 secret (Daily's "hmac")`);
  }
  return definedFields({
    apiKey: env.DAILY_API_KEY as string | undefined,
    apiUrl: env.DAILY_API_URL as string | undefined,
    pinlessHmac: env.DAILY_PINLESS_HMAC as string | undefined,
    webhookHmac: env.DAILY_WEBHOOK_HMAC as string | undefined,
    phoneNumber: env.DAILY_PHONE_NUMBER as string | undefined,
    callerId: env.DAILY_CALLER_ID as string | undefined,
    botLeg: env.DAILY_BOT_LEG as DailyBotLegMode | undefined,
    roomExpirySec: env.DAILY_ROOM_EXPIRY_SEC as number | undefined,
    dialoutRetries: env.DAILY_DIALOUT_RETRIES as number | undefined,
    dialoutRetryDelayMs: env.DAILY_DIALOUT_RETRY_DELAY_MS as number | undefined,
    webhookMaxAgeSec: env.DAILY_WEBHOOK_MAX_AGE_SEC as number | undefined,
    // PORT 0 means "any free port" for the whole process, so parallel servers never fight over 5062.
    sipPort: (env.DAILY_SIP_PORT as number | undefined) ?? (env.PORT === 0 ? 0 : undefined),
    sipBindAddress: env.DAILY_SIP_BIND_ADDRESS as string | undefined,
    sipPublicAddress: env.DAILY_SIP_PUBLIC_ADDRESS as string | undefined,
    transferMethod: env.DAILY_TRANSFER_METHOD as DailyTransferMethod | undefined,
  });
}

export function dailyMissingCredentials(settings: DailySettings): string[] {
  return settings.apiKey ? [] : ['DAILY_API_KEY'];
}
