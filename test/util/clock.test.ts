import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.ts';

describe('ManualClock', () => {
  it('runs due timers in time order with now() at each due time', () => {
    const clock = new ManualClock(100);
    const seen: Array<[string, number]> = [];
    clock.setTimeout(() => seen.push(['b', clock.now()]), 30);
    clock.setTimeout(() => seen.push(['a', clock.now()]), 10);
    const cancelled = clock.setTimeout(() => seen.push(['never', clock.now()]), 20);
    clock.clearTimeout(cancelled);
    clock.advance(25);
    expect(seen).toEqual([['a', 110]]);
    expect(clock.now()).toBe(125);
    clock.advance(5);
    expect(seen).toEqual([
      ['a', 110],
      ['b', 130],
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('repeats intervals and runs timers scheduled by callbacks when they fall due', () => {
    const clock = new ManualClock();
    const ticks: number[] = [];
    const interval = clock.setInterval(() => {
      ticks.push(clock.now());
      if (ticks.length === 2) clock.setTimeout(() => ticks.push(-clock.now()), 5);
    }, 20);
    clock.advance(65);
    expect(ticks).toEqual([20, 40, -45, 60]);
    clock.clearInterval(interval);
    clock.advance(100);
    expect(ticks).toHaveLength(4);
  });
});
