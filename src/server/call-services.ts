import type { AgentDefinition } from '../agent/agent-definition.ts';
import type { CallServices } from '../agent/call-session.ts';
import type { SileroInference } from '../audio/vad/silero-model.ts';
import { SileroModel } from '../audio/vad/silero-model.ts';
import { SileroBatcher } from '../audio/vad/silero-batcher.ts';
import { LazySileroInference } from '../audio/vad/lazy-silero.ts';
import type { Config, MissingProviderCredential } from '../config.ts';
import { missingProviderCredentials } from '../config.ts';
import { HttpError } from '../errors.ts';
import { definedFields } from '../config-schema.ts';
import type { LlmService } from '../services/llm/llm-service.ts';
import { SttProcessor } from '../services/stt/stt-processor.ts';
import type { SttService } from '../services/stt/stt-service.ts';
import { TtsProcessor } from '../services/tts/tts-processor.ts';
import type { TtsService } from '../services/tts/tts-service.ts';

/** A provider given in code: one instance for every call, or a factory per agent (e.g. each agent's own model). */
export type ProviderOption<Service> = Service | ((agent: AgentDefinition) => Service);

export interface ProviderOptions {
  /** @default from STT_PROVIDER and its variables */
  stt?: ProviderOption<SttService>;
  /** @default from LLM_PROVIDER and its variables; an agent's `model` picks the model */
  llm?: ProviderOption<LlmService>;
  /** @default from TTS_PROVIDER and its variables, speaking with the agent's `voice`; a new service per call */
  tts?: ProviderOption<TtsService>;
}

export interface CallServicesOptions {
  /** Extra trust for provider TLS (the sandbox's self-signed emulators). @default system CAs only */
  tls?: { ca: string | Buffer };
  /** Score VAD windows of all calls together (one batched inference per event-loop turn). @default true */
  batchVad?: boolean;
  /** Providers given in code; the configuration builds the others. @default {} */
  providers?: ProviderOptions;
  /** The agents served: those naming their own `model` get their LLM built up front. @default [] */
  agents?: readonly AgentDefinition[];
}

/** The provider stages each agent's calls run on. */
export interface AgentServices {
  /** The services for a call of `agent`; throws a 503 naming the missing variable when a provider is unavailable. */
  forAgent(agent: AgentDefinition): CallServices;
  /** Selected providers that lack credentials (calls cannot run until they are set). */
  readonly unavailable: readonly MissingProviderCredential[];
}

/**
 * Builds each call's STT, LLM and TTS stages from providers given in code or from configuration. Providers are
 * shared across calls (an LLM per model); sessions and TTS streams are per call. Provider SDKs load only for the
 * providers in use.
 */
export async function createCallServices(config: Config, options: CallServicesOptions = {}): Promise<AgentServices> {
  const given = options.providers ?? {};
  const unavailable = missingProviderCredentials(config).filter((missing) => given[missing.kind] === undefined);
  // The VAD model loads with the first call that needs it (an idle process does not hold it).
  const vadInference: SileroInference = new LazySileroInference(async () => {
    const model = await SileroModel.load();
    return options.batchVad === false ? model : new SileroBatcher(model);
  });
  const sharedStt = given.stt === undefined ? await createStt(config, options.tls) : undefined;
  const llmByModel = new Map<string, LlmService>();
  const llmFor = async (name: string | undefined): Promise<LlmService> => {
    const key = name ?? '';
    let llm = llmByModel.get(key);
    if (!llm) {
      llm = await createLlm(config, name);
      llmByModel.set(key, llm);
    }
    return llm;
  };
  const defaultLlm = given.llm === undefined && !unavailable.some((m) => m.kind === 'llm') ? await llmFor(undefined) : undefined;
  const ttsFactory = given.tts === undefined ? await ttsFactoryFor(config, options.tls) : undefined;
  const agentModels = new Map<AgentDefinition, LlmService>();
  if (given.llm === undefined && unavailable.length === 0) {
    for (const agent of options.agents ?? []) if (agent.model) agentModels.set(agent, await llmFor(agent.model));
  }

  return {
    unavailable,
    forAgent(agent) {
      if (unavailable.length > 0) {
        const first = unavailable[0] as MissingProviderCredential;
        throw new HttpError(503, 'provider_unavailable', `${first.setting} needs ${first.variable}; calls cannot run without it`, {
          missing: unavailable.map((m) => m.variable),
        });
      }
      const stt = pick(given.stt, agent) ?? (sharedStt as SttService);
      const llm = pick(given.llm, agent) ?? (agent.model ? agentModels.get(agent) : defaultLlm);
      if (!llm) throw new HttpError(503, 'provider_unavailable', `agent ${agent.name} was not registered at start-up`);
      return {
        createStt: () => new SttProcessor({ service: stt }),
        llm,
        createTts: (_callId, voice) => new TtsProcessor({ service: pick(given.tts, agent) ?? (ttsFactory as TtsFactory)(voice) }),
        vadInference,
      };
    },
  };
}

