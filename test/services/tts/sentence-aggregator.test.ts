import { describe, expect, it } from 'vitest';
import { SentenceAggregator } from '../../../src/services/tts/sentence-aggregator.ts';

/** Feeds text in small tokens (like an LLM stream) and returns every piece, including the flushed rest. */
function run(text: string, options = {}, tokenSize = 3): string[] {
  const aggregator = new SentenceAggregator(options);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += tokenSize) out.push(...aggregator.push(text.slice(i, i + tokenSize)));
  const rest = aggregator.flush();
  if (rest) out.push(rest);
  return out;
}

describe('SentenceAggregator', () => {
  it('splits on sentence ends and keeps the punctuation', () => {
    expect(run('Hello there. How are you? I am fine! Great.')).toEqual(['Hello there.', 'How are you?', 'I am fine!', 'Great.']);
  });

  it('returns a sentence as soon as the next one starts, not before', () => {
    const aggregator = new SentenceAggregator();
    expect(aggregator.push('Hello there.')).toEqual([]); // could still be "there.com" or "3.30"
    expect(aggregator.push(' ')).toEqual([]);
    expect(aggregator.push('How')).toEqual(['Hello there.']);
    expect(aggregator.pending).toBe('How');
  });

  it('does not split after titles and common abbreviations', () => {
    expect(run('Dr. Smith and Mr. Jones will see you. Mrs. Lee is out, e.g. on leave, i.e. away. Bye.')).toEqual([
      'Dr. Smith and Mr. Jones will see you.',
      'Mrs. Lee is out, e.g. on leave, i.e. away.',
      'Bye.',
    ]);
  });

  it('does not split decimals, times, prices, URLs or e-mail addresses', () => {
    expect(run('Meet at 3.30 today. It costs $4.50 at example.com/a.b or bob@mail.co.uk now. Thanks.')).toEqual([
      'Meet at 3.30 today.',
      'It costs $4.50 at example.com/a.b or bob@mail.co.uk now.',
      'Thanks.',
    ]);
  });

  it('does not split after initials or before a lower-case continuation', () => {
    expect(run('Ask J. R. Smith about it. He said approx. five.')).toEqual(['Ask J. R. Smith about it.', 'He said approx. five.']);
    expect(run('It was 5 p.m. when we left.')).toEqual(['It was 5 p.m. when we left.']);
  });

  it('treats ellipses, quotes and brackets as part of the sentence end', () => {
    expect(run('Well... maybe. He said "go." Then (finally.) Done')).toEqual([
      'Well...',
      'maybe.',
      'He said "go."',
      'Then (finally.)',
      'Done',
    ]);
  });

  it('splits on new lines and keeps list numbers with their item', () => {
    expect(run('Options:\n1. Billing\n2. Support\nChoose one.')).toEqual(['Options:', '1. Billing', '2. Support', 'Choose one.']);
  });

  it('cuts a long sentence at a comma once enough text is waiting, so audio starts early', () => {
    const text = 'Thanks for calling the Springfield dental clinic, where your smile is our priority, how can I help?';
    expect(run(text, { clauseMinChars: 40 })).toEqual([
      'Thanks for calling the Springfield dental clinic,',
      'where your smile is our priority, how can I help?',
    ]);
    // Short clauses are not cut, and commas inside numbers never are.
    expect(run('Yes, we have 1,200 rooms, all free.', { clauseMinChars: 40 })).toEqual(['Yes, we have 1,200 rooms, all free.']);
    expect(run(text, { clauseMinChars: 0 })).toEqual([text]);
  });

  it('cuts text with no punctuation at a space once it exceeds maxChars', () => {
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const pieces = run(words, { maxChars: 50 });
    expect(pieces.length).toBeGreaterThan(4);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(50);
    expect(pieces.join(' ')).toBe(words);
  });

  it('gives the same result however the text is tokenised', () => {
    const text = 'Dr. Brown is in at 9.15. Call 555-0100, or e-mail us! Thanks... bye.';
    const whole = run(text, {}, text.length);
    expect(run(text, {}, 1)).toEqual(whole);
    expect(run(text, {}, 4)).toEqual(whole);
    expect(whole).toEqual(['Dr. Brown is in at 9.15.', 'Call 555-0100, or e-mail us!', 'Thanks...', 'bye.']);
  });

  it('reset drops pending text; flush on empty returns nothing', () => {
    const aggregator = new SentenceAggregator();
    aggregator.push('Half a sent');
    aggregator.reset();
    expect(aggregator.flush()).toBe('');
  });
});
