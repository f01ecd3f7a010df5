/**
 * A Silero inference that loads its model on first use. A server loads the VAD model (onnxruntime's native
 * library and the session, tens of MB resident) when its first call needs it, not at start-up, so an idle
 * process stays small. The first window waits for the load (once per process); a failed load is retried by
 * the next window.
 */
import type { SileroInference, SileroSampleRate } from './silero-model.ts';

export class LazySileroInference implements SileroInference {
  private inner: Promise<SileroInference> | undefined;

  constructor(private readonly make: () => Promise<SileroInference>) {}

  /** The loaded inference (loading it now if it is not yet). */
  load(): Promise<SileroInference> {
    if (!this.inner) {
      const loading = this.make();
      this.inner = loading;
      loading.catch(() => {
        if (this.inner === loading) this.inner = undefined;
      });
    }
    return this.inner;
  }

  async infer(input: Float32Array, state: Float32Array, sampleRate: SileroSampleRate): Promise<number> {
    const inference = await this.load();
    return inference.infer(input, state, sampleRate);
  }
}
