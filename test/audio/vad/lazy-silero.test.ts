/** LazySileroInference: the model loads on the first window, once, and a failed load is retried by the next window. */
import { describe, expect, it } from 'vitest';
import { LazySileroInference } from '../../../src/audio/vad/lazy-silero.ts';
import type { SileroInference } from '../../../src/audio/vad/silero-model.ts';

describe('LazySileroInference', () => {
  it('loads nothing until the first window, then loads once for every stream', async () => {
    let loads = 0;
    const inner: SileroInference = { infer: async (input) => input[0] as number };
    const lazy = new LazySileroInference(async () => {
      loads++;
      return inner;
    });
    expect(loads).toBe(0);
    const results = await Promise.all([0.1, 0.9, 0.5].map((p) => lazy.infer(new Float32Array([p]), new Float32Array(256), 8000)));
    expect(results.map((r) => Math.round(r * 10) / 10)).toEqual([0.1, 0.9, 0.5]);
    expect(loads).toBe(1);
  });

  it('a failed load fails that window and is retried by the next', async () => {
    let attempt = 0;
    const lazy = new LazySileroInference(async () => {
      attempt++;
      if (attempt === 1) throw new Error('model file missing');
      return { infer: async () => 0.7 };
    });
    await expect(lazy.infer(new Float32Array(1), new Float32Array(256), 8000)).rejects.toThrow('model file missing');
    await expect(lazy.infer(new Float32Array(1), new Float32Array(256), 8000)).resolves.toBeCloseTo(0.7);
    expect(attempt).toBe(2);
  });
});