function pick<Service>(option: ProviderOption<Service> | undefined, agent: AgentDefinition): Service | undefined {
  if (option === undefined) return undefined;
  return typeof option === 'function' ? (option as (agent: AgentDefinition) => Service)(agent) : option;
}

async function createStt(config: Config, tls: { ca: string | Buffer } | undefined): Promise<SttService> {
  if (config.stt.provider === 'openai') {
    const { OpenAIRealtimeSttService } = await import('../services/stt/openai-realtime.ts');
    const { apiKey, baseUrl, model, language } = config.stt.openai;
    return new OpenAIRealtimeSttService({
      ...(apiKey ? { apiKey } : {}),
      ...(baseUrl ? { baseUrl } : {}),
      model,
      language,
      ...(tls ? { tls } : {}),
    });
  }
  const { DeepgramSttService } = await import('../services/stt/deepgram.ts');
  return new DeepgramSttService({
    ...(config.deepgram.apiKey ? { apiKey: config.deepgram.apiKey } : {}),
    ...(config.deepgram.baseUrl ? { baseUrl: config.deepgram.baseUrl } : {}),
    model: config.deepgram.model,
  });
}

async function createLlm(config: Config, model: string | undefined): Promise<LlmService> {
  const { provider, google, openai } = config.llm;
  if (provider === 'google') {
    const { createGoogleLlm } = await import('../services/llm/google.ts');
    return createGoogleLlm({
      ...(google.apiKey ? { apiKey: google.apiKey } : {}),
      ...(google.baseUrl ? { baseURL: google.baseUrl } : {}),
      model: model ?? google.model,
    });
  }
  if (provider === 'openai') {
    const { createOpenAILlm } = await import('../services/llm/openai.ts');
    return createOpenAILlm({
      ...(openai.apiKey ? { apiKey: openai.apiKey } : {}),
      ...(openai.baseUrl ? { baseURL: openai.baseUrl } : {}),
      model: model ?? openai.model,
    });
  }
  const { createOpenAICompatibleLlm } = await import('../services/llm/openai-compatible.ts');
  return createOpenAICompatibleLlm({
    name: 'openai-compatible',
    baseURL: openai.baseUrl as string,
    model: model ?? openai.model,
    ...(openai.apiKey ? { apiKey: openai.apiKey } : {}),
  });
}

type TtsFactory = (voice: string | undefined) => TtsService;

async function ttsFactoryFor(config: Config, tls: { ca: string | Buffer } | undefined): Promise<TtsFactory> {
  const { provider, cartesia, elevenlabs } = config.tts;
  if (provider === 'cartesia') {
    const { CartesiaTtsService } = await import('../services/tts/cartesia.ts');
    return (voice) =>
      new CartesiaTtsService({
        apiKey: cartesia.apiKey ?? '',
        ...definedFields({ voiceId: voice ?? cartesia.voiceId }),
        ...(cartesia.baseUrl ? { baseUrl: cartesia.baseUrl } : {}),
        ...(tls ? { tls } : {}),
      });
  }
  if (provider === 'elevenlabs') {
    const { ElevenLabsTtsService } = await import('../services/tts/elevenlabs.ts');
    return (voice) =>
      new ElevenLabsTtsService({
        apiKey: elevenlabs.apiKey ?? '',
        ...definedFields({ voiceId: voice ?? elevenlabs.voiceId }),
        ...(elevenlabs.baseUrl ? { baseUrl: elevenlabs.baseUrl } : {}),
        ...(tls ? { tls } : {}),
      });
  }
  const { OfflineTtsService } = await import('../services/tts/offline.ts');
  return (voice) => new OfflineTtsService(voice ? { voice } : {});
}
