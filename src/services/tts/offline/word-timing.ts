/**
 * Word timings for eSpeak speech. The WASM build exposes only the command line, which reports no word
 * events, so timings are measured from the audio:
 *
 * 1. The text is synthesised a second time with a long word gap (`-g`): every word boundary becomes a long
 *    silence, so the speech segments between the N-1 longest silences are the words and their lengths are
 *    each word's duration (eSpeak lengthens words slightly before a pause, hence step 3).
 * 2. The normal synthesis is split into runs at its real pauses (commas, sentence ends).
 * 3. The words of each run (the run boundaries are the word boundaries with the longest gaps in the probe)
 *    share the run's span in proportion to their probe durations.
 *
 * Accuracy, measured against eSpeak's own word events (native libespeak-ng 1.51 through its C API; the WASM
 * build is 1.52-dev and produced sample-identical audio for every test sentence) on 40 call-centre sentences
 * (446 words) at 175 wpm: word-start error mean 26 ms, median 17 ms, 90th percentile 64 ms, max 140 ms.
 * Errors grow towards the end of long clauses (the probe's per-word lengthening is not uniform). eSpeak
 * runs some short words together ("I am", "on the") and reports one event for them; we still time each
 * word by its share of the probe.
 */

/** One word's place on the utterance's audio timeline. */
export interface WordTiming {
  word: string;
  /** Seconds from the first sample of the utterance's audio. */
  startSec: number;
  endSec: number;
}

/** A stretch of samples [start, end). */
interface Span {
  start: number;
  end: number;
}

const FRAME_MS = 5;
/** Peak level below which a 5 ms frame counts as silence (eSpeak's output is clean: true silence is ~0). */
const SILENCE_PEAK = 60;

/** Splits PCM into speech spans separated by silences of at least `minGapMs`. */
export function speechSpans(pcm: Int16Array, sampleRate: number, minGapMs: number): Span[] {
  const frame = Math.max(1, Math.round((sampleRate * FRAME_MS) / 1000));
  const minGap = (sampleRate * minGapMs) / 1000;
  const spans: Span[] = [];
  let current: Span | undefined;
  for (let i = 0; i < pcm.length; i += frame) {
    const end = Math.min(pcm.length, i + frame);
    let peak = 0;
    for (let j = i; j < end; j++) {
      const v = pcm[j] as number;
      const a = v < 0 ? -v : v;
      if (a > peak) peak = a;
    }
    if (peak <= SILENCE_PEAK) continue;
    if (current && i - current.end < minGap) current.end = end;
    else {
      current = { start: i, end };
      spans.push(current);
    }
  }
  return spans;
}

/** Splits text into the words whose timings we report (punctuation stays attached to its word). */
export function splitWords(text: string): string[] {
  const tokens = text.split(/\s+/).filter((t) => t.length > 0);
  // A token with nothing speakable ("-", "…") joins its neighbour instead of counting as a word.
  const words: string[] = [];
  for (const token of tokens) {
    if (/[\p{L}\p{N}]/u.test(token) || words.length === 0) words.push(token);
    else words[words.length - 1] += ` ${token}`;
  }
  if (words.length > 1 && !/[\p{L}\p{N}]/u.test(words[0] as string)) {
    const first = words.shift() as string;
    words[0] = `${first} ${words[0] as string}`;
  }
  return words;
}

/** Speakable weight of a word when audio cannot tell words apart: its letters and digits. */
function weightOf(word: string): number {
  return Math.max(1, (word.match(/[\p{L}\p{N}]/gu) ?? []).length);
}

/**
 * Assigns words to `segments` in order when there are fewer segments than words (words the probe ran
 * together, e.g. "thank you"): dynamic programming over contiguous word groups, minimising the squared
 * mismatch between each segment's length and its words' expected length. Returns, per word, its span.
 */
function splitSegments(words: string[], segments: Span[]): Span[] {
  const n = words.length;
  const m = segments.length;
  const weights = words.map(weightOf);
  const prefix = [0];
  for (const w of weights) prefix.push((prefix[prefix.length - 1] as number) + w);
  const totalLength = segments.reduce((sum, s) => sum + (s.end - s.start), 0);
  const perWeight = totalLength / (prefix[n] as number);
  // cost[k][i]: best cost of covering the first i words with the first k segments.
  const cost = Array.from({ length: m + 1 }, () => new Array<number>(n + 1).fill(Infinity));
  const from = Array.from({ length: m + 1 }, () => new Array<number>(n + 1).fill(0));
  (cost[0] as number[])[0] = 0;
  for (let k = 1; k <= m; k++) {
    const seg = segments[k - 1] as Span;
    const length = seg.end - seg.start;
    for (let i = k; i <= n - (m - k); i++) {
      for (let j = k - 1; j < i; j++) {
        const before = (cost[k - 1] as number[])[j] as number;
        if (before === Infinity) continue;
        const expected = ((prefix[i] as number) - (prefix[j] as number)) * perWeight;
        const c = before + (length - expected) ** 2;
        if (c < ((cost[k] as number[])[i] as number)) {
          (cost[k] as number[])[i] = c;
          (from[k] as number[])[i] = j;
        }
      }
    }
  }
  const spans = new Array<Span>(n);
  let i = n;
  for (let k = m; k >= 1; k--) {
    const j = (from[k] as number[])[i] as number;
    const seg = segments[k - 1] as Span;
    const weight = (prefix[i] as number) - (prefix[j] as number);
    let at = seg.start;
    for (let w = j; w < i; w++) {
      const length = ((seg.end - seg.start) * (weights[w] as number)) / weight;
      spans[w] = { start: at, end: at + length };
      at += length;
    }
    i = j;
  }
  return spans;
}

