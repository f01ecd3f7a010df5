import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TurnLatency } from '../agent/turn-metrics.ts';

/** Where the call manager reports what it measures. */
export interface CallMetricsSink {
  callStarted(carrier: string): void;
  callEnded(carrier: string): void;
  turnLatency(latency: TurnLatency): void;
  /** Callee speech onset → carrier `clear` sent. */
  bargeIn(ms: number): void;
  providerTtfb(processor: string, ms: number): void;
  /** `kind`: the failing part, e.g. `carrier`, `SttProcessor`, `LlmProcessor`. */
  error(kind: string): void;
}

export const noCallMetrics: CallMetricsSink = {
  callStarted: () => {},
  callEnded: () => {},
  turnLatency: () => {},
  bargeIn: () => {},
  providerTtfb: () => {},
  error: () => {},
};

// Latency buckets in ms: fine at the low end (our overhead), wide for voice-to-voice.
const overheadBuckets = [0.5, 1, 2, 3, 5, 8, 13, 20, 50, 100, 250];
const latencyBuckets = [50, 100, 200, 300, 400, 500, 650, 800, 1000, 1300, 1600, 2000, 3000, 5000];

/** Prometheus metrics for `GET /metrics` (prom-client), one registry per server. */
export class PrometheusCallMetrics implements CallMetricsSink {
  readonly registry = new Registry();
  private readonly active: Gauge;
  private readonly calls: Counter;
  private readonly voiceToVoice: Histogram;
  private readonly overhead: Histogram;
  private readonly stage: Histogram;
  private readonly bargeInHist: Histogram;
  private readonly ttfb: Histogram;
  private readonly errors: Counter;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'switchboard_process_' });
    this.active = new Gauge({ name: 'switchboard_active_calls', help: 'Calls with a live media stream', registers });
    this.calls = new Counter({
      name: 'switchboard_calls_started_total',
      help: 'Media streams started, by carrier',
      labelNames: ['carrier'],
      registers,
    });
    this.voiceToVoice = new Histogram({
      name: 'switchboard_voice_to_voice_ms',
      help: 'Callee stopped speaking → first bot audio written to the carrier socket',
      buckets: latencyBuckets,
      registers,
    });
    this.overhead = new Histogram({
      name: 'switchboard_framework_overhead_ms',
      help: 'Voice-to-voice minus provider time minus the turn-end wait: the part Switchboard owns',
      buckets: overheadBuckets,
      registers,
    });
    this.stage = new Histogram({
      name: 'switchboard_turn_stage_ms',
      help: 'Per-turn milestones after the callee stopped speaking',
      labelNames: ['stage'],
      buckets: latencyBuckets,
      registers,
    });
    this.bargeInHist = new Histogram({
      name: 'switchboard_barge_in_ms',
      help: 'Callee speech onset → clear sent to the carrier',
      buckets: [100, 200, 250, 300, 400, 500, 600, 800, 1000, 1500],
      registers,
    });
    this.ttfb = new Histogram({
      name: 'switchboard_provider_ttfb_ms',
      help: 'Provider time to first byte (STT final, LLM token, TTS audio)',
      labelNames: ['processor'],
      buckets: latencyBuckets,
      registers,
    });
    this.errors = new Counter({ name: 'switchboard_errors_total', help: 'Errors by kind', labelNames: ['kind'], registers });
  }

  callStarted(carrier: string): void {
    this.active.inc();
    this.calls.inc({ carrier });
  }

  callEnded(): void {
    this.active.dec();
  }

  turnLatency(latency: TurnLatency): void {
    this.voiceToVoice.observe(latency.voiceToVoiceMs);
    this.overhead.observe(Math.max(0, latency.overheadMs));
    if (latency.sttFinalMs !== undefined) this.stage.observe({ stage: 'stt_final' }, latency.sttFinalMs);
    if (latency.llmFirstTokenMs !== undefined) this.stage.observe({ stage: 'llm_first_token' }, latency.llmFirstTokenMs);
    if (latency.ttsFirstAudioMs !== undefined) this.stage.observe({ stage: 'tts_first_audio' }, latency.ttsFirstAudioMs);
    this.stage.observe({ stage: 'first_audio_out' }, latency.firstAudioOutMs);
  }

  bargeIn(ms: number): void {
    this.bargeInHist.observe(ms);
  }

  providerTtfb(processor: string, ms: number): void {
    this.ttfb.observe({ processor }, ms);
  }

  error(kind: string): void {
    this.errors.inc({ kind });
  }
}
