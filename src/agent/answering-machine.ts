/**
 * In-band answering-machine detection for outbound calls: who picked up, from what the far end does in its
 * first seconds. Works on every carrier (it only needs the caller's audio and STT); a carrier's own machine
 * detection can feed its verdict in through {@link AnsweringMachineDetector.carrierVerdict}.
 *
 * Evidence, in the order it usually arrives:
 * - greeting cues in the transcript ("leave a message", "not available", "after the tone"…) → machine;
 * - a beep (a steady pure tone, see BeepDetector) → machine;
 * - long uninterrupted opening speech (a person says "Hello?" and waits; a greeting goes on) → machine;
 * - a short opening followed by silence → human. The silence needed is short after a typical human opener
 *   ("Hello?", "… speaking", "Yes?") and longer otherwise ("Hi, this is Dana." starts greetings too);
 * - nothing said at all for `noSpeechSecs` → unknown.
 * A human verdict is revised to machine if a beep or a strong cue ("after the tone") still comes within
 * `reviseWithinSecs` of the first speech.
 *
 * After a machine verdict it tells when the message can start: at the end of the beep, or — with no beep —
 * once the greeting has been quiet for `maxWaitForBeepSecs`.
 */
import type { AnsweredBy } from './frames.ts';
import { baseLanguage } from './backchannels.ts';

export interface AnsweringMachineDetectorOptions {
  /** @default 'en' */
  language?: string;
  /** Opening speech at least this long (pauses under `humanSilenceSecs` included) is a greeting. @default 3.5 */
  longGreetingSecs?: number;
  /** Silence after a short opening that makes it a person, after a typical human opener. @default 0.5 */
  humanSilenceSecs?: number;
  /** The same after an opening that could start a greeting too. @default 0.9 */
  ambiguousSilenceSecs?: number;
  /** No speech at all this long after the answer: unknown. @default 6 */
  noSpeechSecs?: number;
  /** A human verdict can still turn into machine on a beep or a strong cue this long after the first speech. @default 15 */
  reviseWithinSecs?: number;
  /** With no beep, the message starts once the greeting has been quiet this long. @default 2 */
  maxWaitForBeepSecs?: number;
  /** After the beep ends, wait this long before speaking. @default 0.25 */
  afterBeepSecs?: number;
  /** Whatever happens, the message starts this long after the machine verdict. @default 45 */
  maxGreetingSecs?: number;
}

export interface AnsweringMachineVerdict {
  answeredBy: AnsweredBy;
  /** What decided it: `transcript`, `beep`, `long-greeting`, `short-answer`, `no-speech`, `carrier`. */
  how: string;
  /** When it was decided (clock ms). */
  atMs: number;
  /** The words that decided it, when words did. */
  evidence?: string;
}

