import type { FrameHop, FrameObserver } from '../pipeline/observer.ts';
import '../transports/output-frames.ts';

/**
 * Timings of one reply, in ms after the callee stopped speaking (VAD's real speech end):
 * stopped speaking → STT final → LLM first token → first TTS audio → first audio frame to the carrier.
 */
export interface TurnLatency {
  /** `Date.now()` when the callee stopped speaking. */
  userStoppedAt: number;
  /** When our VAD decided the turn was over (the configured turn-end wait, as realised). */
  turnEndMs: number;
  /** Negative when the transcript was final before the caller's speech ended (trailing sound without words). */
  sttFinalMs?: number;
  llmFirstTokenMs?: number;
  ttsFirstAudioMs?: number;
  firstAudioOutMs: number;
  /** Voice to voice: callee stopped → first bot audio written to the carrier socket. */
  voiceToVoiceMs: number;
  /**
   * Provider time on the critical path: STT's wait after the turn ended, the LLM's request → first token,
   * and first token → first TTS audio (the LLM writing the first sentence plus TTS time to first byte).
   */
  providerMs: number;
  /** Time the agent's own tools ran before the reply (user code: neither provider nor framework time). */
  toolMs?: number;
  /** What we own: voice-to-voice minus provider time, tool time and the turn-end wait. */
  overheadMs: number;
}

/** One LLM run for a caller turn (it may start before the turn's stop is announced: an early reply). */
interface Run {
  runAt: number;
  sttFinalAt?: number;
  llmFirstTokenAt?: number;
  /** Time waiting on the LLM provider until the first spoken token, over all its requests (its `ttfb` metric). */
  llmTtfbMs?: number;
  toolMs?: number;
  ttsFirstAudioAt?: number;
}

interface PendingTurn {
  userStoppedMs: number;
  turnEndAt: number;
  run?: Run;
}

export interface TurnMetricsEvents {
  onTurnLatency?(utteranceId: string, latency: TurnLatency): void;
  /** Callee speech onset → carrier `clear` sent, in ms. */
  onBargeInLatency?(ms: number): void;
  /** A provider's time to first byte (metrics frames), e.g. for Prometheus. */
  onProviderTtfb?(processor: string, ms: number): void;
}

/**
 * Watches frame hops to time each reply (Pipecat's latency observers, done as one). Needs no processor of
 * its own: it reads the frames the turn, LLM, TTS and output stages already push.
 */
export class TurnMetricsObserver implements FrameObserver {
  private pending: PendingTurn | undefined;
  private lastFinalAt: number | undefined;
  /** Start (`atSec`) of the caller turn under way: a final from an earlier turn is never this turn's. */
  private turnStartedAtSec: number | undefined;
  /** The latest `llm.run` from the turn processor (an early reply can start before the turn's stop is announced). */
  private run: Run | undefined;
  private bargeInOnsetMs: number | undefined;
  /** When the output last paused for caller speech (the bot went quiet: its carrier buffer was cleared). */
  private pausedForCallerAt: number | undefined;
  /** A frame is counted at its first hop only (metrics frames travel on through later stages). */
  private lastMetricsFrameId = 0;
  /** Offset from the `performance.now()` clock to wall-clock ms. */
  private readonly wallOffset = Date.now() - performance.now();

  constructor(private readonly events: TurnMetricsEvents) {}

  /**
   * The turn processor decided a barge-in whose speech began at `onsetMs` (`performance.now()` clock). The
   * bot went quiet when playback paused at the speech's onset (the carrier was cleared then), or else when
   * the interruption reaches the output.
   */
  noteBargeIn(onsetMs: number): void {
    const paused = this.pausedForCallerAt;
    this.pausedForCallerAt = undefined;
    if (paused !== undefined && paused >= onsetMs - 1) {
      this.events.onBargeInLatency?.(paused - onsetMs);
      return;
    }
    this.bargeInOnsetMs = onsetMs;
  }

