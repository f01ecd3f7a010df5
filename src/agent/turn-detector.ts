/**
 * "Has the caller finished?" — scored from what they said so far, to set how long a pause must last before
 * the turn ends: short after a complete answer or question, long after "I'd like to move it to…".
 *
 * {@link TurnDetector} is the plug-in point: the built-in {@link HeuristicTurnDetector} reads the words; a model
 * (e.g. an ONNX end-of-utterance model loaded from a local path with onnxruntime-node) implements the same
 * method, synchronously or returning a promise. Nothing is downloaded at run time.
 */
import { baseLanguage, transcriptWords } from './backchannels.ts';

export interface TurnDetectorInput {
  /** Everything the caller said in this turn so far (finals, then the latest interim). */
  transcript: string;
  /** Language of the call (`en`, `en-US`, `de`…). */
  language: string;
  /** The bot's last line before this turn (what the caller is answering), when there is one. */
  previousBotText?: string;
  /** Seconds the caller has voiced in this turn. */
  voicedSecs: number;
}

export interface TurnDetector {
  /** Probability (0…1) that the caller has finished their turn. */
  endOfTurnProbability(input: TurnDetectorInput): number | Promise<number>;
}

/** Words after which a sentence goes on, per language. */
interface LanguageRules {
  /**
   * Conjunctions, prepositions, articles, possessives, subject pronouns: a turn ending on one is almost
   * always unfinished ("I'd like to move it to", "and the").
   */
  continuing: string[];
  /** Auxiliaries and modals: unfinished unless the STT put a full stop after them ("Yes, I will."). */
  weak: string[];
  /** Hesitations ("um", "uh"). */
  fillers: string[];
  /** Number words (for unfinished numbers: "five five five…"). */
  numbers: string[];
}

const RULES: Record<string, LanguageRules> = {
  en: {
    continuing: [
      'and',
      'but',
      'or',
      'nor',
      'because',
      'cause',
      'if',
      'when',
      'while',
      'which',
      'who',
      'whose',
      'than',
      'although',
      'though',
      'unless',
      'whether',
      'to',
      'at',
      'on',
      'in',
      'for',
      'with',
      'from',
      'of',
      'about',
      'by',
      'into',
      'onto',
      'until',
      'till',
      'around',
      'near',
      'between',
      'through',
      'via',
      'per',
      'the',
      'a',
      'an',
      'my',
      'your',
      'our',
      'their',
      'his',
      'her',
      'its',
      'these',
      'those',
      'some',
      'every',
      'each',
      'i',
      'we',
      'they',
      'he',
      'she',
      "i'm",
      "i'll",
      "i'd",
      "i've",
      "we're",
      "we'll",
      "they're",
      "it's",
      "that's",
      "there's",
      'gonna',
      'wanna',
      'gotta',
      "let's",
      'like',
      'very',
      'more',
      'less',
      'so',
    ],
    weak: [
      'is',
      'are',
      'was',
      'were',
      'will',
      'would',
      'can',
      'could',
      'should',
      'might',
      'must',
      'shall',
      'may',
      'have',
      'has',
      'had',
      'do',
      'does',
      'did',
      'am',
      'be',
      'been',
      'being',
      'that',
      'this',
      'not',
      'also',
      'then',
      'any',
    ],
    fillers: ['um', 'uh', 'er', 'erm', 'hmm', 'uhm', 'mm', 'well', 'actually', 'basically'],
    numbers: [
      'zero',
      'oh',
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
      'twenty',
      'thirty',
      'forty',
      'fifty',
      'hundred',
      'thousand',
      'double',
      'triple',
    ],
  },
  es: {
    continuing: [
      'y',
      'e',
      'o',
      'u',
      'pero',
      'porque',
      'que',
      'cuando',
      'como',
      'para',
      'por',
      'a',
      'al',
      'de',
      'del',
      'en',
      'con',
      'sin',
      'sobre',
      'hasta',
      'desde',
      'entre',
      'el',
      'la',
      'los',
      'las',
      'un',
      'una',
      'mi',
      'su',
      'tu',
      'nuestro',
      'yo',
      'voy',
      'quiero',
      'muy',
      'más',
    ],
    weak: ['es', 'está', 'estoy', 'puedo', 'tengo', 'este', 'esta', 'no'],
    fillers: ['eh', 'em', 'pues', 'bueno', 'mmm'],
    numbers: ['cero', 'uno', 'dos', 'tres', 'cuatro', 'cinco', 'seis', 'siete', 'ocho', 'nueve', 'diez', 'cien', 'mil'],
  },
  de: {
    continuing: [
      'und',
      'aber',
      'oder',
      'denn',
      'weil',
      'dass',
      'wenn',
      'als',
      'ob',
      'zu',
      'zum',
      'zur',
      'an',
      'am',
      'auf',
      'in',
      'im',
      'für',
      'mit',
      'von',
      'vom',
      'bei',
      'nach',
      'vor',
      'um',
      'über',
      'unter',
      'der',
      'die',
      'das',
      'den',
      'dem',
      'des',
      'ein',
      'eine',
      'einen',
      'mein',
      'meine',
      'ich',
      'wir',
      'sehr',
    ],
    weak: ['ist', 'bin', 'sind', 'habe', 'hat', 'kann', 'will', 'möchte', 'würde', 'noch', 'nicht', 'ihr', 'ihre'],
    fillers: ['äh', 'ähm', 'hm', 'also', 'naja', 'tja'],
    numbers: ['null', 'eins', 'zwei', 'drei', 'vier', 'fünf', 'sechs', 'sieben', 'acht', 'neun', 'zehn', 'hundert'],
  },
  fr: {
    continuing: [
      'et',
      'mais',
      'ou',
      'donc',
      'car',
      'parce',
      'que',
      'qui',
      'quand',
      'comme',
      'à',
      'au',
      'aux',
      'de',
      'du',
      'des',
      'en',
      'dans',
      'pour',
      'par',
      'avec',
      'sans',
      'sur',
      'sous',
      'chez',
      'vers',
      'le',
      'la',
      'les',
      'un',
      'une',
      'mon',
      'ma',
      'mes',
      'votre',
      'notre',
      'je',
      'nous',
      'très',
      'plus',
    ],
    weak: ['est', 'suis', 'vais', 'veux', 'peux', 'pas', 'si'],
    fillers: ['euh', 'heu', 'ben', 'bah', 'enfin', 'bon'],
    numbers: ['zéro', 'un', 'deux', 'trois', 'quatre', 'cinq', 'six', 'sept', 'huit', 'neuf', 'dix', 'cent', 'mille'],
  },
};

