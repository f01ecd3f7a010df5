/**
 * Cheap text normalisation before speech: LLM replies contain markdown, emoji, digits and symbols that a
 * voice reads badly ("$42.50", "3:30 PM", "20%", "**Note**", "🙂"). Rules are regular expressions applied
 * in a fixed order; anything not recognised is left for the TTS to handle.
 *
 * English only. Spelled-out forms follow US usage ("one hundred twenty-three", "three thirty PM").
 */

const ONES = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const SCALES = ['', 'thousand', 'million', 'billion', 'trillion'];

function below1000(n: number): string {
  const hundreds = Math.floor(n / 100);
  const rest = n % 100;
  const parts: string[] = [];
  if (hundreds > 0) parts.push(`${ONES[hundreds]} hundred`);
  if (rest > 0 || hundreds === 0) {
    if (rest < 20) parts.push(ONES[rest] as string);
    else parts.push(TENS[Math.floor(rest / 10)] + (rest % 10 ? `-${ONES[rest % 10]}` : ''));
  }
  return parts.join(' ');
}

/** Spells a whole number: 1234 → "one thousand two hundred thirty-four". Beyond trillions: digit by digit. */
export function numberToWords(value: number | bigint | string): string {
  const digits = String(value).replace(/^-/, '');
  const negative = String(value).startsWith('-');
  if (!/^\d+$/.test(digits)) return String(value);
  if (digits.length > 15) return spellDigits(digits);
  let n = Number(digits);
  if (n === 0) return `${negative ? 'minus ' : ''}zero`;
  const groups: string[] = [];
  for (let scale = 0; n > 0; scale++, n = Math.floor(n / 1000)) {
    const group = n % 1000;
    if (group > 0) groups.unshift(below1000(group) + (SCALES[scale] ? ` ${SCALES[scale]}` : ''));
  }
  return (negative ? 'minus ' : '') + groups.join(' ');
}

/** "first", "second", "twenty-third", "one hundred first". */
export function ordinalToWords(n: number): string {
  const cardinal = numberToWords(n);
  const irregular: Record<string, string> = {
    one: 'first',
    two: 'second',
    three: 'third',
    five: 'fifth',
    eight: 'eighth',
    nine: 'ninth',
    twelve: 'twelfth',
  };
  return cardinal.replace(/([a-z]+)$/, (last) => {
    if (irregular[last]) return irregular[last];
    if (last.endsWith('y')) return `${last.slice(0, -1)}ieth`;
    return `${last}th`;
  });
}

/** "4567" → "four five six seven". */
export function spellDigits(digits: string): string {
  return [...digits]
    .filter((d) => /\d/.test(d))
    .map((d) => ONES[Number(d)])
    .join(' ');
}

/** A decimal as spoken: "3.14" → "three point one four". */
function decimalToWords(whole: string, fraction: string | undefined): string {
  const head = numberToWords(whole.replace(/,/g, '') || '0');
  return fraction ? `${head} point ${spellDigits(fraction)}` : head;
}

/** Years read in pairs: 1999 → "nineteen ninety-nine", 2005 → "two thousand five", 2024 → "twenty twenty-four". */
function yearToWords(year: number): string {
  if (year >= 2000 && year < 2010) return numberToWords(year);
  const high = Math.floor(year / 100);
  const low = year % 100;
  if (low === 0) return `${numberToWords(high)} hundred`;
  return `${numberToWords(high)} ${low < 10 ? `oh ${ONES[low]}` : numberToWords(low)}`;
}

function timeToWords(hours: number, minutes: number, meridiem: string | undefined): string {
  const suffix = meridiem ? ` ${meridiem.replace(/\./g, '').toUpperCase()}` : '';
  if (!meridiem && hours >= 13) {
    // 24-hour clock: "fifteen hundred", "fifteen thirty"
    return minutes === 0 ? `${numberToWords(hours)} hundred` : `${numberToWords(hours)} ${minuteWords(minutes)}`;
  }
  if (minutes === 0) return `${numberToWords(hours)}${meridiem ? '' : " o'clock"}${suffix}`;
  return `${numberToWords(hours)} ${minuteWords(minutes)}${suffix}`;
}

function minuteWords(minutes: number): string {
  return minutes < 10 ? `oh ${ONES[minutes]}` : numberToWords(minutes);
}

const CURRENCIES: Record<string, [string, string, string, string]> = {
  // symbol: [singular, plural, minor singular, minor plural]
  $: ['dollar', 'dollars', 'cent', 'cents'],
  '€': ['euro', 'euros', 'cent', 'cents'],
  '£': ['pound', 'pounds', 'penny', 'pence'],
  '¥': ['yen', 'yen', 'sen', 'sen'],
};

function currencyToWords(symbol: string, amount: string, scale: string | undefined): string {
  const names = CURRENCIES[symbol] as [string, string, string, string];
  const [whole = '0', fraction] = amount.replace(/,/g, '').split('.');
  if (scale) return `${decimalToWords(whole, fraction)} ${scale.toLowerCase()} ${names[1]}`;
  const units = Number(whole);
  const unitWords = `${numberToWords(whole)} ${units === 1 ? names[0] : names[1]}`;
  if (!fraction || Number(fraction) === 0) return unitWords;
  const minor = Number(fraction.padEnd(2, '0').slice(0, 2));
  const minorWords = `${numberToWords(minor)} ${minor === 1 ? names[2] : names[3]}`;
  return units === 0 ? minorWords : `${unitWords} and ${minorWords}`;
}