  onHop(hop: FrameHop): void {
    const frame = hop.frame;
    switch (frame.type) {
      case 'user.speech.started':
        // A caller going on after a pause re-announces the same start; a new turn forgets the last one's final.
        if (hop.source === 'UserTurnProcessor' && hop.direction === 'downstream' && frame.atSec !== this.turnStartedAtSec) {
          this.turnStartedAtSec = frame.atSec;
          this.lastFinalAt = undefined;
        }
        return;
      case 'transcription':
        if (frame.final && hop.destination === 'UserTurnProcessor') this.lastFinalAt = hop.atMs;
        return;
      case 'user.speech.stopped':
        // A final that came before the VAD decision (endpointing beat the turn-end wait) still counts.
        if (hop.source === 'UserTurnProcessor' && hop.direction === 'downstream') {
          this.pending = { userStoppedMs: frame.atMs, turnEndAt: hop.atMs };
          // A reply started as soon as the caller paused, before this stop was announced, belongs to this turn.
          if (this.run && this.run.runAt >= frame.atMs) this.pending.run = this.run;
        }
        return;
      case 'llm.run':
        if (hop.source !== 'UserTurnProcessor') return;
        this.run = { runAt: hop.atMs, ...(this.lastFinalAt !== undefined ? { sttFinalAt: this.lastFinalAt } : {}) };
        if (this.pending && this.pending.run === undefined) this.pending.run = this.run;
        return;
      case 'llm.text':
        if (this.run && this.run.llmFirstTokenAt === undefined) this.run.llmFirstTokenAt = hop.atMs;
        return;
      case 'tts.audio':
        if (this.run && this.run.ttsFirstAudioAt === undefined) this.run.ttsFirstAudioAt = hop.atMs;
        return;
      case 'metrics':
        if (frame.id <= this.lastMetricsFrameId) return;
        this.lastMetricsFrameId = frame.id;
        for (const data of frame.data) {
          if (data.kind === 'processing' && data.processor === 'LlmProcessor:tools' && this.run) {
            this.run.toolMs = (this.run.toolMs ?? 0) + data.valueMs;
          }
          if (data.kind !== 'ttfb') continue;
          this.events.onProviderTtfb?.(data.processor, data.valueMs);
          if (data.processor === 'LlmProcessor' && this.run && this.run.llmTtfbMs === undefined) this.run.llmTtfbMs = data.valueMs;
        }
        return;
      case 'output.pause':
        if (hop.destination === 'TransportOutput' && frame.reason === 'caller-speech') this.pausedForCallerAt = hop.atMs;
        return;
      case 'interruption':
        if (hop.destination === 'TransportOutput' && this.bargeInOnsetMs !== undefined) {
          this.events.onBargeInLatency?.(hop.atMs - this.bargeInOnsetMs);
          this.bargeInOnsetMs = undefined;
        }
        return;
      case 'bot.speech.started':
        if (hop.source === 'TransportOutput' && hop.direction === 'downstream') this.complete(frame.utteranceId, hop.atMs);
        return;
      default:
        return;
    }
  }

  private complete(utteranceId: string, firstAudioOutAt: number): void {
    const pending = this.pending;
    const run = pending?.run;
    if (!pending || !run) return;
    this.pending = undefined;
    const turn = { ...run, userStoppedMs: pending.userStoppedMs, turnEndAt: pending.turnEndAt };
    const since = (at: number | undefined) => (at === undefined ? undefined : at - turn.userStoppedMs);
    const turnEndMs = turn.turnEndAt - turn.userStoppedMs;
    const voiceToVoiceMs = firstAudioOutAt - turn.userStoppedMs;
    const sttWait = turn.sttFinalAt !== undefined ? Math.max(0, turn.sttFinalAt - turn.turnEndAt) : 0;
    const llm = turn.llmTtfbMs ?? (turn.llmFirstTokenAt !== undefined ? turn.llmFirstTokenAt - turn.runAt : 0);
    const toAudio =
      turn.ttsFirstAudioAt !== undefined && turn.llmFirstTokenAt !== undefined ? turn.ttsFirstAudioAt - turn.llmFirstTokenAt : 0;
    const providerMs = sttWait + llm + toAudio;
    const latency: TurnLatency = {
      userStoppedAt: Math.round(turn.userStoppedMs + this.wallOffset),
      turnEndMs: round(turnEndMs),
      firstAudioOutMs: round(voiceToVoiceMs),
      voiceToVoiceMs: round(voiceToVoiceMs),
      providerMs: round(providerMs),
      overheadMs: round(voiceToVoiceMs - providerMs - (turn.toolMs ?? 0) - turnEndMs),
    };
    if (turn.toolMs !== undefined) latency.toolMs = round(turn.toolMs);
    const stt = since(turn.sttFinalAt);
    if (stt !== undefined) latency.sttFinalMs = round(stt);
    const first = since(turn.llmFirstTokenAt);
    if (first !== undefined) latency.llmFirstTokenMs = round(first);
    const audio = since(turn.ttsFirstAudioAt);
    if (audio !== undefined) latency.ttsFirstAudioMs = round(audio);
    this.events.onTurnLatency?.(utteranceId, latency);
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;
