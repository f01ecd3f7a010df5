import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { definedFields, optionalString, optionalUrl } from './config-schema.ts';
import { SwitchboardError } from './errors.ts';
import { GEMINI_DEFAULT_MODEL } from './services/llm/google.ts';
import { OPENAI_DEFAULT_MODEL } from './services/llm/openai.ts';
import { DEEPGRAM_DEFAULT_MODEL } from './services/stt/deepgram-protocol.ts';
import { DEFAULT_OPENAI_STT_MODEL } from './services/stt/openai-realtime-protocol.ts';
import { carrierConfigured, type CarrierAdapter } from './telephony/carrier-adapter.ts';
import { builtinCarriers } from './telephony/registry.ts';

/**
 * Every setting, read from the environment (and `.env`). Each default sits beside its field; README's
 * configuration table lists the same.
 */
const coreEnv = {
  /** HTTP port. @default 7860 */
  PORT: z.coerce.number().int().min(0).max(65535).default(7860),
  /** Interface to listen on. @default 0.0.0.0 */
  HOST: z.string().default('0.0.0.0'),
  /** Where carriers reach this server (webhooks, media WebSocket). @default http://localhost:<PORT> */
  PUBLIC_URL: optionalUrl('PUBLIC_URL'),
  /** Call records (SQLite) and recordings. @default ./data */
  SWITCHBOARD_DATA_DIR: z.string().default('./data'),
  /** Delete call recordings this many days after the call ended (checked hourly). @default unset (kept) */
  SWITCHBOARD_RECORDING_RETENTION_DAYS: z.coerce.number().positive().optional(),
  /** When set, /calls, /dialout and /start require `Authorization: Bearer <key>`. @default unset (open) */
  SWITCHBOARD_API_KEY: optionalString,
  /** Signs per-call media tokens. @default random per process (tokens then don't survive a restart) */
  SWITCHBOARD_SECRET: optionalString,
  /**
   * `auto`: sandbox (every carrier and provider emulated) only when no carrier and no provider has credentials;
   * `on`: emulate everything; `off`: never. Outside the sandbox, a carrier or provider without credentials is
   * unavailable (requests that need it get a 503 naming the missing variable). @default auto
   */
  SWITCHBOARD_SANDBOX: z.enum(['auto', 'on', 'off']).default('auto'),
  /** Carrier for POST /calls when none is given. @default the first registered carrier (twilio) */
  DEFAULT_CARRIER: optionalString,
  /** @default info */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  /** Which speech-to-text answers. @default deepgram */
  STT_PROVIDER: z.enum(['deepgram', 'openai']).default('deepgram'),
  DEEPGRAM_API_KEY: optionalString,
  /** @default wss://api.deepgram.com */
  DEEPGRAM_BASE_URL: optionalUrl('DEEPGRAM_BASE_URL'),
  /** @default nova-2-phonecall (DEEPGRAM_DEFAULT_MODEL) */
  DEEPGRAM_MODEL: z.string().default(DEEPGRAM_DEFAULT_MODEL),

  /** OpenAI Realtime transcription model (STT_PROVIDER=openai; `gpt-4o-mini-transcribe` is cheaper). @default gpt-4o-transcribe */
  OPENAI_STT_MODEL: z.string().default(DEFAULT_OPENAI_STT_MODEL),
  /** ISO-639-1 language of callers for OpenAI transcription; empty lets the model detect it. @default en */
  OPENAI_STT_LANGUAGE: z.string().trim().default('en'),
  /** OpenAI Realtime base (`/realtime?intent=transcription` is appended). @default wss://api.openai.com/v1 */
  OPENAI_REALTIME_BASE_URL: optionalUrl('OPENAI_REALTIME_BASE_URL'),

  /** Which LLM answers. @default google (Gemini, as in the Twilio reference flow) */
  LLM_PROVIDER: z.enum(['google', 'openai', 'openai-compatible']).default('google'),
  GOOGLE_API_KEY: optionalString,
  /** @default https://generativelanguage.googleapis.com/v1beta */
  GEMINI_BASE_URL: optionalUrl('GEMINI_BASE_URL'),
  /** @default gemini-2.0-flash (GEMINI_DEFAULT_MODEL) */
  GEMINI_MODEL: z.string().default(GEMINI_DEFAULT_MODEL),
  OPENAI_API_KEY: optionalString,
  /** Any OpenAI-compatible server (Ollama, vLLM, Groq). @default https://api.openai.com/v1 */
  OPENAI_BASE_URL: optionalUrl('OPENAI_BASE_URL'),
  /** @default gpt-4o-mini (OPENAI_DEFAULT_MODEL) */
  OPENAI_MODEL: z.string().default(OPENAI_DEFAULT_MODEL),

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
};