const MACHINE_CUES: Record<string, RegExp[]> = {
  en: [
    /\bleave (?:me |us )?(?:a|your|your name|a brief|a short)\b.*\bmessage\b/,
    /\bleave (?:a |your )?message\b/,
    /\b(?:after|at) the (?:tone|beep)\b/,
    /\brecord (?:your|a) message\b/,
    /\bvoice ?mail\b/,
    /\bmail ?box\b/,
    /\b(?:is |am |are )?(?:not|un)available\b/,
    /\b(?:can'?t|cannot|can not|unable to) (?:take|answer|get to|come to) (?:your|the|my) (?:call|phone)\b/,
    /\bcome to the phone\b/,
    /\b(?:you'?ve|you have) reached\b/,
    /\bget back to you\b/,
    /\b(?:call|ring) you back\b/,
    /\breturn your call\b/,
    /\bthe (?:person|party|number) you (?:are|have) (?:calling|called|dialed|trying)\b/,
    /\bpress (?:pound|the pound key|star)\b/,
    /\bwhen you(?:'re| are) (?:finished|done) recording\b/,
    /\bsorry (?:i|we) missed your call\b/,
    /\bnot (?:here|in) right now\b/,
    /\baway from (?:the|my) (?:phone|desk)\b/,
  ],
  es: [/\bdeje (?:su |un )?mensaje\b/, /\bdespués (?:del tono|de la señal)\b/, /\bbuzón\b/, /\bno (?:está|estoy) disponible\b/],
  de: [/\bnachricht\b/, /\bnach dem (?:signalton|piepton|ton)\b/, /\bmailbox\b/, /\bnicht erreichbar\b/, /\banrufbeantworter\b/],
  fr: [/\blaissez (?:un |votre )?message\b/, /\baprès le (?:bip|signal)\b/, /\bmessagerie\b/, /\bpas disponible\b/, /\brépondeur\b/],
};

/** Cues strong enough to overturn a human verdict. */
const STRONG_CUES: Record<string, RegExp[]> = {
  en: [
    /\b(?:after|at) the (?:tone|beep)\b/,
    /\bleave (?:a |your )?message\b/,
    /\brecord (?:your|a) message\b/,
    /\bvoice ?mail\b/,
    /\bmail ?box\b/,
  ],
  es: [/\bdeje (?:su |un )?mensaje\b/, /\bdespués (?:del tono|de la señal)\b/],
  de: [/\bnach dem (?:signalton|piepton|ton)\b/, /\banrufbeantworter\b/],
  fr: [/\baprès le (?:bip|signal)\b/, /\brépondeur\b/],
};

/** Typical first words of a person answering (the short silence is enough after them). */
const HUMAN_OPENERS: Record<string, RegExp[]> = {
  en: [
    /^(?:hello|hi|hey|yes|yeah|yep|hallo|hullo)\W*\?\s*$/,
    /^(?:hello|hi|hey)[\s,]+(?:hello|hi)\W*\??\s*$/,
    /\bspeaking\W*$/,
    /\bwho(?:'s| is) (?:this|calling|it)\b/,
    /^(?:\w+\W+)?how can i help(?: you)?\W*$/,
    /\?\s*$/,
  ],
  es: [/^(?:hola|sí|diga|dígame|bueno|aló)\W*\??\s*$/, /\?\s*$/],
  de: [/^(?:hallo|ja|guten tag)\W*\??\s*$/, /\bam apparat\b/, /\?\s*$/],
  fr: [/^(?:allô|allo|oui|bonjour)\W*\??\s*$/, /\?\s*$/],
};

export class AnsweringMachineDetector {
  /** Called once per verdict (a human verdict revised to machine calls it again). */
  onVerdict: ((verdict: AnsweringMachineVerdict) => void) | undefined;
  /** Called once, after a machine verdict, when the message can start. */
  onReady: ((info: { reason: 'beep' | 'silence' | 'time-limit'; atMs: number }) => void) | undefined;
  verdict: AnsweringMachineVerdict | undefined;

  private readonly lang: string;
  private readonly longGreetingMs: number;
  private readonly humanSilenceMs: number;
  private readonly ambiguousSilenceMs: number;
  private readonly noSpeechMs: number;
  private readonly reviseWithinMs: number;
  private readonly maxWaitForBeepMs: number;
  private readonly afterBeepMs: number;
  private readonly maxGreetingMs: number;

  private readonly startedAtMs: number;
  private firstSpeechMs: number | undefined;
  private speaking = false;
  private lastSpeechEndMs: number | undefined;
  /** Last time sound at the opening's level was heard (VAD confirms speech only after a delay). */
  private lastSoundMs: number | undefined;
  private finals: string[] = [];
  private interim = '';
  private beepActive = false;
  private beepEndedAtMs: number | undefined;
  private ready = false;
  private machineAtMs: number | undefined;

  constructor(nowMs: number, options: AnsweringMachineDetectorOptions = {}) {
    this.startedAtMs = nowMs;
    this.lang = baseLanguage(options.language);
    this.longGreetingMs = (options.longGreetingSecs ?? 3.5) * 1000;
    this.humanSilenceMs = (options.humanSilenceSecs ?? 0.5) * 1000;
    this.ambiguousSilenceMs = (options.ambiguousSilenceSecs ?? 0.9) * 1000;
    this.noSpeechMs = (options.noSpeechSecs ?? 6) * 1000;
    this.reviseWithinMs = (options.reviseWithinSecs ?? 15) * 1000;
    this.maxWaitForBeepMs = (options.maxWaitForBeepSecs ?? 2) * 1000;
    this.afterBeepMs = (options.afterBeepSecs ?? 0.25) * 1000;
    this.maxGreetingMs = (options.maxGreetingSecs ?? 45) * 1000;
  }

  /** The far end started speaking at `atMs`. */
  speechStarted(atMs: number): void {
    this.speaking = true;
    this.firstSpeechMs ??= atMs;
  }

  /** The far end stopped speaking at `atMs` (a pause; it may go on). */
  speechStopped(atMs: number): void {
    this.speaking = false;
    this.lastSpeechEndMs = atMs;
  }

  /**
   * Sound at the level of the opening speech was heard at `atMs`. VAD reports speech starting again only
   * after its start delay; sound says sooner that the far end is still talking (a greeting's next sentence).
   */
  soundAt(atMs: number): void {
    this.lastSoundMs = Math.max(this.lastSoundMs ?? atMs, atMs);
  }

  transcript(text: string, final: boolean): void {
    if (final) {
      this.finals.push(text);
      this.interim = '';
    } else {
      this.interim = text;
    }
  }

  beepStarted(atMs: number): void {
    this.beepActive = true;
    this.decideMachine('beep', atMs);
  }

  beepEnded(atMs: number): void {
    this.beepActive = false;
    this.beepEndedAtMs = atMs;
    this.decideMachine('beep', atMs);
  }

  /** The carrier's own machine detection answered (Twilio `AnsweredBy`, Plivo `machine`). */
  carrierVerdict(answeredBy: AnsweredBy, atMs: number, evidence?: string): void {
    if (answeredBy === 'machine') this.decideMachine('carrier', atMs, evidence);
    else if (answeredBy === 'human' && this.verdict === undefined)
      this.decide({ answeredBy, how: 'carrier', atMs, ...(evidence ? { evidence } : {}) });
  }

  /** Re-evaluates with the time now; call on every event and on a short timer. */
  update(nowMs: number): void {
    const text = this.text();
    if (this.verdict?.answeredBy === 'machine') return this.checkReady(nowMs);
    const sinceFirst = this.firstSpeechMs === undefined ? 0 : nowMs - this.firstSpeechMs;
    const cues = (this.verdict ? STRONG_CUES : MACHINE_CUES)[this.lang] ?? [];
    const cue = cues.find((re) => re.test(text));
    if (cue && (this.verdict === undefined || sinceFirst <= this.reviseWithinMs)) return this.decideMachine('transcript', nowMs, text);
    if (this.verdict) return;
    if (this.firstSpeechMs === undefined) {
      if (nowMs - this.startedAtMs >= this.noSpeechMs) this.decide({ answeredBy: 'unknown', how: 'no-speech', atMs: nowMs });
      return;
    }
    // Undecided so far means no pause was long enough for a person waiting for us: it is all one opening.
    const openingEnd = this.speaking ? nowMs : (this.lastSpeechEndMs ?? nowMs);
    if (openingEnd - this.firstSpeechMs >= this.longGreetingMs) return this.decideMachine('long-greeting', nowMs, text);
    if (!this.speaking && this.lastSpeechEndMs !== undefined) {
      const opener = (HUMAN_OPENERS[this.lang] ?? []).some((re) => re.test(text));
      const needed = text === '' ? this.ambiguousSilenceMs + 300 : opener ? this.humanSilenceMs : this.ambiguousSilenceMs;
      const quietSince = Math.max(this.lastSpeechEndMs, this.lastSoundMs ?? -Infinity);
      if (nowMs - quietSince >= needed) {
        this.decide({ answeredBy: 'human', how: 'short-answer', atMs: nowMs, ...(text ? { evidence: text } : {}) });
      }
    }
  }

  private text(): string {
    return [...this.finals, this.interim]
      .join(' ')
      .toLowerCase()
      .replace(/[\u2018\u2019]/g, "'")
      .trim();
  }

  private decideMachine(how: string, atMs: number, evidence?: string): void {
    const verdict = this.verdict;
    if (verdict?.answeredBy === 'machine') return this.checkReady(atMs);
    if (verdict && atMs - (this.firstSpeechMs ?? this.startedAtMs) > this.reviseWithinMs) return;
    this.machineAtMs = atMs;
    this.decide({ answeredBy: 'machine', how: verdict ? `${how} (revised)` : how, atMs, ...(evidence ? { evidence } : {}) });
    this.checkReady(atMs);
  }

  private decide(verdict: AnsweringMachineVerdict): void {
    this.verdict = verdict;
    this.onVerdict?.(verdict);
  }

  private checkReady(nowMs: number): void {
    if (this.ready || this.verdict?.answeredBy !== 'machine') return;
    if (this.beepActive) return;
    let reason: 'beep' | 'silence' | 'time-limit' | undefined;
    if (this.beepEndedAtMs !== undefined && nowMs - this.beepEndedAtMs >= this.afterBeepMs) reason = 'beep';
    else if (
      this.beepEndedAtMs === undefined &&
      !this.speaking &&
      this.lastSpeechEndMs !== undefined &&
      nowMs - this.lastSpeechEndMs >= this.maxWaitForBeepMs
    )
      reason = 'silence';
    else if (nowMs - (this.machineAtMs ?? nowMs) >= this.maxGreetingMs) reason = 'time-limit';
    if (!reason) return;
    this.ready = true;
    this.onReady?.({ reason, atMs: nowMs });
  }
}
