import { describe, expect, it } from 'vitest';
import { JitterBuffer } from '../../../src/transports/rtp/jitter-buffer.ts';

const SILENCE = 0xff;
function buffer() {
  return new JitterBuffer({
    clockRate: 8000,
    conceal: (out, previous) => out.fill(previous ? 0x11 : SILENCE),
    silence: (out) => out.fill(SILENCE),
  });
}
/** A 20 ms packet whose bytes all equal `n` (so frames are recognisable). */
const frame = (n: number) => new Uint8Array(160).fill(n);

/** Plays `ticks` frames at 20 ms steps from `startMs`, returning the first byte of each (or the result kind). */
function play(jb: JitterBuffer, startMs: number, ticks: number): Array<number | string> {
  const out = new Uint8Array(160);
  const got: Array<number | string> = [];
  for (let i = 0; i < ticks; i++) {
    const result = jb.pull(out, startMs + i * 20);
    got.push(result === 'audio' ? (out[0] as number) : result);
  }
  return got;
}

describe('JitterBuffer', () => {
  it('waits the target delay, then plays packets in timestamp order (reordering undone)', () => {
    const jb = buffer();
    jb.push(0, frame(1), 0);
    jb.push(320, frame(3), 15);
    jb.push(160, frame(2), 25); // arrived after its successor
    expect(play(jb, 20, 1)).toEqual(['waiting']);
    expect(play(jb, 40, 3)).toEqual([1, 2, 3]);
  });

  it('conceals a lost packet (counted as lost) and plays what follows', () => {
    const jb = buffer();
    jb.push(0, frame(1), 0);
    jb.push(320, frame(3), 40);
    expect(play(jb, 40, 3)).toEqual([1, 'concealed', 3]);
    expect(jb.stats).toMatchObject({ lost: 1, concealed: 1, late: 0 });
  });

  it('drops a late packet (counted) and grows its delay', () => {
    const jb = buffer();
    jb.push(0, frame(1), 0);
    expect(play(jb, 40, 2)).toEqual([1, 'concealed']);
    jb.push(160, frame(2), 75); // its slot has played
    expect(jb.stats.late).toBe(1);
    expect(jb.stats.targetDelayMs).toBe(60);
  });

  it('re-cuts 30 ms packets into 20 ms frames', () => {
    const jb = buffer();
    jb.push(0, new Uint8Array(240).fill(7), 0);
    jb.push(240, new Uint8Array(240).fill(8), 1);
    const out = new Uint8Array(160);
    jb.pull(out, 50);
    expect([out[0], out[159]]).toEqual([7, 7]);
    jb.pull(out, 70);
    expect([out[0], out[79], out[80], out[159]]).toEqual([7, 7, 8, 8]);
    jb.pull(out, 90);
    expect([out[0], out[159]]).toEqual([8, 8]);
  });

  it('plays silence, not loss, when the peer stops sending; resyncs when it comes back much later', () => {
    const jb = buffer();
    jb.push(0, frame(1), 0);
    const got = play(jb, 40, 10);
    expect(got.slice(0, 1)).toEqual([1]);
    expect(got.slice(4)).toEqual(new Array(6).fill('silence'));
    expect(jb.stats.lost).toBe(0);
    jb.push(160 * 500, frame(9), 10_000); // 10 s later in RTP time: a new talkspurt
    expect(jb.stats.resyncs).toBe(1);
    expect(play(jb, 10_040, 2)).toEqual([9, 'concealed']);
  });

  it('counts duplicates and bounds its depth', () => {
    const jb = buffer();
    jb.push(0, frame(1), 0);
    jb.push(0, frame(1), 1);
    expect(jb.stats.duplicates).toBe(1);
    for (let i = 1; i < 200; i++) jb.push(i * 160, frame(2), 2);
    expect(jb.depthMs).toBeLessThanOrEqual(1000);
  });
});
