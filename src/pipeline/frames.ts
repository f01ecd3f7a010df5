import type { AudioPayload } from './audio-payload.ts';
import type { MetricsData } from './metrics.ts';

/**
 * How a frame is scheduled (Pipecat's model, which our users know):
 * - `system`: handled on arrival, overtakes queued frames, never dropped by an interruption.
 * - `data` / `control`: queued in order; dropped by an interruption unless the frame type is uninterruptible.
 */
export type FrameCategory = 'system' | 'data' | 'control';

export type Direction = 'downstream' | 'upstream';

/**
 * Payload of every built-in frame type, keyed by type name. Other modules add their own frame types with
 * declaration merging (`declare module '.../frames.ts' { interface FrameMap { 'my.frame': {...} } }`)
 * and register their scheduling with {@link defineFrameType}.
 */
export interface FrameMap {
  // ── lifecycle ──────────────────────────────────────────────────────────────────────────────────
  /** First frame through the pipeline; carries call-wide settings. */
  start: { callId: string; audioInSampleRate: number; audioOutSampleRate: number };
  /** Graceful end: processed after everything queued before it (drain), then the pipeline stops. */
  end: { reason: string };
  /** Immediate stop: overtakes everything, in-flight work is aborted. */
  cancel: { reason: string };
  /** Upstream request to the task to end gracefully (e.g. the agent hangs up after its goodbye). */
  'task.end': { reason: string };
  /** Upstream request to the task to cancel immediately. */
  'task.cancel': { reason: string };
  /** A processor failed. Travels upstream to the task; `fatal` errors cancel the pipeline. */
  error: { error: Error; fatal: boolean; processor: string };
  metrics: { data: MetricsData[] };

  // ── audio ──────────────────────────────────────────────────────────────────────────────────────
  /** Caller audio from the transport (system, like Pipecat: inbound audio never waits behind data). */
  'audio.in': { audio: AudioPayload };
  /** Audio to play to the caller. */
  'audio.out': { audio: AudioPayload };
  /** Synthesised speech for one utterance (a reply, or a part of one). */
  'tts.audio': { audio: AudioPayload; utteranceId: string };

  // ── speech and turns ───────────────────────────────────────────────────────────────────────────
  /**
   * Raw VAD decisions. `atSec`: when speech really started/stopped on the input timeline (seconds of caller
   * audio since the call started); `atMs`: the same instant on the `performance.now()` clock.
   */
  'vad.speech.started': { atSec: number; atMs: number };
  'vad.speech.stopped': { atSec: number; atMs: number };
  /**
   * Momentary silence inside speech (VAD `speaking → stopping`) and its end (`stopping → speaking`), before
   * `stopSecs` decides anything: lets turn logic count how long the caller has actually been voicing.
   */
  'vad.speech.paused': { atSec: number; atMs: number };
  'vad.speech.resumed': { atSec: number; atMs: number };
  /** Turn-level decisions (after barge-in/backchannel policy); times as in the VAD frames. */
  'user.speech.started': { atSec: number; atMs: number };
  'user.speech.stopped': { atSec: number; atMs: number };
  /** The bot's audio started/stopped playing to the caller (driven by playback acknowledgements). */
  'bot.speech.started': { utteranceId: string };
  'bot.speech.stopped': { utteranceId: string; interrupted: boolean };
  /** Barge-in: every processor drops queued interruptible frames and cancels in-flight work. */
  interruption: { reason: string };

  // ── text ───────────────────────────────────────────────────────────────────────────────────────
  /**
   * Speech-to-text result. `final`: this span's text is fixed; `speechFinal`: the provider also detected
   * the end of the speaker's utterance (endpointing / finalize).
   */
  transcription: { text: string; final: boolean; speechFinal?: boolean; language?: string; confidence?: number };
  /** The STT provider's own voice-activity events (a second opinion next to our VAD). */
  'stt.speech.started': { atSec: number };
  'stt.utterance.end': { lastWordEndSec: number };
  /** Stop (or resume) sending caller audio to STT; the STT keeps its connection alive meanwhile. */
  'stt.mute': { muted: boolean };
  /**
   * One LLM generation step whose text becomes one spoken utterance: text frames between start and end
   * belong to `responseId`, which TTS and playback use as the utterance id.
   */
  'llm.response.start': { responseId: string };
  'llm.text': { text: string };
  'llm.response.end': { responseId: string };
  /** Ask TTS to speak this text as is (greetings, fallback lines); `utteranceId` is generated if absent. */
  'tts.speak': { text: string; utteranceId?: string };
  'tts.started': { utteranceId: string };
  'tts.stopped': { utteranceId: string };
  /** A piece of text the TTS speaks, with its place on the utterance's audio timeline when known. */
  'tts.text': { utteranceId: string; text: string; startSec?: number; endSec?: number };
  /** How much of an utterance the caller has heard, from the carrier's playback acknowledgements. */
  'audio.played': { utteranceId: string; playedSec: number; complete: boolean };

