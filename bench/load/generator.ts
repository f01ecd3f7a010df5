/**
 * The load generator: everything outside the server, in the benchmark's own process. A Twilio emulator (one
 * shared 20 ms media clock, simulated callees speaking eSpeak audio) and the Deepgram, Gemini and Cartesia
 * emulators, with provider timing either zero or the emulators' realistic defaults. The server runs as a
 * separate process pointed at these (see server-process.ts), so its CPU and memory are its own.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { espeakCalleeVoice } from '../../src/sandbox/callees/callee-voice.ts';
import type { Persona } from '../../src/sandbox/callees/persona.ts';
import { PersonaRegistry } from '../../src/sandbox/callees/persona-registry.ts';
import { MediaClock } from '../../src/sandbox/carriers/shared/media-clock.ts';
import { startTwilioEmulator, type TwilioEmulator } from '../../src/telephony/twilio/emulator/index.ts';
import { startCartesiaEmulator, type CartesiaEmulator } from '../../src/sandbox/providers/cartesia-emulator.ts';
import { startDeepgramEmulator, type DeepgramEmulator } from '../../src/sandbox/providers/deepgram-emulator.ts';
import { startGeminiEmulator, type GeminiEmulator } from '../../src/sandbox/providers/gemini-emulator.ts';

export type LatencyMode = 'zero' | 'realistic';

/** The caller id the server dials from (TWILIO_PHONE_NUMBER). */
export const BENCH_CALLER_ID = '+15550100000';

export interface LoadGeneratorOptions {
  latency: LatencyMode;
  /** Persona per dialled number. */
  personas: Record<string, Persona>;
  /** Folder for the emulator certificate handed to the server (NODE_EXTRA_CA_CERTS). */
  tmpDir: string;
}

export interface LoadGenerator {
  twilio: TwilioEmulator;
  clock: MediaClock;
  deepgram: DeepgramEmulator;
  gemini: GeminiEmulator;
  cartesia: CartesiaEmulator;
  /** Environment for a server child that uses these emulators through its real clients (sandbox off). */
  serverEnv(): Record<string, string>;
  close(): Promise<void>;
}

const KEYS = { deepgram: 'bench-deepgram', google: 'bench-google', cartesia: 'bench-cartesia' };

export async function startLoadGenerator(options: LoadGeneratorOptions): Promise<LoadGenerator> {
  const zero = options.latency === 'zero';
  const personas = new PersonaRegistry({ builtins: false, fallback: null });
  for (const [number, persona] of Object.entries(options.personas)) personas.register(number, persona);
  // eSpeak blocks the event loop (and so the 20 ms clock): synthesise every callee line before any call.
  // The callee voice caches by (voice settings, text), so the calls reuse these.
  for (const persona of Object.values(options.personas)) {
    const voice = espeakCalleeVoice(persona.voice);
    for (const step of persona.steps ?? []) if ('say' in step) await voice.synthesize(step.say);
  }

  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    await Promise.allSettled(closers.reverse().map((fn) => fn()));
  };
  try {
    const clock = new MediaClock();
    const twilio = await startTwilioEmulator({ personas, clock, recordAudio: false });
    closers.push(async () => {
      await twilio.close();
      clock.stop();
    });
    const deepgram = await startDeepgramEmulator({ apiKey: KEYS.deepgram });
    closers.push(() => deepgram.close());
    const gemini = await startGeminiEmulator({ apiKey: KEYS.google, ...(zero ? { timing: { ttftMs: 0, tokensPerSecond: 0 } } : {}) });
    closers.push(() => gemini.close());
    const cartesia = await startCartesiaEmulator({ apiKey: KEYS.cartesia, ...(zero ? { ttfbMs: 0 } : {}) });
    closers.push(() => cartesia.close());
    const caFile = join(options.tmpDir, 'emulator-ca.pem');
    writeFileSync(caFile, cartesia.ca ?? '');

    return {
      twilio,
      clock,
      deepgram,
      gemini,
      cartesia,
      serverEnv: () => ({
        SWITCHBOARD_SANDBOX: 'off',
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_API_BASE_URL: twilio.url,
        TWILIO_PHONE_NUMBER: BENCH_CALLER_ID,
        DEEPGRAM_API_KEY: KEYS.deepgram,
        DEEPGRAM_BASE_URL: deepgram.url,
        LLM_PROVIDER: 'google',
        GOOGLE_API_KEY: KEYS.google,
        GEMINI_BASE_URL: gemini.baseURL,
        TTS_PROVIDER: 'cartesia',
        CARTESIA_API_KEY: KEYS.cartesia,
        CARTESIA_BASE_URL: cartesia.url,
        // The Cartesia SDK insists on wss: the child trusts the emulator's self-signed certificate through
        // Node's extra-CA list (added to the default trust store; TLS verification stays on).
        NODE_EXTRA_CA_CERTS: caFile,
      }),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
