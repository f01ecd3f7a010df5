import type { Config } from '../config.ts';
import { missingProviderCredentials } from '../config.ts';

/**
 * Providers that are the user's own rather than a cloud account: the offline voice, and an OpenAI-compatible
 * server the user runs (Ollama, vLLM). They are never emulated and never count as credentials, so the sandbox can
 * run everything else around them.
 */
export function isLocalProvider(config: Config, kind: 'stt' | 'llm' | 'tts'): boolean {
  if (kind === 'tts') return config.tts.provider === 'offline';
  if (kind === 'llm') return config.llm.provider === 'openai-compatible' && config.llm.openai.baseUrl !== undefined;
  return false;
}

/**
 * `live`: the real service with credentials; `emulated`: the sandbox emulator; `code`: an instance given to
 * `startSwitchboard`; `local`: runs in-process without an account (offline voice); `unavailable`: no credentials.
 */
export type ProviderMode = 'live' | 'emulated' | 'code' | 'local' | 'unavailable';

export interface ProviderStatus {
  kind: 'stt' | 'llm' | 'tts';
  /** The configured provider, e.g. `deepgram`; `code` for an instance given in code. */
  provider: string;
  mode: ProviderMode;
  /** The missing credential variable, for `unavailable`. */
  missing?: string;
}

/** How each provider kind runs, for the start-up report and the sandbox decision. */
export function describeProviders(
  config: Config,
  givenInCode: { stt: boolean; llm: boolean; tts: boolean },
  sandbox: boolean,
): ProviderStatus[] {
  const missing = missingProviderCredentials(config);
  const chosen = { stt: config.stt.provider, llm: config.llm.provider, tts: config.tts.provider };
  return (['stt', 'llm', 'tts'] as const).map((kind) => {
    if (givenInCode[kind]) return { kind, provider: 'code', mode: 'code' };
    if (isLocalProvider(config, kind)) return { kind, provider: chosen[kind], mode: 'local' };
    if (sandbox) return { kind, provider: chosen[kind], mode: 'emulated' };
    const lack = missing.find((m) => m.kind === kind);
    return lack
      ? { kind, provider: chosen[kind], mode: 'unavailable', missing: lack.variable }
      : { kind, provider: chosen[kind], mode: 'live' };
  });
}
