import type { CallServices } from '../agent/call-session.ts';
import type { SileroInference } from '../audio/vad/silero-model.ts';
import { SileroModel } from '../audio/vad/silero-model.ts';
import { SileroBatcher } from '../audio/vad/silero-batcher.ts';
import type { Config } from '../config.ts';
import type { LlmService } from '../services/llm/llm-service.ts';
import { createGoogleLlm } from '../services/llm/google.ts';
import { createOpenAILlm } from '../services/llm/openai.ts';
import { createOpenAICompatibleLlm } from '../services/llm/openai-compatible.ts';
import { DeepgramSttService } from '../services/stt/deepgram.ts';
import { OpenAIRealtimeSttService } from '../services/stt/openai-realtime.ts';
import { SttProcessor } from '../services/stt/stt-processor.ts';
import type { SttService } from '../services/stt/stt-service.ts';
import { CartesiaTtsService } from '../services/tts/cartesia.ts';
import { ElevenLabsTtsService } from '../services/tts/elevenlabs.ts';
import { OfflineTtsService } from '../services/tts/offline.ts';
import { TtsProcessor } from '../services/tts/tts-processor.ts';
import type { TtsService } from '../services/tts/tts-service.ts';

/** Cartesia's stock "friendly" English voice, used when no voice is configured. */
export const DEFAULT_CARTESIA_VOICE = 'a0e99841-438c-4a64-b679-ae501e7d6091';
/** ElevenLabs' stock "Rachel" voice. */
export const DEFAULT_ELEVENLABS_VOICE = '21m00Tcm4TlvDq8ikWAM';

export interface CallServicesOptions {
  /** Extra trust for provider TLS (the sandbox's self-signed emulators). @default system CAs only */
  tls?: { ca: string | Buffer };
  /**
   * Score VAD windows of all calls together (one batched inference per event-loop turn).
   * @default true
   */
  batchVad?: boolean;
}

/** Builds each call's STT, LLM and TTS stages from configuration. Providers are shared; sessions are per call. */
export async function createCallServices(config: Config, options: CallServicesOptions = {}): Promise<CallServices> {
  const stt = createStt(config, options.tls);
  const llm = createLlm(config);
  const model = await SileroModel.load();
  const vadInference: SileroInference = options.batchVad === false ? model : new SileroBatcher(model);
  return {
    createStt: () => new SttProcessor({ service: stt }),
    llm,
    createTts: (_callId, voice) => new TtsProcessor({ service: createTts(config, voice, options.tls) }),
    vadInference,
  };
}

function createStt(config: Config, tls: { ca: string | Buffer } | undefined): SttService {
  if (config.stt.provider === 'openai') {
    const { apiKey, baseUrl, model, language } = config.stt.openai;
    return new OpenAIRealtimeSttService({
      ...(apiKey ? { apiKey } : {}),
      ...(baseUrl ? { baseUrl } : {}),
      model,
      language,
      ...(tls ? { tls } : {}),
    });
  }
  return new DeepgramSttService({
    ...(config.deepgram.apiKey ? { apiKey: config.deepgram.apiKey } : {}),
    ...(config.deepgram.baseUrl ? { baseUrl: config.deepgram.baseUrl } : {}),
    model: config.deepgram.model,
  });
}

function createLlm(config: Config): LlmService {
  const { provider, google, openai } = config.llm;
  if (provider === 'google') {
    return createGoogleLlm({
      ...(google.apiKey ? { apiKey: google.apiKey } : {}),
      ...(google.baseUrl ? { baseURL: google.baseUrl } : {}),
      model: google.model,
    });
  }
  if (provider === 'openai') {
    return createOpenAILlm({
      ...(openai.apiKey ? { apiKey: openai.apiKey } : {}),
      ...(openai.baseUrl ? { baseURL: openai.baseUrl } : {}),
      model: openai.model,
    });
  }
  return createOpenAICompatibleLlm({
    name: 'openai-compatible',
    baseURL: openai.baseUrl as string,
    model: openai.model,
    ...(openai.apiKey ? { apiKey: openai.apiKey } : {}),
  });
}

function createTts(config: Config, voice: string | undefined, tls: { ca: string | Buffer } | undefined): TtsService {
  const { provider, cartesia, elevenlabs } = config.tts;
  if (provider === 'cartesia') {
    return new CartesiaTtsService({
      apiKey: cartesia.apiKey ?? '',
      voiceId: voice ?? cartesia.voiceId ?? DEFAULT_CARTESIA_VOICE,
      ...(cartesia.baseUrl ? { baseUrl: cartesia.baseUrl } : {}),
      ...(tls ? { tls } : {}),
    });
  }
  if (provider === 'elevenlabs') {
    return new ElevenLabsTtsService({
      apiKey: elevenlabs.apiKey ?? '',
      voiceId: voice ?? elevenlabs.voiceId ?? DEFAULT_ELEVENLABS_VOICE,
      ...(elevenlabs.baseUrl ? { baseUrl: elevenlabs.baseUrl } : {}),
      ...(tls ? { tls } : {}),
    });
  }
  return new OfflineTtsService(voice ? { voice } : {});
}
