import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { describeProviders } from '../../src/server/provider-status.ts';

const none = { stt: false, llm: false, tts: false };

describe('describeProviders', () => {
  it('counts keys as live, code as code, and a missing key as unavailable naming it', () => {
    const config = loadConfig({ DEEPGRAM_API_KEY: 'k' });
    expect(describeProviders(config, { ...none, tts: true }, false)).toEqual([
      { kind: 'stt', provider: 'deepgram', mode: 'live' },
      { kind: 'llm', provider: 'google', mode: 'unavailable', missing: 'GOOGLE_API_KEY' },
      { kind: 'tts', provider: 'code', mode: 'code' },
    ]);
  });

  it("treats the user's own OpenAI-compatible server and the offline voice as local, even in the sandbox", () => {
    const config = loadConfig({ LLM_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: 'http://localhost:11434/v1', TTS_PROVIDER: 'offline' });
    expect(describeProviders(config, none, true).map((p) => [p.kind, p.mode])).toEqual([
      ['stt', 'emulated'],
      ['llm', 'local'],
      ['tts', 'local'],
    ]);
    // Without a base URL there is no server to use: it is missing, not local.
    const missing = loadConfig({ LLM_PROVIDER: 'openai-compatible' });
    expect(describeProviders(missing, none, false)[1]).toMatchObject({ mode: 'unavailable', missing: 'OPENAI_BASE_URL' });
  });
});