  // ── telephony ──────────────────────────────────────────────────────────────────────────────────
  'dtmf.in': { digit: string };
  'dtmf.out': { digits: string };
  'transport.message': { message: unknown };
}

export type FrameType = keyof FrameMap;

interface FrameHeader<K extends FrameType> {
  readonly type: K;
  /** Process-unique, increasing: lets observers follow one frame across hops. */
  readonly id: number;
  readonly category: FrameCategory;
  readonly uninterruptible: boolean;
}

/** A frame of one type. */
export type FrameOf<K extends FrameType> = FrameHeader<K> & FrameMap[K];
/** Any frame. */
export type Frame = { [K in FrameType]: FrameOf<K> }[FrameType];

export interface FrameTypeInfo {
  category: FrameCategory;
  /** Survives interruptions in queues (end-of-call, results that must not be lost). @default false */
  uninterruptible?: boolean;
}

/** Scheduling of every registered frame type (a plain object: the lookup is on every frame's creation). */
const frameTypes: Record<string, Required<FrameTypeInfo> | undefined> = Object.create(null) as Record<
  string,
  Required<FrameTypeInfo> | undefined
>;

/** Registers how a frame type is scheduled. Built-in types are registered below; extensions register theirs. */
export function defineFrameType(type: FrameType, info: FrameTypeInfo): void {
  frameTypes[type] = { category: info.category, uninterruptible: info.uninterruptible ?? false };
}

const system: FrameTypeInfo = { category: 'system' };
const data: FrameTypeInfo = { category: 'data' };
const control: FrameTypeInfo = { category: 'control' };
const builtIn: Partial<Record<FrameType, FrameTypeInfo>> = {
  start: system,
  end: { category: 'control', uninterruptible: true },
  cancel: system,
  'task.end': system,
  'task.cancel': system,
  error: system,
  metrics: system,
  'audio.in': system,
  'audio.out': data,
  'tts.audio': data,
  'vad.speech.started': system,
  'vad.speech.stopped': system,
  'vad.speech.paused': system,
  'vad.speech.resumed': system,
  'user.speech.started': system,
  'user.speech.stopped': system,
  'bot.speech.started': system,
  'bot.speech.stopped': system,
  interruption: system,
  transcription: data,
  'stt.speech.started': system,
  'stt.utterance.end': system,
  'stt.mute': system,
  'llm.text': data,
  'llm.response.start': control,
  'llm.response.end': control,
  'tts.speak': data,
  'tts.started': control,
  'tts.stopped': control,
  'tts.text': data,
  'audio.played': system,
  'dtmf.in': system,
  'dtmf.out': data,
  'transport.message': data,
};
for (const [type, info] of Object.entries(builtIn)) if (info) defineFrameType(type as FrameType, info);

let nextFrameId = 1;

/**
 * Creates a frame. Every frame is made here so that it carries its scheduling class; the category is
 * looked up once at creation instead of at every hop.
 */
export function makeFrame<K extends FrameType>(type: K, fields: FrameMap[K]): FrameOf<K> {
  const info = frameTypes[type];
  if (!info) throw new Error(`Unknown frame type "${type}": register it with defineFrameType()`);
  // Header first, payload spread after: V8 builds this shape far faster than spreading the payload first
  // when many frame shapes pass through (measured ~40 ns vs ~2 µs per frame). Payloads never carry these keys.
  return { type, id: nextFrameId++, category: info.category, uninterruptible: info.uninterruptible, ...fields } as FrameOf<K>;
}

/** True for frames an interruption removes from queues. */
export function isInterruptible(frame: Frame): boolean {
  return frame.category !== 'system' && !frame.uninterruptible;
}
