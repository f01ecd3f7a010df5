import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { SwitchboardError } from './errors.ts';

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const url = (name: string) =>
  z
    .string()
    .trim()
    .refine((v) => /^(https?|wss?):\/\/[^\s]+$/.test(v), `${name} must be an absolute http(s) or ws(s) URL`)
    .transform((v) => v.replace(/\/+$/, ''));

const optionalUrl = (name: string) =>
  z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(url(name).optional())
    .optional();

/**
 * Every setting, read from the environment (and `.env`). Each default sits beside its field; README's
 * configuration table lists the same.
 */
const configSchema = z.object({
  /** HTTP port. @default 7860 */
  PORT: z.coerce.number().int().min(0).max(65535).default(7860),
  /** Interface to listen on. @default 0.0.0.0 */
  HOST: z.string().default('0.0.0.0'),
  /** Where carriers reach this server (webhooks, media WebSocket). @default http://localhost:<PORT> */
  PUBLIC_URL: optionalUrl('PUBLIC_URL'),
  /** Call records (SQLite) and recordings. @default ./data */
  SWITCHBOARD_DATA_DIR: z.string().default('./data'),
  /** When set, /calls, /dialout and /start require `Authorization: Bearer <key>`. @default unset (open) */
  SWITCHBOARD_API_KEY: optionalString,
  /** Signs per-call media tokens. @default random per process (tokens then don't survive a restart) */
  SWITCHBOARD_SECRET: optionalString,
  /** `auto`: emulate every carrier/provider whose credentials are missing; `on`: emulate all; `off`: none. @default auto */
  SWITCHBOARD_SANDBOX: z.enum(['auto', 'on', 'off']).default('auto'),
  /** Carrier for POST /calls when none is given. @default twilio */
  DEFAULT_CARRIER: z.enum(['twilio', 'plivo']).default('twilio'),
  /** @default info */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  TWILIO_ACCOUNT_SID: optionalString,
  TWILIO_AUTH_TOKEN: optionalString,
  /** Default caller id for Twilio calls. @default unset (requests must give one) */
  TWILIO_PHONE_NUMBER: optionalString,
  /** Twilio REST base (a Twilio-compatible backend). @default https://api.twilio.com */
  TWILIO_API_BASE_URL: optionalUrl('TWILIO_API_BASE_URL'),

  PLIVO_AUTH_ID: optionalString,
  PLIVO_AUTH_TOKEN: optionalString,
  /** Default caller id for Plivo calls. @default unset */
  PLIVO_PHONE_NUMBER: optionalString,
  /** Plivo REST base. @default https://api.plivo.com */
  PLIVO_API_BASE_URL: optionalUrl('PLIVO_API_BASE_URL'),

  /** Which speech-to-text answers. @default deepgram */
  STT_PROVIDER: z.enum(['deepgram', 'openai']).default('deepgram'),
  DEEPGRAM_API_KEY: optionalString,
  /** @default wss://api.deepgram.com */
  DEEPGRAM_BASE_URL: optionalUrl('DEEPGRAM_BASE_URL'),
  /** @default nova-2-phonecall */
  DEEPGRAM_MODEL: z.string().default('nova-2-phonecall'),

  /** OpenAI Realtime transcription model (STT_PROVIDER=openai; `gpt-4o-mini-transcribe` is cheaper). @default gpt-4o-transcribe */
  OPENAI_STT_MODEL: z.string().default('gpt-4o-transcribe'),
  /** ISO-639-1 language of callers for OpenAI transcription; empty lets the model detect it. @default en */
  OPENAI_STT_LANGUAGE: z.string().trim().default('en'),
  /** OpenAI Realtime base (`/realtime?intent=transcription` is appended). @default wss://api.openai.com/v1 */
  OPENAI_REALTIME_BASE_URL: optionalUrl('OPENAI_REALTIME_BASE_URL'),

  /** Which LLM answers. @default google (Gemini, as in the Twilio reference flow) */
  LLM_PROVIDER: z.enum(['google', 'openai', 'openai-compatible']).default('google'),
  GOOGLE_API_KEY: optionalString,
  /** @default https://generativelanguage.googleapis.com/v1beta */
  GEMINI_BASE_URL: optionalUrl('GEMINI_BASE_URL'),
  /** @default gemini-2.0-flash */
  GEMINI_MODEL: z.string().default('gemini-2.0-flash'),
  OPENAI_API_KEY: optionalString,
  /** Any OpenAI-compatible server (Ollama, vLLM, Groq). @default https://api.openai.com/v1 */
  OPENAI_BASE_URL: optionalUrl('OPENAI_BASE_URL'),
  /** @default gpt-4o-mini */
  OPENAI_MODEL: z.string().default('gpt-4o-mini'),

  /** Which voice speaks. @default cartesia */
  TTS_PROVIDER: z.enum(['cartesia', 'elevenlabs', 'offline']).default('cartesia'),
  CARTESIA_API_KEY: optionalString,
  /** @default https://api.cartesia.ai */
  CARTESIA_BASE_URL: optionalUrl('CARTESIA_BASE_URL'),
  /** @default the Cartesia service's default voice */
  CARTESIA_VOICE_ID: optionalString,
  ELEVENLABS_API_KEY: optionalString,
  /** @default wss://api.elevenlabs.io */
  ELEVENLABS_BASE_URL: optionalUrl('ELEVENLABS_BASE_URL'),
  ELEVENLABS_VOICE_ID: optionalString,
});

