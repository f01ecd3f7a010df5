import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('loadConfig', () => {
  it('defaults to a local sandbox on port 7860', () => {
    const config = loadConfig({});
    expect(config.port).toBe(7860);
    expect(config.publicUrl).toBe('http://localhost:7860');
    expect(config.publicWsUrl).toBe('ws://localhost:7860');
    expect(config.sandbox).toBe('auto');
    expect(config.dataDir).toBe('./data');
    expect(config.deepgram.model).toBe('nova-2-phonecall');
    expect(config.llm.provider).toBe('google');
    expect(config.apiKey).toBeUndefined();
  });

  it('derives the media WebSocket base from PUBLIC_URL and trims trailing slashes', () => {
    const config = loadConfig({ PUBLIC_URL: 'https://agent.example.com/', PORT: '8080' });
    expect(config.publicUrl).toBe('https://agent.example.com');
    expect(config.publicWsUrl).toBe('wss://agent.example.com');
    expect(config.port).toBe(8080);
  });

  it('lists every mistake with the variable it concerns', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ PORT: 'eighty', PUBLIC_URL: 'agent.example.com', TWILIO_ACCOUNT_SID: 'AC123', LLM_PROVIDER: 'claude' });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = error!.problems.join('\n');
    expect(text).toContain('PORT');
    expect(text).toContain('PUBLIC_URL must be an absolute http(s) or ws(s) URL');
    expect(text).toContain('LLM_PROVIDER');
  });

  it('checks carrier credentials come in pairs and look right', () => {
    expect(() => loadConfig({ TWILIO_ACCOUNT_SID: 'AC' + 'a'.repeat(32) })).toThrow(/must be set together/);
    expect(() => loadConfig({ TWILIO_ACCOUNT_SID: 'ACxyz', TWILIO_AUTH_TOKEN: 't' })).toThrow(/AC followed by 32 hex/);
    expect(() => loadConfig({ PLIVO_AUTH_TOKEN: 't' })).toThrow(/PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN/);
  });

  it('with the sandbox off, demands real credentials for what is used', () => {
    expect(() => loadConfig({ SWITCHBOARD_SANDBOX: 'off' })).toThrow(
      /needs Twilio or Plivo( or \w+)* credentials[\s\S]*DEEPGRAM_API_KEY[\s\S]*GOOGLE_API_KEY[\s\S]*CARTESIA_API_KEY/,
    );
  });

  it('selects OpenAI Realtime transcription with its own model and base URL, and asks for the key off-sandbox', () => {
    const config = loadConfig({
      STT_PROVIDER: 'openai',
      OPENAI_STT_MODEL: 'gpt-4o-mini-transcribe',
      OPENAI_REALTIME_BASE_URL: 'wss://proxy.example.com/v1',
    });
    expect(config.stt).toEqual({
      provider: 'openai',
      openai: { baseUrl: 'wss://proxy.example.com/v1', model: 'gpt-4o-mini-transcribe', language: 'en' },
    });
    expect(loadConfig({}).stt.provider).toBe('deepgram');
    expect(() => loadConfig({ STT_PROVIDER: 'whisper' })).toThrow(/STT_PROVIDER/);
    expect(() =>
      loadConfig({ SWITCHBOARD_SANDBOX: 'off', STT_PROVIDER: 'openai', TWILIO_ACCOUNT_SID: 'AC' + 'a'.repeat(32), TWILIO_AUTH_TOKEN: 't' }),
    ).toThrow(/STT_PROVIDER=openai needs OPENAI_API_KEY/);
  });
});
