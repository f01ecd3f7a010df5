import { describe, expect, it } from 'vitest';
import { ReplayBuffer } from '../../../src/services/stt/replay-buffer.ts';

function contents(buffer: ReplayBuffer, from = buffer.start, piece = Infinity): number[] {
  const out: number[] = [];
  buffer.forEach(from, piece, (p) => out.push(...p));
  return out;
}

const bytes = (from: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

describe('ReplayBuffer', () => {
  it('keeps bytes by absolute position across growth and wrap-around', () => {
    const buffer = new ReplayBuffer(1000, 16);
    let pos = 0;
    for (const n of [10, 7, 30, 100, 3, 250]) {
      buffer.push(bytes(pos, n));
      pos += n;
      buffer.dropBefore(pos - 40);
    }
    expect(buffer.end).toBe(pos);
    expect(buffer.start).toBe(pos - 40);
    expect(contents(buffer)).toEqual(Array.from(bytes(pos - 40, 40)));
    expect(contents(buffer, pos - 5, 2)).toEqual(Array.from(bytes(pos - 5, 5)));
  });

  it('drops the oldest bytes beyond maxBytes and copies what is pushed', () => {
    const buffer = new ReplayBuffer(64, 8);
    const chunk = bytes(0, 50);
    buffer.push(chunk);
    chunk.fill(0);
    buffer.push(bytes(50, 50));
    expect(buffer.length).toBe(64);
    expect(buffer.start).toBe(36);
    expect(contents(buffer)).toEqual(Array.from(bytes(36, 64)));
    buffer.push(bytes(100, 200)); // larger than the whole buffer
    expect(buffer.start).toBe(236);
    expect(contents(buffer)).toEqual(Array.from(bytes(236, 64)));
  });
});
