export {
  espeakCalleeVoice,
  toneCalleeVoice,
  type CalleeUtterance,
  type CalleeVoice,
  type EspeakCalleeVoiceOptions,
  type ToneCalleeVoiceOptions,
} from './callee-voice.ts';
export { builtinPersonas } from './builtin-personas.ts';
export { parsePersona, personaSchema, PERSONA_DEFAULTS, type Persona, type PersonaOutcome, type PersonaStep } from './persona.ts';
export { normalizeNumber, PersonaRegistry, type PersonaRegistryOptions } from './persona-registry.ts';
export {
  SimulatedCallee,
  type CalleeLine,
  type CalleeRecord,
  type PressedRecord,
  type SaidRecord,
  type SimulatedCalleeOptions,
  type SpeechSink,
  type StepRecord,
} from './simulated-callee.ts';
export { SpeechDetector, type HeardSegment, type SpeechDetectorOptions } from './speech-detector.ts';