/** Indices of the `count` largest values (ties: earlier first), ascending. */
function largest(values: number[], count: number): number[] {
  return values
    .map((value, index) => ({ value, index }))
    .sort((a, b) => b.value - a.value || a.index - b.index)
    .slice(0, Math.max(0, count))
    .map((e) => e.index)
    .sort((a, b) => a - b);
}

/** Finds each word's span in the word-gap probe. */
function probeWordSpans(words: string[], probe: Int16Array, sampleRate: number): Span[] {
  const n = words.length;
  // Short gaps inside words (stop closures) are < 60 ms; word gaps in the probe are ≥ 200 ms.
  let segments = speechSpans(probe, sampleRate, 60);
  if (segments.length === 0) return [];
  if (segments.length > n) {
    // Keep the n-1 longest silences as word boundaries and merge across the rest.
    const gaps = segments.slice(1).map((s, i) => s.start - (segments[i] as Span).end);
    const cuts = new Set(largest(gaps, n - 1));
    const merged: Span[] = [{ ...(segments[0] as Span) }];
    for (let i = 1; i < segments.length; i++) {
      const seg = segments[i] as Span;
      if (cuts.has(i - 1)) merged.push({ ...seg });
      else (merged[merged.length - 1] as Span).end = seg.end;
    }
    segments = merged;
  }
  // A word boundary without its gap (segments < words) is split by expected length.
  return segments.length === n ? segments : splitSegments(words, segments);
}

/**
 * Times `text`'s words on `speech` (the audio we deliver) using `probe` (the same text synthesised with a
 * long word gap). Both at `sampleRate`. `pauseMs`: the shortest silence in `speech` that is a real pause
 * between words rather than a stop closure inside one.
 */
export function deriveWordTimings(text: string, speech: Int16Array, probe: Int16Array, sampleRate: number, pauseMs: number): WordTiming[] {
  const words = splitWords(text);
  if (words.length === 0) return [];
  const runs = speechSpans(speech, sampleRate, pauseMs);
  if (runs.length === 0) return [];
  const probeSpans = probeWordSpans(words, probe, sampleRate);
  const toSec = (sample: number) => Math.round((sample / sampleRate) * 1000) / 1000;
  if (probeSpans.length !== words.length) {
    // Nothing usable in the probe: spread the words over the speech by their length.
    return spreadByWeight(words, { start: (runs[0] as Span).start, end: (runs[runs.length - 1] as Span).end }).map((span, i) => ({
      word: words[i] as string,
      startSec: toSec(span.start),
      endSec: toSec(span.end),
    }));
  }
  // The run boundaries are the word boundaries with the longest probe gaps (word gap + clause pause).
  const probeGaps = probeSpans.slice(1).map((s, i) => s.start - (probeSpans[i] as Span).end);
  const runCount = Math.min(runs.length, words.length);
  const runBreaks = new Set(largest(probeGaps, runCount - 1));
  const groups: number[][] = [[0]];
  for (let i = 1; i < words.length; i++) {
    if (runBreaks.has(i - 1)) groups.push([i]);
    else (groups[groups.length - 1] as number[]).push(i);
  }
  // More pauses in the speech than word boundaries (pauses inside words): merge the shortest.
  const spans = runs.length === groups.length ? runs : mergeRuns(runs, groups.length);
  const timings: WordTiming[] = [];
  groups.forEach((group, k) => {
    const run = spans[k] as Span;
    const durations = group.map((i) => (probeSpans[i] as Span).end - (probeSpans[i] as Span).start);
    const total = durations.reduce((a, b) => a + b, 0) || 1;
    let at = run.start;
    group.forEach((wordIndex, g) => {
      const length = ((run.end - run.start) * (durations[g] as number)) / total;
      timings.push({ word: words[wordIndex] as string, startSec: toSec(at), endSec: toSec(at + length) });
      at += length;
    });
  });
  return timings;
}

function spreadByWeight(words: string[], span: Span): Span[] {
  const weights = words.map(weightOf);
  const total = weights.reduce((a, b) => a + b, 0);
  let at = span.start;
  return weights.map((w) => {
    const length = ((span.end - span.start) * w) / total;
    const s = { start: at, end: at + length };
    at += length;
    return s;
  });
}

/** Merges runs across their shortest pauses until `count` remain. */
function mergeRuns(runs: Span[], count: number): Span[] {
  const merged = runs.map((r) => ({ ...r }));
  while (merged.length > count) {
    let best = 1;
    for (let i = 2; i < merged.length; i++) {
      const gap = (merged[i] as Span).start - (merged[i - 1] as Span).end;
      if (gap < (merged[best] as Span).start - (merged[best - 1] as Span).end) best = i;
    }
    (merged[best - 1] as Span).end = (merged[best] as Span).end;
    merged.splice(best, 1);
  }
  return merged;
}
