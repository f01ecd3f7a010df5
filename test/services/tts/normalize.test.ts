import { describe, expect, it } from 'vitest';
import { normalizeForSpeech, numberToWords, ordinalToWords, stripEmoji, stripMarkdown } from '../../../src/services/tts/normalize.ts';

describe('numberToWords / ordinalToWords', () => {
  it('spells whole numbers', () => {
    expect(numberToWords(0)).toBe('zero');
    expect(numberToWords(7)).toBe('seven');
    expect(numberToWords(42)).toBe('forty-two');
    expect(numberToWords(100)).toBe('one hundred');
    expect(numberToWords(1234)).toBe('one thousand two hundred thirty-four');
    expect(numberToWords(2_000_017)).toBe('two million seventeen');
    expect(numberToWords(-5)).toBe('minus five');
  });

  it('spells ordinals', () => {
    expect([1, 2, 3, 4, 5, 8, 9, 12, 20, 21, 22, 33, 101].map(ordinalToWords)).toEqual([
      'first',
      'second',
      'third',
      'fourth',
      'fifth',
      'eighth',
      'ninth',
      'twelfth',
      'twentieth',
      'twenty-first',
      'twenty-second',
      'thirty-third',
      'one hundred first',
    ]);
  });
});

describe('normalizeForSpeech', () => {
  const cases: Array<[string, string]> = [
    ['Your appointment is at 3:30 PM.', 'Your appointment is at three thirty PM.'],
    ['Open 9:05am to 5pm.', 'Open nine oh five AM to five PM.'],
    ['Doors at 9:00 a.m. sharp', 'Doors at nine AM sharp'],
    ['The train leaves at 15:45.', 'The train leaves at fifteen forty-five.'],
    ['Meet at 7:00.', "Meet at seven o'clock."],
    ['That is $42.50 in total.', 'That is forty-two dollars and fifty cents in total.'],
    ['It costs $1,200.', 'It costs one thousand two hundred dollars.'],
    ['Only $1 today, or €0.99.', 'Only one dollar today, or ninety-nine cents.'],
    ['They raised $3.5 million.', 'They raised three point five million dollars.'],
    ['A £20 fee.', 'A twenty pounds fee.'],
    ['Save 20% now, or 3.5 % later.', 'Save twenty percent now, or three point five percent later.'],
    ['Tom & Jerry', 'Tom and Jerry'],
    ['Write to help@example.com today.', 'Write to help at example dot com today.'],
    ['Meet me @ noon', 'Meet me at noon'],
    ['On March 3rd and the 22nd.', 'On March third and the twenty-second.'],
    ['Due June 5.', 'Due June fifth.'],
    ['Born in 1999, moved in 2005, back in 2024.', 'Born in nineteen ninety-nine, moved in two thousand five, back in twenty twenty-four.'],
    ['I have 3 cats and 12 dogs.', 'I have three cats and twelve dogs.'],
    ['Pi is 3.14.', 'Pi is three point one four.'],
    ['Your code is 48213.', 'Your code is four eight two one three.'],
    ['Room #4 please.', 'Room number four please.'],
    ['It was -7 degrees.', 'It was minus seven degrees.'],
  ];
  for (const [input, expected] of cases) {
    it(`"${input}"`, () => expect(normalizeForSpeech(input)).toBe(expected));
  }

  it('leaves plain text alone', () => {
    const text = "Hello! How can I help you today? I'm here, as always.";
    expect(normalizeForSpeech(text)).toBe(text);
  });
});

describe('stripMarkdown / stripEmoji', () => {
  it('removes emphasis, code, links, headings and bullets but keeps the words', () => {
    expect(stripMarkdown('**Note:** call _now_ or see [our site](https://x.y). Use `reset`.')).toBe(
      'Note: call now or see our site. Use reset.',
    );
    expect(stripMarkdown('# Options\n- Billing\n* Support\n> quoted')).toBe('Options\nBilling\nSupport\nquoted');
    expect(stripMarkdown('2 * 3 * 4 is fine')).toBe('2 * 3 * 4 is fine');
    expect(stripMarkdown('snake_case_name stays')).toBe('snake_case_name stays');
  });

  it('removes emoji, flags and skin tones', () => {
    expect(stripEmoji('Great 👍🏽 job 🎉!')).toBe('Great  job !');
    expect(stripEmoji('Go 🇺🇸 team ❤️')).toBe('Go  team ');
    expect(normalizeForSpeech('Thanks! 😊 See you soon 👋')).toBe('Thanks! See you soon');
  });
});