export type ConfigInput = z.input<typeof configSchema>;

export interface Config {
  port: number;
  host: string;
  /** Public base URL without a trailing slash; `ws(s)` variant for media sockets in {@link publicWsUrl}. */
  publicUrl: string;
  publicWsUrl: string;
  /** PUBLIC_URL was given; otherwise the server derives it from the port it bound. */
  publicUrlExplicit: boolean;
  dataDir: string;
  apiKey: string | undefined;
  secret: string | undefined;
  sandbox: 'auto' | 'on' | 'off';
  defaultCarrier: 'twilio' | 'plivo';
  logLevel: string;
  twilio: { accountSid?: string; authToken?: string; phoneNumber?: string; apiBaseUrl?: string };
  plivo: { authId?: string; authToken?: string; phoneNumber?: string; apiBaseUrl?: string };
  deepgram: { apiKey?: string; baseUrl?: string; model: string };
  stt: {
    provider: 'deepgram' | 'openai';
    /** OpenAI Realtime transcription; the key is OPENAI_API_KEY's (kept here so the sandbox can point STT alone at its emulator). */
    openai: { apiKey?: string; baseUrl?: string; model: string; language: string };
  };
  llm: {
    provider: 'google' | 'openai' | 'openai-compatible';
    google: { apiKey?: string; baseUrl?: string; model: string };
    openai: { apiKey?: string; baseUrl?: string; model: string };
  };
  tts: {
    provider: 'cartesia' | 'elevenlabs' | 'offline';
    cartesia: { apiKey?: string; baseUrl?: string; voiceId?: string };
    elevenlabs: { apiKey?: string; baseUrl?: string; voiceId?: string };
  };
}

