/**
 * Switchboard's public API (`import { … } from 'switchboard'`): agents and tools, the server, provider interfaces
 * and the built-in providers, carrier adapters and the built-in carriers, the frame/processor types for custom
 * pipeline stages, and the errors. The sandbox (emulators, personas) is a separate entry: `switchboard/sandbox`.
 */

// Agents and tools
export { defineAgent, mergeMetadata, type AgentDefinition, type VoicemailOptions } from './agent/agent-definition.ts';
export { appointmentReminderAgent } from './agent/default-agent.ts';
export type { IdleOptions } from './agent/conversation-controller.ts';
export type { UserTurnOptions, UserTurn, InterruptionOptions } from './agent/user-turn-processor.ts';
export { HeuristicTurnDetector, type EndpointingOptions, type TurnDetector, type TurnDetectorInput } from './agent/turn-detector.ts';
export { DEFAULT_BACKCHANNELS, type BackchannelLexicon } from './agent/backchannels.ts';
export type { KeypadOptions } from './agent/keypad.ts';
export type { AnsweredBy } from './agent/frames.ts';
export type { AssistantTurn } from './agent/assistant-turn-recorder.ts';
export type { TurnLatency } from './agent/turn-metrics.ts';
export { CallSession, type CallServices, type CallSessionEvents, type CallSessionOptions } from './agent/call-session.ts';
export { defineTool, type AgentTool, type ToolContext } from './services/llm/tool.ts';

// The server
export { startSwitchboard, type RunningSwitchboard, type StartOptions } from './server/start.ts';
export type { ProviderOption, ProviderOptions } from './server/call-services.ts';
export type { CarrierStatus, CarrierMode } from './server/carrier-set.ts';
export type { ProviderStatus, ProviderMode } from './server/provider-status.ts';
export { loadConfig, ConfigError, type Config, type LoadConfigOptions } from './config.ts';
export { createLogger, silentLogger, type Logger } from './log.ts';
export { CallStore, type CallStoreOptions, type CallRecord, type CallSummary, type CallTurn, type CallEvent } from './store/index.ts';
export { CALL_STATUSES, isFinalCallStatus, type CallStatus } from './call-status.ts';

// Providers: the interfaces, and the built-in ones
export type { SttService, SttSession, SttSessionOptions, SttTranscript, SttWord, SttInputFormat } from './services/stt/stt-service.ts';
export { SttError } from './services/stt/stt-service.ts';
export { SttProcessor } from './services/stt/stt-processor.ts';
export { DeepgramSttService, type DeepgramSttOptions } from './services/stt/deepgram.ts';
export { OpenAIRealtimeSttService, type OpenAISttOptions } from './services/stt/openai-realtime.ts';
export type { LlmService, LlmRequest, LlmStreamEvent, LlmUsage } from './services/llm/llm-service.ts';
export { LlmServiceError } from './services/llm/llm-service.ts';
export { LlmContext } from './services/llm/context.ts';
export { createOpenAILlm, type OpenAILlmOptions } from './services/llm/openai.ts';
export { createOpenAICompatibleLlm, type OpenAICompatibleLlmOptions } from './services/llm/openai-compatible.ts';
export { createGoogleLlm, type GoogleLlmOptions } from './services/llm/google.ts';
export type { TtsService, TtsStream, TtsStreamEvent, TtsStreamOptions, TtsWord, TtsAudioFormat } from './services/tts/tts-service.ts';
export { BaseTtsStream, TtsError } from './services/tts/tts-service.ts';
export { TtsProcessor } from './services/tts/tts-processor.ts';
export { CartesiaTtsService, type CartesiaTtsOptions } from './services/tts/cartesia.ts';
export { ElevenLabsTtsService, type ElevenLabsTtsOptions } from './services/tts/elevenlabs.ts';
export { OfflineTtsService, type OfflineTtsOptions } from './services/tts/offline.ts';

// Carriers: the adapter interface, and the built-in ones
export type {
  CarrierAdapter,
  CarrierRuntime,
  ConfiguredCarrier,
  CarrierContext,
  CarrierRouteContext,
  CallControl,
  OutboundCallRequest,
  AnswerRequest,
  AnsweredCall,
  CarrierSandbox,
  CarrierEmulatorContext,
  StartedCarrierEmulator,
} from './telephony/carrier-adapter.ts';
export type { CarrierCallInfo, CarrierCallRef, PlacedCall } from './telephony/carrier.ts';
export type { CallStatusUpdate } from './telephony/call-status.ts';
export { CarrierError } from './telephony/carrier-error.ts';
export { builtinCarriers } from './telephony/registry.ts';
export { twilioCarrier, twilio, type TwilioSettings } from './telephony/twilio/index.ts';
export { plivoCarrier, plivo, type PlivoSettings } from './telephony/plivo/index.ts';

// Media: channels, transports and the media-socket protocol a WebSocket carrier implements
export type { MediaChannel, MediaChannelHandler, ChannelCloseInfo } from './transports/media-channel.ts';
export type { ChannelAudioFormat } from './audio/channel-audio-format.ts';
export type { MediaStreamProtocol, MediaStreamStart, CarrierMediaSerializer, InboundMediaEvent } from './transports/media-serializer.ts';
export { MediaParseError } from './transports/media-serializer.ts';
export { LocalMediaChannel, type LocalCaller } from './transports/local/local-media-channel.ts';

// The pipeline: frames and processors, for custom stages
export * from './pipeline/index.ts';

// Errors and time
export { SwitchboardError, HttpError, type SwitchboardErrorOptions } from './errors.ts';
export { CallStoreError } from './store/errors.ts';
export { systemClock, ManualClock, type Clock, type ClockTimer } from './util/clock.ts';