const coreSchema = z.object(coreEnv);
type CoreEnv = z.output<typeof coreSchema>;

export interface Config {
  port: number;
  host: string;
  /** Public base URL without a trailing slash; `ws(s)` variant for media sockets in {@link publicWsUrl}. */
  publicUrl: string;
  publicWsUrl: string;
  /** PUBLIC_URL was given; otherwise the server derives it from the port it bound. */
  publicUrlExplicit: boolean;
  dataDir: string;
  /** Recordings: written under `<dataDir>/recordings`; deleted `retentionDays` after the call (undefined: kept). */
  recordingRetentionDays: number | undefined;
  apiKey: string | undefined;
  secret: string | undefined;
  sandbox: 'auto' | 'on' | 'off';
  defaultCarrier: string;
  logLevel: string;
  /** Each registered carrier's settings (its adapter's own type), by carrier name. */
  carriers: Record<string, unknown>;
  /** The environment the configuration was read from (for carriers registered after loading). */
  environment: Record<string, string | undefined>;
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

export interface LoadConfigOptions {
  /** The carriers whose variables are read (each adapter declares its own). @default the built-in carriers */
  carriers?: readonly CarrierAdapter[];
}

/** Validates settings; throws {@link ConfigError} listing every mistake at once. */
export function loadConfig(
  env: Record<string, string | undefined> = { ...readDotenv(), ...process.env },
  options: LoadConfigOptions = {},
): Config {
  const adapters = options.carriers ?? builtinCarriers;
  const schema = coreSchema.extend(Object.assign({}, ...adapters.map((adapter) => adapter.env)) as z.ZodRawShape);
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'config'}: ${issue.message}`));
  }
  const e = parsed.data as CoreEnv;
  const problems: string[] = [];
  const carriers: Record<string, unknown> = {};
  for (const adapter of adapters) carriers[adapter.name] = adapter.settingsFromEnv(parsed.data, problems);
  const defaultCarrier = e.DEFAULT_CARRIER ?? adapters[0]?.name ?? '';
  if (!adapters.some((adapter) => adapter.name === defaultCarrier)) {
    problems.push(`DEFAULT_CARRIER must be one of ${adapters.map((adapter) => adapter.name).join(', ')} (got ${defaultCarrier})`);
  }
  if (e.SWITCHBOARD_SANDBOX === 'off') {
    const needCredentials = adapters.filter((adapter) => !carrierConfigured(adapter, carriers[adapter.name]));
    if (needCredentials.length === adapters.length) {
      problems.push(`SWITCHBOARD_SANDBOX=off needs ${adapters.map((adapter) => adapter.displayName).join(' or ')} credentials`);
    }
  }
  const publicUrl = e.PUBLIC_URL ?? `http://localhost:${e.PORT}`;
  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    publicWsUrl: publicUrl.replace(/^http/, 'ws'),
    publicUrlExplicit: e.PUBLIC_URL !== undefined,
    dataDir: e.SWITCHBOARD_DATA_DIR,
    recordingRetentionDays: e.SWITCHBOARD_RECORDING_RETENTION_DAYS,
    apiKey: e.SWITCHBOARD_API_KEY,
    secret: e.SWITCHBOARD_SECRET,
    sandbox: e.SWITCHBOARD_SANDBOX,
    defaultCarrier,
    logLevel: e.LOG_LEVEL,
    carriers,
    environment: { ...env },
    deepgram: { ...definedFields({ apiKey: e.DEEPGRAM_API_KEY, baseUrl: e.DEEPGRAM_BASE_URL }), model: e.DEEPGRAM_MODEL },
    stt: {
      provider: e.STT_PROVIDER,
      openai: {
        ...definedFields({ apiKey: e.OPENAI_API_KEY, baseUrl: e.OPENAI_REALTIME_BASE_URL }),
        model: e.OPENAI_STT_MODEL,
        language: e.OPENAI_STT_LANGUAGE,
      },
    },
    llm: {
      provider: e.LLM_PROVIDER,
      google: { ...definedFields({ apiKey: e.GOOGLE_API_KEY, baseUrl: e.GEMINI_BASE_URL }), model: e.GEMINI_MODEL },
      openai: { ...definedFields({ apiKey: e.OPENAI_API_KEY, baseUrl: e.OPENAI_BASE_URL }), model: e.OPENAI_MODEL },
    },
    tts: {
      provider: e.TTS_PROVIDER,
      cartesia: definedFields({ apiKey: e.CARTESIA_API_KEY, baseUrl: e.CARTESIA_BASE_URL, voiceId: e.CARTESIA_VOICE_ID }),
      elevenlabs: definedFields({ apiKey: e.ELEVENLABS_API_KEY, baseUrl: e.ELEVENLABS_BASE_URL, voiceId: e.ELEVENLABS_VOICE_ID }),
    },
  };
  if (e.SWITCHBOARD_SANDBOX === 'off') {
    for (const missing of missingProviderCredentials(config)) problems.push(`${missing.setting} needs ${missing.variable}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** A provider setting that lacks its credential variable. */
export interface MissingProviderCredential {
  kind: 'stt' | 'llm' | 'tts';
  /** The selection that needs it, e.g. `LLM_PROVIDER=google`. */
  setting: string;
  variable: string;
}

/** Which selected providers lack their credential variables (`TTS_PROVIDER=offline` needs none). */
export function missingProviderCredentials(config: Pick<Config, 'stt' | 'deepgram' | 'llm' | 'tts'>): MissingProviderCredential[] {
  const missing: MissingProviderCredential[] = [];
  const need = (kind: MissingProviderCredential['kind'], setting: string, variable: string) => missing.push({ kind, setting, variable });
  const { stt, llm, tts } = config;
  if (stt.provider === 'deepgram' && !config.deepgram.apiKey) need('stt', 'STT_PROVIDER=deepgram', 'DEEPGRAM_API_KEY');
  if (stt.provider === 'openai' && !stt.openai.apiKey) need('stt', 'STT_PROVIDER=openai', 'OPENAI_API_KEY');
  if (llm.provider === 'google' && !llm.google.apiKey) need('llm', 'LLM_PROVIDER=google', 'GOOGLE_API_KEY');
  if (llm.provider === 'openai' && !llm.openai.apiKey) need('llm', 'LLM_PROVIDER=openai', 'OPENAI_API_KEY');
  if (llm.provider === 'openai-compatible' && !llm.openai.baseUrl) need('llm', 'LLM_PROVIDER=openai-compatible', 'OPENAI_BASE_URL');
  if (tts.provider === 'cartesia' && !tts.cartesia.apiKey) need('tts', 'TTS_PROVIDER=cartesia', 'CARTESIA_API_KEY');
  if (tts.provider === 'elevenlabs' && !tts.elevenlabs.apiKey) need('tts', 'TTS_PROVIDER=elevenlabs', 'ELEVENLABS_API_KEY');
  return missing;
}
