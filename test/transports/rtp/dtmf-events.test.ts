import { describe, expect, it } from 'vitest';
import { DtmfReceiver, planDtmf } from '../../../src/transports/rtp/dtmf-events.ts';

const event = (code: number, end: boolean, duration: number) =>
  new Uint8Array([code, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff]);

describe('RFC 4733 DTMF', () => {
  it('reports each event once, by timestamp, whatever the marker and repeats', () => {
    const receiver = new DtmfReceiver();
    const got: Array<string | undefined> = [];
    // "5": start, continuation, three end packets — all one timestamp.
    for (const [end, d] of [
      [false, 160],
      [false, 320],
      [true, 480],
      [true, 480],
      [true, 480],
    ] as const)
      got.push(receiver.receive(event(5, end, d), 1000, 1));
    // "#" whose first packets were lost (no marker seen): reported from the first packet that arrives.
    got.push(receiver.receive(event(11, true, 800), 3000, 1));
    got.push(receiver.receive(event(11, true, 800), 3000, 1));
    // Same digit again: a new event has a new timestamp.
    got.push(receiver.receive(event(5, false, 160), 5000, 1));
    expect(got.filter(Boolean)).toEqual(['5', '#', '5']);
  });

  it('ignores events it cannot map and short payloads', () => {
    const receiver = new DtmfReceiver();
    expect(receiver.receive(event(16, false, 160), 1, 1)).toBeUndefined(); // flash
    expect(receiver.receive(new Uint8Array(2), 2, 1)).toBeUndefined();
    expect(receiver.ignored).toBe(1);
  });

  it('sends a digit as growing-duration packets, then three end packets, then a gap', () => {
    const plan = planDtmf('1', 8000, { toneMs: 100, gapMs: 60 });
    const packets = plan.filter((p) => p !== null);
    expect(packets.map((p) => [p.duration, p.end, p.first])).toEqual([
      [160, false, true],
      [320, false, false],
      [480, false, false],
      [640, false, false],
      [800, false, false],
      [800, true, false],
      [800, true, false],
      [800, true, false],
    ]);
    expect(plan.slice(packets.length)).toEqual([null, null, null]);
    expect(planDtmf('x', 8000)).toEqual([]);
  });
});
