import type { LlmContext } from '../services/llm/context.ts';
import type { Direction, Frame } from '../pipeline/frames.ts';
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

  constructor(
    private readonly llmContext: LlmContext,
    private readonly onTurn: (turn: AssistantTurn) => void,
  ) {
    super('AssistantTurnRecorder');
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

/**
 * The prefix of `text` the callee heard: the words whose audio ended by `playedSec`, located in order in the
 * generated text (TTS word timestamps echo the words they spoke; a word spoken in another form, such as a
 * number read out, is skipped and the cut falls after the last word that was found). Always a prefix of
 * `text`, cut at a word boundary.
 */
export function heardPrefix(text: string, words: readonly Word[], playedSec: number): string {
  let cut = 0;
  let cursor = 0;
  const lower = text.toLowerCase();
  for (const word of words) {
    if (word.endSec > playedSec + 1e-6) break;
    const token = normalizeToken(word.text);
    if (token === '') continue;
    const at = lower.indexOf(token, cursor);
    if (at < 0) continue;
    cursor = at + token.length;
    cut = cursor;
  }
  if (cut === 0) return '';
  // Keep punctuation glued to the last heard word ("Grace," stays "Grace,").
  while (cut < text.length && /[^\s\p{L}\p{N}]/u.test(text[cut] as string)) cut++;
  return text.slice(0, cut).trimEnd();
}
