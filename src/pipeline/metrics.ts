/** Measurements processors report in `metrics` frames (never dropped, flow with the call). */
export type MetricsData =
  /** Time to first byte of a provider request (STT final, LLM token, TTS audio). */
  | { kind: 'ttfb'; processor: string; valueMs: number; model?: string }
  /** Time a processor spent on one unit of work. */
  | { kind: 'processing'; processor: string; valueMs: number }
  | { kind: 'llm-usage'; processor: string; promptTokens: number; completionTokens: number }
  | { kind: 'tts-usage'; processor: string; characters: number }
  | { kind: 'stt-usage'; processor: string; audioSec: number };