/** A configuration mistake, with one line per problem naming the variable. */
export class ConfigError extends SwitchboardError {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`, { code: 'invalid_config' });
  }
}

/** Reads `.env` (if present) without overriding variables already set in the environment. */
export function readDotenv(path = '.env'): Record<string, string> {
  if (!existsSync(path)) return {};
  return parseDotenv(readFileSync(path));
}

/** Validates settings; throws {@link ConfigError} listing every mistake at once. */
export function loadConfig(env: Record<string, string | undefined> = { ...readDotenv(), ...process.env }): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'config'}: ${issue.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (Boolean(e.TWILIO_ACCOUNT_SID) !== Boolean(e.TWILIO_AUTH_TOKEN)) {
    problems.push('TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set together');
  }
  if (e.TWILIO_ACCOUNT_SID && !/^AC[0-9a-fA-F]{32}$/.test(e.TWILIO_ACCOUNT_SID)) {
    problems.push('TWILIO_ACCOUNT_SID must look like AC followed by 32 hex characters');
  }
  if (Boolean(e.PLIVO_AUTH_ID) !== Boolean(e.PLIVO_AUTH_TOKEN)) {
    problems.push('PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN must be set together');
  }
  if (e.SWITCHBOARD_SANDBOX === 'off') {
    if (!e.TWILIO_ACCOUNT_SID && !e.PLIVO_AUTH_ID) problems.push('SWITCHBOARD_SANDBOX=off needs Twilio or Plivo credentials');
    if (e.STT_PROVIDER === 'deepgram' && !e.DEEPGRAM_API_KEY) problems.push('SWITCHBOARD_SANDBOX=off needs DEEPGRAM_API_KEY');
    if (e.STT_PROVIDER === 'openai' && !e.OPENAI_API_KEY) problems.push('STT_PROVIDER=openai needs OPENAI_API_KEY');
    if (e.LLM_PROVIDER === 'google' && !e.GOOGLE_API_KEY) problems.push('LLM_PROVIDER=google needs GOOGLE_API_KEY');
    if (e.LLM_PROVIDER === 'openai' && !e.OPENAI_API_KEY) problems.push('LLM_PROVIDER=openai needs OPENAI_API_KEY');
    if (e.LLM_PROVIDER === 'openai-compatible' && !e.OPENAI_BASE_URL) {
      problems.push('LLM_PROVIDER=openai-compatible needs OPENAI_BASE_URL');
    }
    if (e.TTS_PROVIDER === 'cartesia' && !e.CARTESIA_API_KEY) problems.push('TTS_PROVIDER=cartesia needs CARTESIA_API_KEY');
    if (e.TTS_PROVIDER === 'elevenlabs' && !e.ELEVENLABS_API_KEY) problems.push('TTS_PROVIDER=elevenlabs needs ELEVENLABS_API_KEY');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const publicUrl = e.PUBLIC_URL ?? `http://localhost:${e.PORT}`;
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    publicWsUrl: publicUrl.replace(/^http/, 'ws'),
    publicUrlExplicit: e.PUBLIC_URL !== undefined,
    dataDir: e.SWITCHBOARD_DATA_DIR,
    apiKey: e.SWITCHBOARD_API_KEY,
    secret: e.SWITCHBOARD_SECRET,
    sandbox: e.SWITCHBOARD_SANDBOX,
    defaultCarrier: e.DEFAULT_CARRIER,
    logLevel: e.LOG_LEVEL,
    twilio: strip({
      accountSid: e.TWILIO_ACCOUNT_SID,
      authToken: e.TWILIO_AUTH_TOKEN,
      phoneNumber: e.TWILIO_PHONE_NUMBER,
      apiBaseUrl: e.TWILIO_API_BASE_URL,
    }),
    plivo: strip({
      authId: e.PLIVO_AUTH_ID,
      authToken: e.PLIVO_AUTH_TOKEN,
      phoneNumber: e.PLIVO_PHONE_NUMBER,
      apiBaseUrl: e.PLIVO_API_BASE_URL,
    }),
    deepgram: { ...strip({ apiKey: e.DEEPGRAM_API_KEY, baseUrl: e.DEEPGRAM_BASE_URL }), model: e.DEEPGRAM_MODEL },
    stt: {
      provider: e.STT_PROVIDER,
      openai: {
        ...strip({ apiKey: e.OPENAI_API_KEY, baseUrl: e.OPENAI_REALTIME_BASE_URL }),
        model: e.OPENAI_STT_MODEL,
        language: e.OPENAI_STT_LANGUAGE,
      },
    },
    llm: {
      provider: e.LLM_PROVIDER,
      google: { ...strip({ apiKey: e.GOOGLE_API_KEY, baseUrl: e.GEMINI_BASE_URL }), model: e.GEMINI_MODEL },
      openai: { ...strip({ apiKey: e.OPENAI_API_KEY, baseUrl: e.OPENAI_BASE_URL }), model: e.OPENAI_MODEL },
    },
    tts: {
      provider: e.TTS_PROVIDER,
      cartesia: strip({ apiKey: e.CARTESIA_API_KEY, baseUrl: e.CARTESIA_BASE_URL, voiceId: e.CARTESIA_VOICE_ID }),
      elevenlabs: strip({ apiKey: e.ELEVENLABS_API_KEY, baseUrl: e.ELEVENLABS_BASE_URL, voiceId: e.ELEVENLABS_VOICE_ID }),
    },
  };
}

/** Drops undefined fields (exactOptionalPropertyTypes-friendly objects). */
function strip<T extends Record<string, string | undefined>>(obj: T): { [K in keyof T]?: string } {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(obj)) if (value !== undefined) out[key] = value;
  return out as { [K in keyof T]?: string };
}
