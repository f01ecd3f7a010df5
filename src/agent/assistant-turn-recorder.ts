import type { LlmContext } from '../services/llm/context.ts';
import type { Direction, Frame } from '../pipeline/frames.ts';
import { normalizeForSpeech } from '../services/tts/normalize.ts';
import { FrameProcessor } from '../pipeline/processor.ts';

/** One spoken reply as the call record sees it. */
export interface AssistantTurn {
  utteranceId: string;
  /** Everything the bot meant to say in this utterance. */
  text: string;
  /** The part the callee heard: a prefix of `text`, from the carrier's playback acknowledgements. */
  heard: string;
  interrupted: boolean;
  /** `performance.now()` ms when its audio started / stopped playing (undefined if it never played). */
  startedAtMs?: number;
  endedAtMs: number;
}

interface Word {
  text: string;
  endSec: number;
}

interface UtteranceEntry {
  /** Text as generated (LLM tokens or a fixed line). */
  text: string;
  words: Word[];
  playedSec: number;
  startedAtMs?: number;
}

/**
 * Sits after the output transport. Collects each utterance's text and word timings, follows the carrier's
 * playback acknowledgements, and when an utterance ends — played through or interrupted — reports what the
 * callee heard and cuts the LLM context's copy of it down to exactly that.
 */
export class AssistantTurnRecorder extends FrameProcessor {
  private readonly utterances = new Map<string, UtteranceEntry>();
  /** Response id whose `llm.text` is arriving. */
  private currentResponse: string | undefined;

  /**
   * @param onTurn every utterance that played (through, or cut short by an interruption)
   * @param onDiscarded an utterance dropped before any of its audio was sent (a held early reply the
   *   caller talked over, a reply abandoned for a newer one): not a turn of the conversation
   */
  constructor(
    private readonly llmContext: LlmContext,
    private readonly onTurn: (turn: AssistantTurn) => void,
    private readonly onDiscarded?: (utterance: { utteranceId: string; text: string }) => void,
  ) {
    super('AssistantTurnRecorder');
  }

  /** Some reply with words is generated and not yet played through (or cut off). */
  get speaking(): boolean {
    for (const entry of this.utterances.values()) if (entry.text.trim() !== '' || entry.words.length > 0) return true;
    return false;
  }

  protected override processFrame(frame: Frame, direction: Direction): void {
    switch (frame.type) {
      case 'llm.response.start':
        this.currentResponse = frame.responseId;
        this.entry(frame.responseId);
        break;
      case 'llm.text':
        if (this.currentResponse) this.entry(this.currentResponse).text += frame.text;
        break;
      case 'llm.response.end':
        this.currentResponse = undefined;
        break;
      case 'tts.started':
        this.entry(frame.utteranceId);
        break;
      case 'tts.speak':
        if (frame.utteranceId) this.entry(frame.utteranceId).text = frame.text;
        break;
      case 'tts.text':
        if (frame.endSec !== undefined) this.entry(frame.utteranceId).words.push({ text: frame.text, endSec: frame.endSec });
        break;
      case 'bot.speech.started':
        if (direction === 'downstream') this.entry(frame.utteranceId).startedAtMs = performance.now();
        break;
      case 'audio.played': {
        const entry = this.utterances.get(frame.utteranceId);
        if (!entry) break;
        entry.playedSec = Math.max(entry.playedSec, frame.playedSec);
        if (frame.complete) this.finish(frame.utteranceId, false);
        break;
      }
      default:
        break;
    }
    this.pushFrame(frame, direction);
  }

  /** The output reported every interrupted utterance's final position just before the interruption. */
  protected override onInterruption(): void {
    for (const id of [...this.utterances.keys()]) this.finish(id, true);
    this.currentResponse = undefined;
  }

  /** The call is over (ended or cancelled): whatever was still playing counts as interrupted. */
  protected override onStop(): void {
    for (const id of [...this.utterances.keys()]) this.finish(id, true);
  }

  private entry(utteranceId: string): UtteranceEntry {
    let entry = this.utterances.get(utteranceId);
    if (!entry) {
      entry = { text: '', words: [], playedSec: 0 };
      this.utterances.set(utteranceId, entry);
    }
    return entry;
  }

