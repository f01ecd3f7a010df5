/** RSS per call from several runs: least squares of (steady − idle) RSS over the call count. */
import { describe, expect, it } from 'vitest';
import { leastSquares } from '../../bench/load.ts';

describe('leastSquares (bench RSS per call)', () => {
  it('recovers slope and intercept of a line through noisy points', () => {
    // 0.8 MB per call on 5 MB of fixed growth, with ±2 MB of noise that cancels out over the points.
    const points = [10, 25, 50, 100].flatMap((x) => [
      { x, y: 5 + 0.8 * x + 2 },
      { x, y: 5 + 0.8 * x - 2 },
    ]);
    const fit = leastSquares(points);
    expect(fit.slope).toBeCloseTo(0.8, 10);
    expect(fit.intercept).toBeCloseTo(5, 10);
    expect(fit.r2).toBeGreaterThan(0.98);
    expect(fit.r2).toBeLessThan(1);
  });

  it('gives no slope when every run had the same call count', () => {
    const fit = leastSquares([
      { x: 50, y: 30 },
      { x: 50, y: 40 },
    ]);
    expect(fit.slope).toBeNaN();
    expect(fit.r2).toBeNaN();
  });
});