export interface HeuristicTurnDetectorOptions {
  /** Extra continuing words, fillers… per language, added to the built-in ones. @default {} */
  extra?: Partial<Record<string, Partial<LanguageRules>>>;
}

export type { LanguageRules as TurnDetectorLanguageRules };

/**
 * The built-in detector: reads the end of the transcript.
 *
 * | the turn so far ends… | probability |
 * |---|---|
 * | with "…", "-", "," or ":" | 0.1 |
 * | on a continuing word ("to", "and", "the", "I'm"), or is only hesitation ("Um,") | 0.1 (0.3 with a full stop, 0.7 with "?") |
 * | on an auxiliary or modal ("will", "can", "is") | 0.4 (0.75 with a full stop or "?") |
 * | on a run of two or more digits or number words ("five five five") | 0.25 |
 * | with "?" | 0.95 |
 * | with "." or "!" | 0.9 |
 * | otherwise (no punctuation) | 0.6 |
 *
 * English, Spanish, German and French rules are built in; other languages use the punctuation rows only.
 */
export class HeuristicTurnDetector implements TurnDetector {
  private readonly rules = new Map<string, CompiledRules>();

  constructor(private readonly options: HeuristicTurnDetectorOptions = {}) {}

  endOfTurnProbability(input: TurnDetectorInput): number {
    const text = input.transcript.trim();
    if (text === '') return 0.5;
    const rules = this.rulesFor(input.language);
    const words = transcriptWords(text);
    if (words.length === 0) return 0.5;
    if (/(\.\.\.|…|[-–—,:;])$/u.test(text)) return 0.1;
    const last = words[words.length - 1] as string;
    const question = /[?？]$/u.test(text);
    const stop = /[.!。！]$/u.test(text);
    if (words.every((w) => rules.fillers.has(w))) return 0.1;
    if (rules.continuing.has(last) || rules.fillers.has(last)) {
      // "Is that okay with you?" ends on a preposition and is still a question; STTs also put full stops
      // after fragments, so a stop only softens the verdict.
      return question ? 0.7 : stop ? 0.3 : 0.1;
    }
    if (rules.weak.has(last)) return question ? 0.9 : stop ? 0.75 : 0.4;
    if (trailingNumberRun(words, rules.numbers) >= 2 || /\d{2,}[.,]?$/.test(text)) return 0.25;
    if (question) return 0.95;
    if (stop) return 0.9;
    return 0.6;
  }

  private rulesFor(language: string): CompiledRules {
    const lang = baseLanguage(language);
    let compiled = this.rules.get(lang);
    if (!compiled) {
      const base = RULES[lang] ?? { continuing: [], weak: [], fillers: [], numbers: [] };
      const extra = this.options.extra?.[lang];
      const set = (a: string[], b: string[] | undefined) => new Set([...a, ...(b ?? [])].flatMap((p) => transcriptWords(p)));
      compiled = {
        continuing: set(base.continuing, extra?.continuing),
        weak: set(base.weak, extra?.weak),
        fillers: set(base.fillers, extra?.fillers),
        numbers: set(base.numbers, extra?.numbers),
      };
      this.rules.set(lang, compiled);
    }
    return compiled;
  }
}

type CompiledRules = Record<keyof LanguageRules, Set<string>>;

function trailingNumberRun(words: string[], numbers: Set<string>): number {
  let run = 0;
  for (let i = words.length - 1; i >= 0 && (numbers.has(words[i] as string) || /^\d+$/.test(words[i] as string)); i--) run++;
  return run;
}

/** How long a pause must last before the turn ends, from the detector's probability. */
export interface EndpointingOptions {
  /** Pause that ends a turn the detector is sure is finished (probability ≥ 0.8). @default 0.5 */
  minSilenceSecs?: number;
  /** Pause that ends a turn the detector thinks is unfinished (probability ≤ 0.2). @default 2.0 */
  maxSilenceSecs?: number;
  /** @default the built-in {@link HeuristicTurnDetector} */
  detector?: TurnDetector;
}

/** Silence (ms) to wait for a turn scored `probability`: linear between the two ends. */
export function silenceForProbability(probability: number, minMs: number, maxMs: number): number {
  const p = Math.min(1, Math.max(0, probability));
  if (p >= 0.8) return minMs;
  if (p <= 0.2) return maxMs;
  return minMs + ((maxMs - minMs) * (0.8 - p)) / 0.6;
}
