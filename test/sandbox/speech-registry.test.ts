import { beforeAll, describe, expect, it } from 'vitest';
import { SpeechRegistry, type SpeechLineInput, type SpeechMatch } from '../../src/sandbox/speech-registry.ts';
import { concat, silence, speakLine } from '../services/stt/speech-fixture.ts';

let lineA: SpeechLineInput;
let lineB: SpeechLineInput;
let unregistered: SpeechLineInput;

beforeAll(async () => {
  lineA = await speakLine('Hello, this is Maria from the dental clinic.');
  lineB = await speakLine('Could we move my appointment to Friday?');
  unregistered = await speakLine('Nobody registered these words at all.');
});

/** Feeds `stream` to a fresh matcher in pseudo-random chunk sizes (1…700 bytes); returns the matches. */
function matchAll(registry: SpeechRegistry, stream: Uint8Array, seed = 7): SpeechMatch[] {
  const matcher = registry.createMatcher();
  const found: SpeechMatch[] = [];
  matcher.onMatch = (m) => found.push(m);
  let state = seed;
  for (let i = 0; i < stream.length;) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    const n = 1 + (state % 700);
    matcher.push(stream.subarray(i, i + n));
    i += n;
  }
  return found;
}

describe('SpeechRegistry', () => {
  it('finds which line a re-chunked stream carries and where the line starts, at any byte alignment', () => {
    const registry = new SpeechRegistry();
    const a = registry.register(lineA);
    const b = registry.register(lineB);
    for (const lead of [0, 1, 37, 159, 161, 1000]) {
      const stream = concat([silence(0.3), new Uint8Array(lead).fill(0xff), a.mulaw, silence(0.5), b.mulaw, silence(0.2)]);
      const found = matchAll(registry, stream, lead + 1);
      expect(found.map((m) => m.line.id)).toEqual([a.id, b.id]);
      const startA = 2400 + lead;
      const startB = startA + a.mulaw.length + 4000;
      expect(found[0]!.lineStartPos).toBe(startA);
      expect(found[1]!.lineStartPos).toBe(startB);
      expect(found.every((m) => m.complete && !m.active)).toBe(true);
      expect(found[0]!.toPos).toBe(startA + a.mulaw.length);
      expect(found[1]!.fromPos).toBeLessThanOrEqual(startB + 320);
    }
  });

  it('locates a stream that begins in the middle of a line (negative line start)', () => {
    const registry = new SpeechRegistry();
    const a = registry.register(lineA);
    const cut = 5003; // mid-line, not on a frame boundary
    const found = matchAll(registry, concat([a.mulaw.subarray(cut), silence(0.2)]));
    expect(found).toHaveLength(1);
    expect(found[0]!.lineStartPos).toBe(-cut);
    expect(found[0]!.fromPos).toBe(0);
    expect(found[0]!.complete).toBe(true);
  });

  it('reports where a line stops when the stream diverges (callee cut off mid-line)', () => {
    const registry = new SpeechRegistry();
    const a = registry.register(lineA);
    const stop = 9000;
    const found = matchAll(registry, concat([silence(0.2), a.mulaw.subarray(0, stop), silence(1)]));
    expect(found).toHaveLength(1);
    expect(found[0]!.complete).toBe(false);
    // The match ends where the line's bytes stop; a few trailing bytes may coincide with silence.
    expect(found[0]!.toPos - 1600).toBeGreaterThanOrEqual(stop);
    expect(found[0]!.toPos - 1600).toBeLessThan(stop + 160);
  });

  it('does not index digital silence and does not match audio nobody registered', () => {
    const registry = new SpeechRegistry();
    registry.register({ text: '(silence)', mulaw: silence(2), words: [] });
    registry.register(lineA);
    expect(matchAll(registry, silence(3))).toEqual([]);
    expect(matchAll(registry, concat([silence(0.2), unregistered.mulaw]))).toEqual([]);
  });

  it('treats the two μ-law zero codes alike (audio decoded and re-encoded on the way)', () => {
    const registry = new SpeechRegistry();
    const a = registry.register(lineA);
    const reencoded = a.mulaw.map((b) => (b === 0xff ? 0x7f : b));
    expect(reencoded.some((b, i) => b !== a.mulaw[i])).toBe(true);
    expect(matchAll(registry, reencoded).map((m) => m.line.id)).toEqual([a.id]);
  });

  it('keeps memory bounded: the oldest lines are evicted and no longer matched', () => {
    const registry = new SpeechRegistry({ maxLines: 2 });
    const a = registry.register(lineA);
    const b = registry.register(lineB);
    const c = registry.register(unregistered);
    expect(registry.size).toBe(2);
    expect(registry.get(a.id)).toBeUndefined();
    expect(matchAll(registry, a.mulaw)).toEqual([]);
    expect(matchAll(registry, concat([b.mulaw, c.mulaw])).map((m) => m.line.id)).toEqual([b.id, c.id]);

    const byBytes = new SpeechRegistry({ maxAudioBytes: lineA.mulaw.length + lineB.mulaw.length });
    byBytes.register(lineA);
    byBytes.register(lineB);
    byBytes.register(unregistered);
    expect(byBytes.size).toBeLessThanOrEqual(2);
  });

  it('copies the registered audio, so later changes to the caller buffer do not matter', () => {
    const registry = new SpeechRegistry();
    const input = { ...lineB, mulaw: lineB.mulaw.slice() };
    const line = registry.register(input);
    input.mulaw.fill(0xff);
    expect(matchAll(registry, lineB.mulaw).map((m) => m.line.id)).toEqual([line.id]);
  });
});
