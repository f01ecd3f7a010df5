import type { Logger } from '../log.ts';
import type { Config } from '../config.ts';
import { startPlivoEmulator, type PlivoEmulator } from '../telephony/plivo/emulator/index.ts';
import { MediaClock } from './carriers/shared/media-clock.ts';
import { startTwilioEmulator, type TwilioEmulator } from '../telephony/twilio/emulator/index.ts';
import { PersonaRegistry } from './callees/persona-registry.ts';
import { startCartesiaEmulator, type CartesiaEmulator } from './providers/cartesia-emulator.ts';
import { startDeepgramEmulator } from './providers/deepgram-emulator.ts';
import { startElevenLabsEmulator } from './providers/elevenlabs-emulator.ts';
import { startGeminiEmulator } from './providers/gemini-emulator.ts';
import { startOpenAIEmulator } from './providers/openai-emulator.ts';
import { startOpenAIRealtimeEmulator } from './providers/openai-realtime-emulator.ts';

/** The sandbox number calls come from (and go out as) when no caller id is configured. */
export const SANDBOX_CALLER_ID = '+15550100000';

export interface SandboxOptions {
  log: Logger;
  /**
   * Provider timing. `realistic`: emulators answer with typical provider delays (LLM ~400 ms to first token,
   * TTS ~200 ms to first audio); `instant`: no added delay (benchmarks measure our own overhead).
   * @default 'realistic'
   */
  timing?: 'realistic' | 'instant';
  /** Personas for the carrier emulators. @default the built-in ones (+15550100001…6) */
  personas?: PersonaRegistry;
  /** Scales ringing, answer delays and ring timeouts of the carrier emulators (media stays real-time). @default 1 */
  timeScale?: number;
}

/** What the sandbox started; `emulated` names each part that runs locally instead of the real service. */
export interface Sandbox {
  /** The configuration with every emulated part pointed at its local emulator. */
  config: Config;
  emulated: string[];
  twilio?: TwilioEmulator;
  plivo?: PlivoEmulator;
  /** Trust for the TLS emulators (Cartesia's SDK insists on wss). */
  tls?: { ca: string | Buffer };
  close(): Promise<void>;
}

/**
 * Starts a local emulator for every carrier and provider whose credentials are missing (or all of them with
 * `SWITCHBOARD_SANDBOX=on`), and returns the configuration that points the real clients at them. The
 * server's code paths are the same as in production; only base URLs and keys differ.
 */
export async function startSandbox(config: Config, options: SandboxOptions): Promise<Sandbox> {
  const all = config.sandbox === 'on';
  const instant = options.timing === 'instant';
  const log = options.log.child({ component: 'sandbox' });
  const closers: Array<() => Promise<void>> = [];
  const emulated: string[] = [];
  const next: Config = structuredClone(config);
  const sandbox: Sandbox = {
    config: next,
    emulated,
    close: async () => {
      await Promise.allSettled(closers.reverse().map((close) => close()));
    },
  };
  try {
    const personas = options.personas ?? new PersonaRegistry();
    // One 20 ms clock for both carrier emulators, so every emulated call is served in one wake-up.
    const clock = new MediaClock();
    if (all || !config.twilio.accountSid) {
      const twilio = await startTwilioEmulator({
        personas,
        clock,
        logger: log,
        ...(options.timeScale ? { timeScale: options.timeScale } : {}),
      });
      closers.push(() => twilio.close());
      sandbox.twilio = twilio;
      next.twilio = {
        accountSid: twilio.accountSid,
        authToken: twilio.authToken,
        apiBaseUrl: twilio.url,
        phoneNumber: config.twilio.phoneNumber ?? SANDBOX_CALLER_ID,
      };
      emulated.push('twilio');
    }
    if (all || !config.plivo.authId) {
      const plivo = await startPlivoEmulator({
        personas,
        clock,
        logger: log,
        ...(options.timeScale ? { timeScale: options.timeScale } : {}),
      });
      closers.push(() => plivo.close());
      sandbox.plivo = plivo;
      next.plivo = {
        authId: plivo.authId,
        authToken: plivo.authToken,
        apiBaseUrl: plivo.url,
        phoneNumber: config.plivo.phoneNumber ?? SANDBOX_CALLER_ID,
      };
      emulated.push('plivo');
    }
    if (config.stt.provider === 'deepgram' && (all || !config.deepgram.apiKey)) {
      const deepgram = await startDeepgramEmulator({ apiKey: 'sandbox-deepgram', log });
      closers.push(() => deepgram.close());
      next.deepgram = { ...config.deepgram, apiKey: 'sandbox-deepgram', baseUrl: deepgram.url };
      emulated.push('deepgram');
    } else if (config.stt.provider === 'openai' && (all || !config.stt.openai.apiKey)) {
      // Plain ws: our Realtime client takes any base URL (only the SDK's own client would force wss).
      const realtime = await startOpenAIRealtimeEmulator({
        apiKey: 'sandbox-openai-realtime',
        log,
        ...(instant ? { ttfbMs: 0, deltaIntervalMs: 0 } : {}),
      });
      closers.push(() => realtime.close());
      next.stt.openai = { ...config.stt.openai, apiKey: 'sandbox-openai-realtime', baseUrl: realtime.baseUrl };
      emulated.push('openai-realtime');
    }
    const llm = config.llm;
    if (llm.provider === 'google' && (all || !llm.google.apiKey)) {
      const gemini = await startGeminiEmulator({
        apiKey: 'sandbox-google',
        ...(instant ? { timing: { ttftMs: 0, tokensPerSecond: 0 } } : {}),
      });
      closers.push(() => gemini.close());
      next.llm.google = { ...llm.google, apiKey: 'sandbox-google', baseUrl: gemini.baseURL };
      emulated.push('gemini');
    } else if (llm.provider !== 'google' && (all || (!llm.openai.apiKey && llm.provider === 'openai'))) {
      const openai = await startOpenAIEmulator({
        apiKey: 'sandbox-openai',
        ...(instant ? { timing: { ttftMs: 0, tokensPerSecond: 0 } } : {}),
      });
      closers.push(() => openai.close());
      next.llm.openai = { ...llm.openai, apiKey: 'sandbox-openai', baseUrl: openai.baseURL };
      emulated.push('openai');
    }
    const tts = config.tts;
    if (tts.provider === 'cartesia' && (all || !tts.cartesia.apiKey)) {
      const cartesia: CartesiaEmulator = await startCartesiaEmulator({ apiKey: 'sandbox-cartesia', ...(instant ? { ttfbMs: 0 } : {}) });
      closers.push(() => cartesia.close());
      next.tts.cartesia = { ...tts.cartesia, apiKey: 'sandbox-cartesia', baseUrl: cartesia.url };
      if (cartesia.ca) sandbox.tls = { ca: cartesia.ca };
      emulated.push('cartesia');
    } else if (tts.provider === 'elevenlabs' && (all || !tts.elevenlabs.apiKey)) {
      const elevenlabs = await startElevenLabsEmulator({ apiKey: 'sandbox-elevenlabs', ...(instant ? { ttfbMs: 0 } : {}) });
      closers.push(() => elevenlabs.close());
      next.tts.elevenlabs = { ...tts.elevenlabs, apiKey: 'sandbox-elevenlabs', baseUrl: elevenlabs.url };
      emulated.push('elevenlabs');
    }
  } catch (error) {
    await sandbox.close();
    throw error;
  }
  log.info({ emulated }, 'sandbox emulators started');
  return sandbox;
}
