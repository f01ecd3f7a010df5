/**
 * What callers say over a speaking bot without taking the turn ("mm-hmm", "okay", "yeah yeah", "go on"), and
 * the few words that always do ("wait", "stop", "sorry"). Interruptions are decided on the words left once
 * backchannels are taken out.
 *
 * Lexicons per language (ISO 639-1; a tag like `en-US` uses `en`). Phrases are matched as whole words,
 * case-insensitive, punctuation ignored; a phrase of several words only as a whole.
 */

export interface BackchannelLexicon {
  /** Words and phrases that acknowledge without taking the turn. */
  backchannels: string[];
  /** Words and phrases that take the turn on their own, even as the only word. */
  takeTurn: string[];
}

/** Built-in lexicons. Languages not listed fall back to English. */
export const DEFAULT_BACKCHANNELS: Readonly<Record<string, BackchannelLexicon>> = {
  en: {
    backchannels: [
      'mm',
      'mmm',
      'mhm',
      'mm-hmm',
      'mm hmm',
      'mmhmm',
      'hmm',
      'uh-huh',
      'uh huh',
      'uhhuh',
      'uh',
      'um',
      'ah',
      'aha',
      'oh',
      'ooh',
      'wow',
      'yeah',
      'yea',
      'ya',
      'yes',
      'yep',
      'yup',
      'okay',
      'ok',
      'k',
      'right',
      'alright',
      'all right',
      'sure',
      'cool',
      'nice',
      'great',
      'good',
      'fine',
      'perfect',
      'exactly',
      'absolutely',
      'totally',
      'true',
      'indeed',
      'really',
      'of course',
      'got it',
      'i see',
      'go on',
      'go ahead',
      'sounds good',
      'makes sense',
      'ha',
      'haha',
      'hahaha',
      'ha ha',
      'hehe',
      'heh',
      'yeah yeah',
      'okay okay',
      'uh-huh uh-huh',
    ],
    takeTurn: ['wait', 'stop', 'hold on', 'hang on', 'excuse me', 'sorry', 'pardon', 'what'],
  },
  es: {
    backchannels: [
      'sí',
      'si',
      'ajá',
      'aja',
      'mhm',
      'mm',
      'vale',
      'claro',
      'ya',
      'bueno',
      'ok',
      'okey',
      'de acuerdo',
      'entiendo',
      'exacto',
      'perfecto',
      'ah',
      'oh',
      'eh',
      'ja',
      'jaja',
      'jajaja',
      'muy bien',
      'bien',
      'sí sí',
      'claro que sí',
    ],
    takeTurn: ['espera', 'espere', 'perdón', 'perdone', 'disculpe', 'oiga', 'qué', 'alto', 'un momento'],
  },
  de: {
    backchannels: [
      'ja',
      'jaja',
      'ja ja',
      'genau',
      'okay',
      'ok',
      'mhm',
      'mm',
      'hm',
      'aha',
      'ach so',
      'achso',
      'stimmt',
      'richtig',
      'klar',
      'gut',
      'super',
      'alles klar',
      'verstehe',
      'na ja',
      'naja',
      'ah',
      'oh',
      'ja genau',
      'sicher',
      'prima',
    ],
    takeTurn: ['moment', 'warte', 'warten sie', 'stopp', 'halt', 'entschuldigung', 'was', 'wie bitte'],
  },
  fr: {
    backchannels: [
      'oui',
      'ouais',
      "d'accord",
      'ok',
      'okay',
      'mhm',
      'mm',
      'hm',
      'ah',
      'oh',
      'bon',
      'voilà',
      'exactement',
      'bien sûr',
      'je vois',
      'tout à fait',
      "c'est ça",
      'oui oui',
      'super',
      'parfait',
      'très bien',
      'bien',
      'ha',
      'haha',
    ],
    takeTurn: ['attendez', 'attends', 'pardon', 'excusez-moi', 'quoi', 'stop', 'comment'],
  },
};

/** The language part of a tag: `en-US` → `en`. */
export function baseLanguage(language: string | undefined): string {
  return (language ?? 'en').toLowerCase().split(/[-_]/)[0] || 'en';
}

/** Words of a transcript: lower case, punctuation dropped, hyphens split ("Mm-hmm," → ["mm", "hmm"]). */
export function transcriptWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc]/g, "'")
    .split(/[^\p{L}\p{N}']+/u)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter((w) => w.length > 0);
}

/** How much of an utterance over the bot asks for the turn. */
export interface TurnClaim {
  /** Words that are not backchannels. */
  words: number;
  /** It contains a word or phrase that takes the turn on its own ("wait", "sorry"). */
  takesTurn: boolean;
}

/** Compiled lexicon: phrases as word sequences, longest first. */
export class BackchannelMatcher {
  private readonly backchannels: string[][];
  private readonly takeTurn: string[][];

  constructor(lexicon: BackchannelLexicon) {
    const compile = (phrases: string[]) =>
      phrases
        .map((p) => transcriptWords(p))
        .filter((p) => p.length > 0)
        .sort((a, b) => b.length - a.length);
    this.backchannels = compile(lexicon.backchannels);
    this.takeTurn = compile(lexicon.takeTurn);
  }

  /** Counts the words of `text` that are not backchannels, and whether a turn-taking phrase is among them. */
  claim(text: string): TurnClaim {
    const words = transcriptWords(text);
    let count = 0;
    let takesTurn = false;
    for (let i = 0; i < words.length;) {
      const take = matchAt(words, i, this.takeTurn);
      if (take > 0) {
        takesTurn = true;
        count += take;
        i += take;
        continue;
      }
      const skip = matchAt(words, i, this.backchannels);
      if (skip > 0) {
        i += skip;
        continue;
      }
      count++;
      i++;
    }
    return { words: count, takesTurn };
  }

  /** True when every word of `text` is a backchannel (and there is at least one word). */
  isBackchannel(text: string): boolean {
    const claim = this.claim(text);
    return claim.words === 0 && transcriptWords(text).length > 0;
  }
}

function matchAt(words: string[], at: number, phrases: string[][]): number {
  for (const phrase of phrases) {
    if (at + phrase.length > words.length) continue;
    let ok = true;
    for (let k = 0; k < phrase.length && ok; k++) ok = words[at + k] === phrase[k];
    if (ok) return phrase.length;
  }
  return 0;
}

/**
 * The lexicon for `language`: the built-in one (English when the language has none) with `extra` words and
 * phrases added per language.
 */
export function backchannelMatcher(
  language: string | undefined,
  extra?: Partial<Record<string, Partial<BackchannelLexicon>>>,
): BackchannelMatcher {
  const lang = baseLanguage(language);
  const base = DEFAULT_BACKCHANNELS[lang] ?? (DEFAULT_BACKCHANNELS.en as BackchannelLexicon);
  const added = extra?.[lang];
  return new BackchannelMatcher({
    backchannels: [...base.backchannels, ...(added?.backchannels ?? [])],
    takeTurn: [...base.takeTurn, ...(added?.takeTurn ?? [])],
  });
}
