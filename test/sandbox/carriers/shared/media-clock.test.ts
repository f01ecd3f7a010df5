import { describe, expect, it } from 'vitest';
import { MediaClock } from '../../../../src/sandbox/carriers/shared/media-clock.ts';

describe('MediaClock', () => {
  it('ticks every 20 ms for all listeners in one wake-up and stops when the last one leaves', async () => {
    const clock = new MediaClock();
    const a: number[] = [];
    const b: number[] = [];
    const offA = clock.add((t) => a.push(t));
    const offB = clock.add((t) => b.push(t));
    await new Promise((r) => setTimeout(r, 500));
    offA();
    offB();
    expect(clock.running).toBe(false);
    // 500 ms at 50 ticks/s ≈ 25 ticks (timer start-up and scheduling jitter allowed)
    expect(a.length).toBeGreaterThanOrEqual(22);
    expect(a.length).toBeLessThanOrEqual(26);
    expect(b).toEqual(a);
    for (let i = 1; i < a.length; i++) expect((a[i] as number) - (a[i - 1] as number)).toBeCloseTo(20, 6);
    const stats = clock.snapshot();
    expect(stats.ticks).toBe(a.length);
    expect(stats.wakeUps).toBeGreaterThan(0);
  });

  it('runs missed ticks back to back after the event loop stalls', async () => {
    const clock = new MediaClock();
    const ticks: number[] = [];
    const off = clock.add((t) => ticks.push(t));
    await new Promise((r) => setTimeout(r, 50));
    const stallUntil = performance.now() + 110;
    while (performance.now() < stallUntil) {
      // block the loop for ~5 frames
    }
    await new Promise((r) => setTimeout(r, 60));
    off();
    expect(clock.snapshot().catchUpTicks).toBeGreaterThanOrEqual(4);
    // nominal tick times stay on the 20 ms grid
    for (let i = 1; i < ticks.length; i++) expect((ticks[i] as number) - (ticks[i - 1] as number)).toBeCloseTo(20, 6);
  });
});
