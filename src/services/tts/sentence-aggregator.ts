/**
 * Groups streaming LLM tokens into sentences (or long clauses) before TTS: a voice needs a whole phrase for
 * natural prosody, and a sentence is the unit hosted TTS prices and caches well. First audio comes early
 * because the first sentence goes out as soon as it ends, and long clauses are cut at commas.
 *
 * A period ends a sentence only when followed by whitespace and then something that can start a sentence,
 * and not after a known abbreviation ("Dr.", "e.g.") or a single initial ("J."); so "3.30", "$4.50",
 * "example.com/a.b" and "Dr. Smith" stay whole. A sentence end at the very end of the buffered text waits
 * for the next token (it may be "3." of "3.30"), or for {@link SentenceAggregator.flush}.
 */

export interface SentenceAggregatorOptions {
  /**
   * A clause ending in `,` `;` `:` or a dash is sent on its own once the text waiting has at least this
   * many characters (so a long first sentence still starts speaking early). 0 disables clause cuts.
   * @default 60
   */
  clauseMinChars?: number;
  /** Text longer than this is cut at its last space even without punctuation. @default 300 */
  maxChars?: number;
  /** Words (without the period, case-insensitive) after which a period does not end a sentence. @default DEFAULT_ABBREVIATIONS */
  abbreviations?: readonly string[];
}

export const DEFAULT_ABBREVIATIONS: readonly string[] = [
  'mr',
  'mrs',
  'ms',
  'dr',
  'prof',
  'sr',
  'jr',
  'st',
  'mt',
  'ft',
  'vs',
  'etc',
  'e.g',
  'i.e',
  'approx',
  'dept',
  'est',
  'inc',
  'ltd',
  'co',
  'corp',
  'no',
  'vol',
  'fig',
  'a.m',
  'p.m',
  'u.s',
  'u.k',
  'jan',
  'feb',
  'mar',
  'apr',
  'jun',
  'jul',
  'aug',
  'sep',
  'sept',
  'oct',
  'nov',
  'dec',
  'mon',
  'tue',
  'wed',
  'thu',
  'fri',
  'sat',
  'sun',
  'ave',
  'blvd',
  'rd',
  'apt',
  'min',
  'max',
  'tel',
  'ext',
];

/** Characters that may follow the end of a sentence before the whitespace: closing quotes and brackets. */
const CLOSERS = new Set(['"', "'", '”', '’', ')', ']', '»']);

export class SentenceAggregator {
  private buffer = '';
  private readonly clauseMinChars: number;
  private readonly maxChars: number;
  private readonly abbreviations: Set<string>;

  constructor(options: SentenceAggregatorOptions = {}) {
    this.clauseMinChars = options.clauseMinChars ?? 60;
    this.maxChars = options.maxChars ?? 300;
    this.abbreviations = new Set((options.abbreviations ?? DEFAULT_ABBREVIATIONS).map((a) => a.toLowerCase()));
  }

  /** Text received and not yet returned. */
  get pending(): string {
    return this.buffer;
  }

  /** Adds a token; returns the sentences (trimmed, non-empty) it completed, in order. */
  push(token: string): string[] {
    this.buffer += token;
    const out: string[] = [];
    for (;;) {
      const cut = this.findCut();
      if (cut === undefined) break;
      const piece = this.buffer.slice(0, cut).trim();
      this.buffer = this.buffer.slice(cut).replace(/^\s+/, '');
      if (piece) out.push(piece);
    }
    return out;
  }

  /** Returns whatever is left (trimmed; empty string when nothing) and clears the buffer. */
  flush(): string {
    const rest = this.buffer.trim();
    this.buffer = '';
    return rest;
  }

  /** Drops buffered text (barge-in). */
  reset(): void {
    this.buffer = '';
  }

  /** Index just after the first complete piece in the buffer, or undefined. */
  private findCut(): number | undefined {
    const text = this.buffer;
    let clauseCut: number | undefined;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i] as string;
      if (ch === '\n') {
        if (text.slice(0, i).trim()) return i + 1;
        continue;
      }
      if (ch === '.' || ch === '!' || ch === '?' || ch === '…') {
        let end = i + 1;
        while (end < text.length && (/[.!?…]/.test(text[end] as string) || CLOSERS.has(text[end] as string))) end++;
        const decision = this.sentenceEndsAt(text, i, end);
        if (decision === 'wait') return clauseCut;
        if (decision === 'yes') return end;
        i = end - 1;
        continue;
      }
      if (
        clauseCut === undefined &&
        this.clauseMinChars > 0 &&
        (ch === ',' || ch === ';' || ch === ':' || ch === '—' || ch === '–') &&
        i + 1 >= this.clauseMinChars &&
        /\s/.test(text[i + 1] ?? '')
      ) {
        clauseCut = i + 1;
      }
    }
    if (clauseCut !== undefined) return clauseCut;
    if (text.length > this.maxChars) {
      const space = text.lastIndexOf(' ', this.maxChars);
      return space > 0 ? space + 1 : this.maxChars;
    }
    return undefined;
  }

  /**
   * Whether the terminal punctuation at `at` (run ending before `end`) closes a sentence: `wait` when the
   * answer depends on text not received yet.
   */
  private sentenceEndsAt(text: string, at: number, end: number): 'yes' | 'no' | 'wait' {
    if (end >= text.length) return 'wait';
    if (!/\s/.test(text[end] as string)) return 'no'; // "3.30", "example.com", "e.g.x"
    const next = /\S/.exec(text.slice(end));
    if (!next) return 'wait';
    const nextChar = next[0];
    if (text[at] !== '.' || text.slice(at, end).startsWith('..')) return 'yes'; // ! ? … and "..."
    // The word the period closes.
    const word = /(\S+)$/.exec(text.slice(0, at))?.[1] ?? '';
    const bare = word.replace(/^[("'“‘[]+/, '').toLowerCase();
    if (this.abbreviations.has(bare)) return 'no';
    // A list number at the start of a line: "1. First item".
    if (/^\d+$/.test(bare) && /(^|\n)\s*$/.test(text.slice(0, at - word.length))) return 'no';
    if (/^\p{L}$/u.test(bare) && /\p{Lu}/u.test(word)) return 'no'; // an initial: "J. Smith", "U."
    if (/^\p{Ll}/u.test(nextChar)) return 'no'; // a lower-case continuation is not a new sentence
    return 'yes';
  }
}
