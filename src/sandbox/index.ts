/**
 * `switchboard/sandbox`: the local, protocol-faithful emulators of every carrier and provider, the simulated
 * callees (personas) that answer them, and the scripted-LLM policies — what `npm start` runs when nothing has
 * credentials, and what tests build on. Production processes never load it.
 */
export { startSandbox, SANDBOX_CALLER_ID, type Sandbox, type SandboxOptions } from './sandbox.ts';
export * from './callees/index.ts';
export { SpeechRegistry, speechRegistry, type SpeechLine, type SpeechLineInput, type SpokenWord } from './speech-registry.ts';
export {
  LlmPolicy,
  loadLlmPolicyFile,
  defaultLlmPolicy,
  bundledPoliciesDir,
  type PolicyConversation,
  type PolicyReply,
} from './providers/llm-policy.ts';
export * from './carriers/index.ts';

// Provider emulators
export { startDeepgramEmulator, type DeepgramEmulator, type DeepgramEmulatorOptions } from './providers/deepgram-emulator.ts';
export {
  startOpenAIRealtimeEmulator,
  type OpenAIRealtimeEmulator,
  type OpenAIRealtimeEmulatorOptions,
} from './providers/openai-realtime-emulator.ts';
export { startGeminiEmulator, type GeminiEmulator, type GeminiEmulatorOptions } from './providers/gemini-emulator.ts';
export { startOpenAIEmulator, type OpenAIEmulator, type OpenAIEmulatorOptions } from './providers/openai-emulator.ts';
export { startCartesiaEmulator, type CartesiaEmulator, type CartesiaEmulatorOptions } from './providers/cartesia-emulator.ts';
export { startElevenLabsEmulator, type ElevenLabsEmulator, type ElevenLabsEmulatorOptions } from './providers/elevenlabs-emulator.ts';

// Carrier emulators (each lives with its carrier)
export * from '../telephony/twilio/emulator/index.ts';
export * from '../telephony/plivo/emulator/index.ts';
export * from '../telephony/sip/emulator/index.ts';
