/**
 * Coalesces Silero windows from many streams into batched inferences.
 *
 * Every `infer` call made during one event-loop turn (e.g. the media frames of many calls arriving together) is
 * queued; on the next `setImmediate` the queue is run as one `[batch, 288|576]` inference per sample rate (in
 * slices of at most `maxBatch`), and each caller gets its own probability and state back. Results equal
 * single-stream inference up to float rounding (the model treats batch rows independently).
 *
 * Measured on the dev box (2 cores, onnxruntime-node 1.30, 8 kHz): ≈ 100 µs per window alone vs ≈ 30 µs
 * per stream at batch 32 — see `bench/audio.ts`. It adds up to one event-loop turn of latency.
 */
import {
  SILERO_STATE_SIZE,
  sileroContextSize,
  sileroWindowSize,
  type SileroInference,
  type SileroModel,
  type SileroSampleRate,
} from './silero-model.ts';

/** Rounds per event-loop turn: a stream can catch up by this many windows (× 32 ms) per turn. */
const MAX_ROUNDS_PER_TURN = 4;
/** Microtask hops a stream needs from receiving a probability to queueing its next window. */
const CATCH_UP_TICKS = 16;

export interface SileroBatcherOptions {
  /** Largest batch per inference; bigger queues are split. @default 64 */
  maxBatch?: number;
}

interface Pending {
  input: Float32Array;
  state: Float32Array;
  resolve: (probability: number) => void;
  reject: (err: unknown) => void;
}

export class SileroBatcher implements SileroInference {
  private readonly model: SileroModel;
  private readonly maxBatch: number;
  private readonly queues = new Map<SileroSampleRate, Pending[]>();
  private scheduled = false;
  /** Number of inferences run and windows scored, for metrics. */
  batches = 0;
  windows = 0;

  constructor(model: SileroModel, opts: SileroBatcherOptions = {}) {
    this.model = model;
    this.maxBatch = Math.max(1, opts.maxBatch ?? 64);
  }

  infer(input: Float32Array, state: Float32Array, sampleRate: SileroSampleRate): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let queue = this.queues.get(sampleRate);
      if (!queue) {
        queue = [];
        this.queues.set(sampleRate, queue);
      }
      queue.push({ input, state, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /**
   * Runs everything queued, then — while streams that just got their results queue their next window —
   * further rounds in the same turn (at most {@link MAX_ROUNDS_PER_TURN}). Without the extra rounds each
   * stream advances one 32 ms window per event-loop turn, so once a busy server's turns take longer than
   * 32 ms, VAD falls further and further behind real time.
   */
  private async flush(): Promise<void> {
    for (let round = 0; round < MAX_ROUNDS_PER_TURN; round++) {
      const runs: Array<Promise<void>> = [];
      for (const [sampleRate, queue] of this.queues) {
        if (queue.length === 0) continue;
        const taken = queue.splice(0, queue.length);
        for (let i = 0; i < taken.length; i += this.maxBatch) runs.push(this.runSlice(taken.slice(i, i + this.maxBatch), sampleRate));
      }
      if (runs.length === 0) break;
      await Promise.all(runs);
      // Let the streams just answered run on to their next window (a few promise hops), then batch those.
      for (let tick = 0; tick < CATCH_UP_TICKS; tick++) await Promise.resolve();
    }
    this.scheduled = false;
    if ([...this.queues.values()].some((queue) => queue.length > 0)) {
      this.scheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  private async runSlice(slice: Pending[], sampleRate: SileroSampleRate): Promise<void> {
    const batch = slice.length;
    const row = sileroWindowSize(sampleRate) + sileroContextSize(sampleRate);
    const inputs = new Float32Array(batch * row);
    const states = new Float32Array(batch * SILERO_STATE_SIZE);
    const half = SILERO_STATE_SIZE / 2; // 128 floats per layer
    for (let b = 0; b < batch; b++) {
      const p = slice[b] as Pending;
      inputs.set(p.input, b * row);
      // Per-stream state is [2, 128]; the batch wants [2, batch, 128].
      states.set(p.state.subarray(0, half), b * half);
      states.set(p.state.subarray(half), (batch + b) * half);
    }
    try {
      const probs = await this.model.runBatch(inputs, states, batch, sampleRate);
      this.batches++;
      this.windows += batch;
      for (let b = 0; b < batch; b++) {
        const p = slice[b] as Pending;
        p.state.set(states.subarray(b * half, (b + 1) * half), 0);
        p.state.set(states.subarray((batch + b) * half, (batch + b + 1) * half), half);
        p.resolve(probs[b] as number);
      }
    } catch (err) {
      for (const p of slice) p.reject(err);
    }
  }
}
