import { describe, expect, it } from 'vitest';
import { MediaClock, type ClockClient } from '../../src/transports/media-clock.ts';
import { ManualClock } from '../../src/util/clock.ts';

function client(ticksWanted: number, seen: number[]): ClockClient {
  return {
    tick(nowMs) {
      seen.push(nowMs);
      return seen.length < ticksWanted;
    },
  };
}

describe('MediaClock', () => {
  it('ticks a new client at once, then every period, and stops its timer when the last client leaves', () => {
    const time = new ManualClock(1000);
    const clock = new MediaClock({ clock: time });
    const seen: number[] = [];
    clock.activate(client(3, seen));
    expect(seen).toEqual([1000]);
    time.advance(45);
    expect(seen).toEqual([1000, 1020, 1040]);
    expect(clock.activeClients).toBe(0);
    expect(time.pendingTimers).toBe(0);
  });

  it('serves every client in one wake-up and keeps going when one of them throws', () => {
    const time = new ManualClock();
    const clock = new MediaClock({ clock: time });
    const a: number[] = [];
    const b: number[] = [];
    clock.activate(client(10, a));
    let brokenTicks = 0;
    clock.activate({
      tick: () => {
        if (++brokenTicks > 1) throw new Error('broken');
        return true;
      },
    });
    clock.activate(client(10, b));
    time.advance(40);
    expect(a).toEqual([0, 20, 40]);
    expect(b).toEqual([0, 20, 40]);
    expect(clock.activeClients).toBe(2);
    clock.deactivate({ tick: () => true });
    expect(time.pendingTimers).toBe(1);
  });
});
