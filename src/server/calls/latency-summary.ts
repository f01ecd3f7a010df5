import type { TurnLatency } from '../../agent/turn-metrics.ts';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** A call's latency summary from its turns: voice-to-voice and framework overhead p50/p95/max. */
export function summariseLatency(latencies: TurnLatency[]): Record<string, unknown> {
  const v2v = latencies.map((l) => l.voiceToVoiceMs);
  const overhead = latencies.map((l) => l.overheadMs);
  return {
    turns: latencies.length,
    voiceToVoiceMs: { p50: percentile(v2v, 50), p95: percentile(v2v, 95), max: Math.max(...v2v) },
    overheadMs: { p50: percentile(overhead, 50), p95: percentile(overhead, 95), max: Math.max(...overhead) },
  };
}
