import type { Logger } from '../log.ts';
import type { Config } from '../config.ts';
import type { AgentDefinition } from '../agent/agent-definition.ts';
import type { CarrierAdapter } from '../telephony/carrier-adapter.ts';
import { agentPolicyRouter } from './agent-policies.ts';
import type { LlmEmulatorHandle } from './providers/llm-emulator-server.ts';
import { MediaClock } from './carriers/shared/media-clock.ts';
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
  /** The carriers to emulate, each with its settings from the environment (a configured caller id is kept). */
  carriers: ReadonlyArray<{ adapter: CarrierAdapter; settings: unknown }>;
  /** Which provider kinds to emulate (a provider given in code needs no emulator). @default all three */
  providers?: { stt: boolean; llm: boolean; tts: boolean };
}

/** What the sandbox started; `emulated` names each part that runs locally instead of the real service. */
export interface Sandbox {
  /** The configuration with every emulated part pointed at its local emulator (carriers: `config.carriers`). */
  config: Config;
  emulated: string[];
  /** The personas the carrier emulators answer with. */
  personas: PersonaRegistry;
  /** A carrier's emulator by carrier name (its type is the carrier's own, e.g. `TwilioEmulator`). */
  emulator<T = unknown>(carrier: string): T | undefined;
  /**
   * Makes the emulated LLM play these agents: each its own sandbox policy, or a generic one from its greeting and
   * tools (no-op when the LLM is not emulated).
   */
  serveAgents(agents: readonly AgentDefinition[]): Promise<void>;
  /** Trust for the TLS emulators (Cartesia's SDK insists on wss). */
  tls?: { ca: string | Buffer };
  close(): Promise<void>;
}

/**
 * Starts a local emulator for the given carriers and for the selected STT, LLM and TTS providers, and returns the
 * configuration that points the real clients at them. The server's code paths are the same as in production;
 * only base URLs and keys differ. Loaded with a dynamic import, only in sandbox mode.
 */
export async function startSandbox(config: Config, options: SandboxOptions): Promise<Sandbox> {
  const instant = options.timing === 'instant';
  const log = options.log.child({ component: 'sandbox' });
  const closers: Array<() => Promise<void>> = [];
  const emulated: string[] = [];
  const next: Config = { ...structuredClone({ ...config, carriers: {} }), carriers: { ...config.carriers } };
  const personas = options.personas ?? new PersonaRegistry();
  const emulators = new Map<string, unknown>();
  let llmEmulator: LlmEmulatorHandle | undefined;
  const sandbox: Sandbox = {
    config: next,
    emulated,
    personas,
    emulator: <T>(carrier: string) => emulators.get(carrier) as T | undefined,
    serveAgents: async (agents) => {
      llmEmulator?.setPolicy(await agentPolicyRouter(agents));
    },
    close: async () => {
      await Promise.allSettled(closers.reverse().map((close) => close()));
    },
  };
  try {
    // One 20 ms clock for every carrier emulator, so every emulated call is served in one wake-up.
    const clock = new MediaClock();
    closers.push(async () => clock.stop());
    for (const { adapter, settings } of options.carriers) {
      if (!adapter.sandbox) continue;
      const started = await adapter.sandbox.start({
        log,
        personas,
        clock,
        timeScale: options.timeScale ?? 1,
        settings,
        callerId: SANDBOX_CALLER_ID,
      });
      closers.push(() => started.close());
      next.carriers[adapter.name] = started.settings;
      emulators.set(adapter.name, started.emulator);
      emulated.push(adapter.name);
    }
    const emulate = options.providers ?? { stt: true, llm: true, tts: true };
    if (!emulate.stt) {
      // given in code
    } else if (config.stt.provider === 'deepgram') {
      const deepgram = await startDeepgramEmulator({ apiKey: 'sandbox-deepgram', log });
      closers.push(() => deepgram.close());
      next.deepgram = { ...config.deepgram, apiKey: 'sandbox-deepgram', baseUrl: deepgram.url };
      emulated.push('deepgram');
    } else {
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
    if (!emulate.llm) {
      // given in code, or the user's own OpenAI-compatible server
    } else if (llm.provider === 'google') {
      const gemini = await startGeminiEmulator({
        apiKey: 'sandbox-google',
        ...(instant ? { timing: { ttftMs: 0, tokensPerSecond: 0 } } : {}),
      });
      closers.push(() => gemini.close());
      llmEmulator = gemini;
      next.llm.google = { ...llm.google, apiKey: 'sandbox-google', baseUrl: gemini.baseURL };
      emulated.push('gemini');
    } else {
      const openai = await startOpenAIEmulator({
        apiKey: 'sandbox-openai',
        ...(instant ? { timing: { ttftMs: 0, tokensPerSecond: 0 } } : {}),
      });
      closers.push(() => openai.close());
      llmEmulator = openai;
      next.llm.openai = { ...llm.openai, apiKey: 'sandbox-openai', baseUrl: openai.baseURL };
      emulated.push('openai');
    }
    const tts = config.tts;
    if (!emulate.tts) {
      // given in code, or the offline voice (no account to emulate)
    } else if (tts.provider === 'cartesia') {
      const cartesia: CartesiaEmulator = await startCartesiaEmulator({ apiKey: 'sandbox-cartesia', ...(instant ? { ttfbMs: 0 } : {}) });
      closers.push(() => cartesia.close());
      next.tts.cartesia = { ...tts.cartesia, apiKey: 'sandbox-cartesia', baseUrl: cartesia.url };
      if (cartesia.ca) sandbox.tls = { ca: cartesia.ca };
      emulated.push('cartesia');
    } else if (tts.provider === 'elevenlabs') {
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
