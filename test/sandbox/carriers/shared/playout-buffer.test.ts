import { describe, expect, it } from 'vitest';
import { FRAME_BYTES, PlayoutBuffer } from '../../../../src/sandbox/carriers/shared/playout-buffer.ts';

const tone = (frames: number, value = 0x10): Uint8Array => new Uint8Array(frames * FRAME_BYTES).fill(value);

/** Pulls `n` ticks starting at `t0` (20 ms apart); returns what each tick produced. */
function play(buffer: PlayoutBuffer, t0: number, n: number) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const p = buffer.pull(t0 + 20 * i);
    out.push({ at: t0 + 20 * i, audioBytes: p.audioBytes, marks: p.reachedMarks.map((m) => m.name), first: p.frame[0] });
  }
  return out;
}

describe('PlayoutBuffer', () => {
  it('plays 20 ms per tick and pads the rest of the frame with silence', () => {
    const b = new PlayoutBuffer();
    b.enqueueAudio(new Uint8Array(200).fill(0x10), 0);
    const ticks = play(b, 0, 3);
    expect(ticks.map((t) => t.audioBytes)).toEqual([160, 40, 0]);
    expect(ticks[2]?.first).toBe(0xff);
  });

  it('reaches a mark at the tick after the audio before it finished playing', () => {
    const b = new PlayoutBuffer();
    b.enqueueAudio(tone(3), 0);
    b.enqueueMark('m1', 0);
    const ticks = play(b, 20, 5);
    // frames play at 20, 40, 60; the third frame ends at 80 → mark reached at the tick at 80
    expect(ticks.find((t) => t.marks.length > 0)?.at).toBe(80);
  });

  it('reaches a mark passed mid-frame when that frame has played', () => {
    const b = new PlayoutBuffer();
    b.enqueueAudio(new Uint8Array(80).fill(0x10), 0);
    b.enqueueMark('half', 0);
    b.enqueueAudio(new Uint8Array(80).fill(0x20), 0);
    const ticks = play(b, 0, 3);
    expect(ticks[0]?.audioBytes).toBe(160); // playback continues across the mark
    expect(ticks[1]?.marks).toEqual(['half']);
  });

  it('a mark with nothing queued before it is reached at the next tick', () => {
    const b = new PlayoutBuffer();
    b.enqueueMark('now', 5);
    expect(play(b, 20, 1)[0]?.marks).toEqual(['now']);
  });

  it('clear drops queued audio and returns the pending marks', () => {
    const b = new PlayoutBuffer();
    b.enqueueAudio(tone(10), 0);
    b.enqueueMark('a', 0);
    b.enqueueAudio(tone(5), 0);
    b.enqueueMark('b', 0);
    play(b, 0, 2);
    const { droppedBytes, pendingMarks } = b.clear();
    expect(droppedBytes).toBe(13 * FRAME_BYTES);
    expect(pendingMarks.map((m) => m.name)).toEqual(['a', 'b']);
    expect(play(b, 40, 2).every((t) => t.audioBytes === 0 && t.marks.length === 0)).toBe(true);
    expect(b.stats.clearedBytes).toBe(13 * FRAME_BYTES);
  });

  it('counts frames as late when they arrive more than 20 ms after the audio before them ran out', () => {
    const b = new PlayoutBuffer();
    b.enqueueAudio(tone(2), 0);
    play(b, 0, 3); // plays at 0, 20; runs dry at 40
    b.enqueueAudio(tone(4), 95); // due from 40: frames due 40, 60, 80, 100 → late if arrival - due > 20
    expect(b.stats.lateFrames).toBe(2); // due 40 and 60 (55 and 35 ms late); 80 (15 ms) and 100 are in time
    expect(b.stats.maxLatenessMs).toBe(55);
    expect(b.stats.underruns).toEqual([{ dryAt: 40, resumedAt: 95, gapMs: 55, lateFrames: 2 }]);
  });

  it('audio arriving within one frame of running dry is not late', () => {
    const b = new PlayoutBuffer();
    b.enqueueAudio(tone(2), 0);
    play(b, 0, 3); // dry at 40
    b.enqueueAudio(tone(2), 58);
    expect(b.stats.lateFrames).toBe(0);
  });

  it('a pause after a mark starts a new utterance, not late frames', () => {
    const b = new PlayoutBuffer();
    b.enqueueAudio(tone(2), 0);
    b.enqueueMark('end-of-utterance', 0);
    play(b, 0, 10);
    b.enqueueAudio(tone(2), 1000);
    expect(b.stats.lateFrames).toBe(0);
  });

  it('audio sent ahead of time is never late', () => {
    const b = new PlayoutBuffer();
    for (let i = 0; i < 50; i++) b.enqueueAudio(tone(1), 0);
    play(b, 0, 60);
    expect(b.stats.lateFrames).toBe(0);
    expect(b.stats.framesReceived).toBe(50);
    expect(b.stats.framesPlayed).toBe(50);
  });
});