/** Markdown that a voice should not read: emphasis, code, headings, bullets, links, tables, quotes. */
export function stripMarkdown(text: string): string {
  return text
    .replace(/```[^\n]*\n?([\s\S]*?)```/g, '$1') // fenced code: keep the content
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1') // images
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1') // links
    .replace(/`([^`]*)`/g, '$1')
    .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, '$2')
    .replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?!\*)/g, '$1$2')
    .replace(/(^|[^\w])_(?=\S)([^_\n]*?\S)_(?!\w)/g, '$1$2')
    .replace(/~~([\s\S]*?)~~/g, '$1')
    .replace(/^\s{0,3}#{1,6}\s+/gm, '') // headings
    .replace(/^\s{0,3}>\s?/gm, '') // block quotes
    .replace(/^\s*[-*+•]\s+/gm, '') // bullets
    .replace(/^\s*\|?(\s*:?-{3,}:?\s*\|)+\s*:?-*:?\s*$/gm, '') // table rules
    .replace(/\s*\|\s*/g, (m) => (m.includes('\n') ? m : ', ')) // table cells
    .replace(/^\s*(-{3,}|\*{3,}|_{3,})\s*$/gm, ''); // horizontal rules
}

/** Emoji, pictographs and their joiners/selectors. */
export function stripEmoji(text: string): string {
  return text.replace(/[\p{Extended_Pictographic}\u{1F1E6}-\u{1F1FF}\u{1F3FB}-\u{1F3FF}\u200D\uFE0E\uFE0F\u20E3]/gu, '');
}

const MONTHS =
  'January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec';

/**
 * Rewrites `text` for a voice. Order matters: markdown and emoji first, then patterns that contain
 * numbers (times, money, percentages, ordinals, years, decimals), then the remaining plain numbers and
 * symbols.
 */
export function normalizeForSpeech(text: string): string {
  let out = stripEmoji(stripMarkdown(text)).replace(/#(\d)/g, 'number $1');
  // Times: 3:30 PM, 3:05pm, 15:45, 9:00 a.m.
  out = out.replace(/\b([01]?\d|2[0-3]):([0-5]\d)(?:\s*([ap](?:\.m\.|m\b)))?/gi, (_m, h: string, m: string, meridiem: string | undefined) =>
    timeToWords(Number(h), Number(m), meridiem),
  );
  // "3 PM" / "11am"
  out = out.replace(/\b(1[0-2]|[1-9])\s*([ap])(?:\.m\.|m\b)/gi, (_m, h: string, ap: string) => `${numberToWords(h)} ${ap.toUpperCase()}M`);
  // Money: $42.50, $1,200, €3.5 million
  out = out.replace(
    /([$€£¥])\s?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:\s?(thousand|million|billion|trillion)\b)?/gi,
    (_m, symbol: string, amount: string, scale: string | undefined) => currencyToWords(symbol, amount, scale),
  );
  // Percentages: 20%, 3.5 %
  out = out.replace(
    /(\d+(?:,\d{3})*)(?:\.(\d+))?\s?%/g,
    (_m, whole: string, fraction: string | undefined) => `${decimalToWords(whole, fraction)} percent`,
  );
  // Ordinals: 1st, 22nd, 3rd, 4th
  out = out.replace(/\b(\d+)(st|nd|rd|th)\b/gi, (_m, n: string) => ordinalToWords(Number(n)));
  // Dates with a bare day: "March 3" → "March third"
  out = out.replace(
    new RegExp(`\\b(${MONTHS})\\.? (\\d{1,2})\\b(?!:|\\d)`, 'g'),
    (_m, month: string, day: string) => `${month} ${ordinalToWords(Number(day))}`,
  );
  // Years (1100–2099 standing alone, not part of a bigger number)
  out = out.replace(/(?<![\d.,$€£¥-])\b(1[1-9]\d\d|20\d\d)\b(?![.,]\d|%)/g, (_m, year: string) => yearToWords(Number(year)));
  // Long digit runs (phone numbers, codes): digit by digit
  out = out.replace(/\b\d{5,}\b/g, (digits) => spellDigits(digits));
  // Decimals and grouped numbers: 3.14, 1,234.5, -7
  out = out.replace(
    /(^|[^\w.])(-)?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\b/g,
    (_m, before: string, minus: string | undefined, whole: string, fraction: string | undefined) =>
      `${before}${minus ? 'minus ' : ''}${decimalToWords(whole, fraction)}`,
  );
  // Symbols
  out = out
    .replace(/([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)/g, (_m, user: string, domain: string) => `${user} at ${domain.split('.').join(' dot ')}`)
    .replace(/\s*&\s*/g, ' and ')
    .replace(/\s@\s/g, ' at ')
    .replace(/\s\+\s/g, ' plus ')
    .replace(/\s=\s/g, ' equals ');
  return out
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/ +([,.!?;:])/g, '$1')
    .trim();
}