  private finish(utteranceId: string, interrupted: boolean): void {
    const entry = this.utterances.get(utteranceId);
    if (!entry) return;
    this.utterances.delete(utteranceId);
    // The context holds what was generated for the utterance (LLM reply or fixed line); frames are a fallback.
    const generated = this.llmContext.assistantText(utteranceId);
    const text = (generated || entry.text || entry.words.map((w) => w.text).join(' ')).trim();
    if (text === '') return;
    const heard = interrupted ? heardPrefix(text, entry.words, entry.playedSec) : text;
    if (interrupted) this.llmContext.reviseHeard(utteranceId, heard);
    if (interrupted && entry.startedAtMs === undefined && entry.playedSec === 0) {
      this.onDiscarded?.({ utteranceId, text });
      return;
    }
    this.onTurn({
      utteranceId,
      text,
      heard,
      interrupted: interrupted && heard !== text,
      ...(entry.startedAtMs !== undefined ? { startedAtMs: entry.startedAtMs } : {}),
      endedAtMs: performance.now(),
    });
  }
}

const normalizeToken = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}']+/gu, '');

interface TextToken {
  /** Where the token ends in the text. */
  end: number;
  /** The token as written, normalised ("3:30" → "330"). */
  written: string;
  /** The words a TTS says for it, normalised ("3:30" → ["three", "thirty"]); empty when it says nothing. */
  spoken: string[];
}

function tokenize(text: string): TextToken[] {
  const tokens: TextToken[] = [];
  for (const match of text.matchAll(/\S+/g)) {
    const raw = match[0];
    const written = normalizeToken(raw);
    const spoken = normalizeForSpeech(raw).split(/\s+/).map(normalizeToken).filter(Boolean);
    if (written === '' && spoken.length === 0) continue; // punctuation on its own
    tokens.push({ end: (match.index as number) + raw.length, written, spoken });
  }
  return tokens;
}

/** How far ahead a word is looked for when the words before it were not recognised. */
const LOOKAHEAD_TOKENS = 4;

/**
 * The prefix of `text` the callee heard: the words whose audio ended by `playedSec`, aligned in order with
 * the generated text. TTS word timestamps echo the words they spoke, which may be the text's words read out
 * ("3rd" → "third", "3:30" → "three thirty"): a token counts as heard once every word it is read as has
 * played, and a token read as several words is not heard until its last one is. Always a prefix of `text`,
 * cut at a word boundary; never longer than what played.
 */
export function heardPrefix(text: string, words: readonly Word[], playedSec: number): string {
  const tokens = tokenize(text);
  let cut = 0;
  let index = 0; // token being matched
  let within = 0; // words of its spoken form already heard
  for (const word of words) {
    if (word.endSec > playedSec + 1e-6) break;
    const heard = normalizeToken(word.text);
    if (heard === '' || index >= tokens.length) continue;
    const current = tokens[index] as TextToken;
    if (within > 0 && current.spoken[within] === heard) {
      within++;
    } else {
      // The word starts a token: this one, or (when words went unrecognised) one a little further on.
      let found = -1;
      for (let k = index + (within > 0 ? 1 : 0); k < Math.min(tokens.length, index + LOOKAHEAD_TOKENS + 1); k++) {
        const token = tokens[k] as TextToken;
        if (token.written === heard || token.spoken[0] === heard) {
          found = k;
          break;
        }
      }
      if (found < 0) continue; // a word the text does not have: it proves nothing
      // Tokens before it were spoken (audio plays in order), even if their words were not recognised.
      if (found > index) cut = Math.max(cut, (tokens[found - 1] as TextToken).end);
      index = found;
      const token = tokens[index] as TextToken;
      within = token.written === heard && token.spoken[0] !== heard ? token.spoken.length : 1;
    }
    const token = tokens[index] as TextToken;
    if (within >= Math.max(1, token.spoken.length)) {
      cut = token.end;
      index++;
      within = 0;
    }
  }
  if (cut === 0) return '';
  // Keep punctuation glued to the last heard word ("Grace," stays "Grace,").
  while (cut < text.length && /[^\s\p{L}\p{N}]/u.test(text[cut] as string)) cut++;
  return text.slice(0, cut).trimEnd();
}
