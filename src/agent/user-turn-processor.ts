import type { LlmContext } from '../services/llm/context.ts';
import type { Direction, Frame, FrameOf } from '../pipeline/frames.ts';
import { makeFrame } from '../pipeline/frames.ts';
import { FrameProcessor } from '../pipeline/processor.ts';
import './frames.ts';

/** Silence inside speech shorter than this (a gap between words) still counts as voicing for barge-in. */
const PAUSE_GRACE_MS = 100;

export interface UserTurnOptions {
  /** Let the caller interrupt the bot. @default true */
  bargeIn?: boolean;
  /**
   * How long the caller must keep talking over the bot (from speech onset) before it counts as barge-in;
   * shorter speech ("mm-hmm", "yeah") is a backchannel and is ignored. @default 0.5
   */
  minBargeInSecs?: number;
  /** After our VAD says the caller stopped, wait at most this long for STT's final words. @default 1.0 */
  finalTranscriptTimeoutSecs?: number;
  /** Keypad digits are gathered until `#` or this much quiet. @default 1.5 */
  dtmfTimeoutSecs?: number;
  /**
   * End the caller's turn as soon as VAD hears silence and STT reports the end of speech (Deepgram's
   * endpointing, ~300 ms), instead of waiting for VAD's full `stopSecs`. Replies start sooner; if the caller
   * goes on, the new words join the same turn and the early reply is interrupted.
   * @default false
   */
  fastEndpointing?: boolean;
}

/** A user turn as the call record sees it. */
export interface UserTurn {
  text: string;
  /** `performance.now()` ms when the caller started / stopped speaking (or pressed the first/last key). */
  startedAtMs: number;
  endedAtMs: number;
  /** `speech` or `dtmf`. */
  source: 'speech' | 'dtmf';
}

export interface UserTurnEvents {
  onUserTurn?(turn: UserTurn): void;
  /** Caller speech over the bot that stayed under the barge-in minimum. */
  onBackchannel?(info: { durationSec: number }): void;
  /**
   * Barge-in decided; `onsetMs` is when the caller started speaking, `detectedAtMs` when VAD reported it,
   * `voicedMs` the voiced time counted.
   */
  onBargeIn?(info: { onsetMs: number; detectedAtMs: number; decidedAtMs: number; voicedMs: number }): void;
}

/**
 * Decides when the caller's turn starts and ends, and when the caller interrupts the bot.
 *
 * - A turn starts on VAD speech start. While the bot speaks, speech must last `minBargeInSecs` to
 *   interrupt (broadcast `interruption`); shorter speech is a backchannel and its words are dropped.
 * - A turn ends on VAD speech stop, confirmed by STT: once the final transcript covering the speech is in
 *   (or `finalTranscriptTimeoutSecs` passed), the words go into the context and the LLM is run.
 * - Words STT hears that VAD missed still make a turn; DTMF digits make a turn `DTMF: <digits>`.
 */
export class UserTurnProcessor extends FrameProcessor {
  private readonly bargeIn: boolean;
  private readonly minBargeInMs: number;
  private readonly finalTimeoutMs: number;
  private readonly dtmfTimeoutMs: number;
  private readonly fastEndpointing: boolean;
  /** VAD hears silence inside the current turn (its position), before `stopSecs` has passed. */
  private pausedAt: { atSec: number; atMs: number } | undefined;
  /** The turn was ended on STT's endpoint while VAD had not yet decided the caller stopped. */
  private endedEarly = false;
  /** The current VAD segment began before the last committed turn ended: it was already answered. */
  private staleSegment = false;
  /** The latest final had STT's end-of-speech flag and nothing came after it. */
  private lastFinalEndsSpeech = false;

  private botSpeaking = false;
  /** Caller is speaking and it counts as their turn. */
  private inTurn = false;
  /**
   * Caller speech over the bot, not yet long enough to interrupt. Only voiced time counts: VAD's stop
   * decision lags by `stopSecs`, so a short "yeah" must not ride that lag into a barge-in. Pauses shorter
   * than {@link PAUSE_GRACE_MS} (gaps between words) count as voiced.
   */
  private candidate:
    | {
        onsetSec: number;
        onsetMs: number;
        /** When VAD reported the speech (its start event arrived). */
        detectedAtMs: number;
        /** Voiced time of the stretches already closed by a real pause. */
        voicedMs: number;
        /** When the current voiced stretch began; undefined while in a real pause. */
        voicingSinceMs: number | undefined;
        /** Start of a pause inside the current stretch, not yet known to be real. */
        pauseAtMs: number | undefined;
        timer: ReturnType<typeof setTimeout> | undefined;
        /** Finals heard meanwhile: kept if it becomes a turn, dropped if it was a backchannel. */
        finals: string[];
      }
    | undefined;
  /** The last VAD segment was a backchannel: its transcripts are dropped. */
  private backchannelSegment = false;
  private turnStartMs = 0;
  private turnEndMs = 0;
  private finals: string[] = [];
  private interim = '';
  private awaitingFinal: ReturnType<typeof setTimeout> | undefined;
  /** A reply has been asked for and nothing of it has been heard yet. */
  private replyUnheard = false;
  private digits = '';
  private digitsStartMs = 0;
  private digitTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly context: LlmContext,
    options: UserTurnOptions = {},
    private readonly events: UserTurnEvents = {},
  ) {
    super('UserTurnProcessor');
    this.bargeIn = options.bargeIn ?? true;
    this.minBargeInMs = (options.minBargeInSecs ?? 0.5) * 1000;
    this.finalTimeoutMs = (options.finalTranscriptTimeoutSecs ?? 1.0) * 1000;
    this.dtmfTimeoutMs = (options.dtmfTimeoutSecs ?? 1.5) * 1000;
    this.fastEndpointing = options.fastEndpointing ?? false;
  }

  protected override processFrame(frame: Frame, direction: Direction): void {
    switch (frame.type) {
      case 'bot.speech.started':
        this.botSpeaking = true;
        this.replyUnheard = false;
        break;
      case 'bot.speech.stopped':
        this.botSpeaking = false;
        // The bot went quiet while the caller was already talking over it: it is now simply their turn.
        if (this.candidate) this.promoteCandidate(false);
        break;
      case 'vad.speech.started':
        this.onSpeechStarted(frame);
        break;
      case 'vad.speech.stopped':
        this.onSpeechStopped(frame);
        break;
      case 'vad.speech.paused':
        if (this.inTurn) {
          this.pausedAt = { atSec: frame.atSec, atMs: frame.atMs };
          if (this.fastEndpointing && this.lastFinalEndsSpeech && this.interim === '') this.endTurnEarly();
        }
        if (this.candidate && this.candidate.voicingSinceMs !== undefined && this.candidate.pauseAtMs === undefined) {
          this.candidate.pauseAtMs = frame.atMs; // maybe just a gap between words: decided on resume or grace expiry
        }
        break;
      case 'vad.speech.resumed':
        this.pausedAt = undefined;
        if (this.endedEarly) {
          // The caller went on after we ended their turn on STT's endpoint: same turn, continued.
          this.endedEarly = false;
          this.startTurn(frame.atSec, frame.atMs, this.replyUnheard);
        }
        if (this.candidate) {
          const c = this.candidate;
          if (c.voicingSinceMs !== undefined && c.pauseAtMs !== undefined && frame.atMs - c.pauseAtMs > PAUSE_GRACE_MS) {
            c.voicedMs += Math.max(0, c.pauseAtMs - c.voicingSinceMs); // a real pause: its time does not count
            c.voicingSinceMs = frame.atMs;
          }
          c.voicingSinceMs ??= frame.atMs;
          c.pauseAtMs = undefined;
          this.armCandidate();
        }
        break;
      case 'transcription':
        this.onTranscription(frame);
        return; // consumed: the turn's words travel on in the context
      case 'dtmf.in':
        this.onDigit(frame.digit);
        break;
      case 'audio.in':
        // The caller's audio arrives every 20 ms inside the busy poll phase, where timers must wait: checking
        // here too keeps a barge-in decision punctual when the event loop is congested.
        if (this.candidate) this.checkCandidateDue();
        break;
      default:
        break;
    }
    this.pushFrame(frame, direction);
  }

  private onSpeechStarted(frame: FrameOf<'vad.speech.started'>): void {
    this.backchannelSegment = false;
    // VAD running late (a busy server) can report speech STT already turned into a committed turn: that
    // speech is answered already and must neither interrupt the reply nor open a second, empty turn.
    if (frame.atMs < this.turnEndMs) {
      this.staleSegment = true;
      return;
    }
    if (this.inTurn || this.candidate) return;
    if (this.botSpeaking && this.bargeIn) {
      this.candidate = {
        onsetSec: frame.atSec,
        onsetMs: frame.atMs,
        detectedAtMs: performance.now(),
        voicedMs: 0,
        voicingSinceMs: frame.atMs,
        pauseAtMs: undefined,
        timer: undefined,
        finals: [],
      };
      this.armCandidate();
      return;
    }
    if (this.botSpeaking) return; // barge-in disabled: the caller's words while the bot talks are not a turn
    this.startTurn(frame.atSec, frame.atMs, this.replyUnheard);
  }

  /** Fires when the candidate's voiced time reaches the barge-in minimum, if it keeps voicing until then. */
  private armCandidate(): void {
    const candidate = this.candidate;
    if (!candidate || candidate.voicingSinceMs === undefined) return;
    this.clearTimer(candidate.timer);
    const dueAt = candidate.voicingSinceMs + (this.minBargeInMs - candidate.voicedMs);
    candidate.timer = this.setTimer(() => this.candidateDue(), Math.max(0, dueAt - performance.now()));
  }

  /** Promotes the candidate if its voiced time has reached the minimum and the caller is still voicing. */
  private checkCandidateDue(): void {
    const c = this.candidate;
    if (!c || c.voicingSinceMs === undefined || c.pauseAtMs !== undefined) return;
    if (c.voicedMs + (performance.now() - c.voicingSinceMs) >= this.minBargeInMs) this.promoteCandidate(true);
  }

  /** The minimum is reached if the caller is still voicing; during a pause, wait to see if it is a real one. */
  private candidateDue(): void {
    const c = this.candidate;
    if (!c || c.voicingSinceMs === undefined) return;
    if (c.pauseAtMs === undefined) return this.promoteCandidate(true);
    const graceEndsAt = c.pauseAtMs + PAUSE_GRACE_MS;
    const now = performance.now();
    if (now < graceEndsAt) {
      c.timer = this.setTimer(() => this.candidateDue(), graceEndsAt - now);
      return;
    }
    // A real pause: the stretch ended where it began; wait for more voice (or VAD's stop: a backchannel).
    c.voicedMs += Math.max(0, c.pauseAtMs - c.voicingSinceMs);
    c.voicingSinceMs = undefined;
    c.pauseAtMs = undefined;
    c.timer = undefined;
  }

  /** Caller speech over the bot lasted long enough (or the bot stopped): it becomes the caller's turn. */
  private promoteCandidate(interruptBot: boolean): void {
    const candidate = this.candidate;
    if (!candidate) return;
    this.clearTimer(candidate.timer);
    this.candidate = undefined;
    if (interruptBot) {
      const now = performance.now();
      const voicedMs = candidate.voicedMs + (candidate.voicingSinceMs !== undefined ? now - candidate.voicingSinceMs : 0);
      this.events.onBargeIn?.({ onsetMs: candidate.onsetMs, detectedAtMs: candidate.detectedAtMs, decidedAtMs: now, voicedMs });
    }
    this.startTurn(candidate.onsetSec, candidate.onsetMs, interruptBot || this.replyUnheard);
    this.finals.push(...candidate.finals);
  }

  private startTurn(atSec: number, atMs: number, interrupt: boolean): void {
    this.inTurn = true;
    this.lastFinalEndsSpeech = false;
    this.pausedAt = undefined;
    this.turnStartMs = atMs;
    this.finals = [];
    this.interim = '';
    this.clearTimer(this.awaitingFinal);
    this.awaitingFinal = undefined;
    // A reply still being prepared is stale now that the caller is talking again; one being spoken stops.
    if (interrupt) this.broadcast(makeFrame('interruption', { reason: 'caller speech' }));
    this.broadcast(makeFrame('user.speech.started', { atSec, atMs }));
  }

  private onSpeechStopped(frame: FrameOf<'vad.speech.stopped'>): void {
    this.pausedAt = undefined;
    if (this.staleSegment) {
      this.staleSegment = false;
      return;
    }
    if (this.endedEarly) {
      this.endedEarly = false; // VAD agrees, later: the turn is already over
      return;
    }
    if (this.candidate) {
      // Under the barge-in minimum: a backchannel. The bot keeps talking and its words are ignored.
      this.clearTimer(this.candidate.timer);
      this.events.onBackchannel?.({ durationSec: (frame.atMs - this.candidate.onsetMs) / 1000 });
      this.candidate = undefined;
      this.backchannelSegment = true;
      return;
    }
    if (!this.inTurn) return;
    this.endTurn(frame.atSec, frame.atMs);
  }

  /** STT says the speech ended and VAD hears silence: end the turn without waiting for `stopSecs`. */
  private endTurnEarly(): void {
    const pause = this.pausedAt;
    if (!pause || !this.inTurn) return;
    this.endedEarly = true;
    this.endTurn(pause.atSec, pause.atMs);
  }

  private endTurn(atSec: number, atMs: number): void {
    this.inTurn = false;
    this.turnEndMs = atMs;
    this.broadcast(makeFrame('user.speech.stopped', { atSec, atMs }));
    if (this.finals.length > 0 && this.interim === '') {
      this.commit('speech');
      return;
    }
    // Wait for STT to finalise the last words (our `user.speech.stopped` made it send Finalize).
    this.awaitingFinal = this.setTimer(() => {
      this.awaitingFinal = undefined;
      if (this.interim !== '') this.finals.push(this.interim);
      this.interim = '';
      this.commit('speech');
    }, this.finalTimeoutMs);
  }

  private onTranscription(frame: FrameOf<'transcription'>): void {
    const text = frame.text.trim();
    if (text === '') return;
    if (this.backchannelSegment && !this.inTurn) return;
    if (this.candidate) {
      // Speech over the bot that is not (yet) a turn: keep its finals until we know.
      if (frame.final) this.candidate.finals.push(text);
      return;
    }
    if (!frame.final) {
      this.interim = text;
      this.lastFinalEndsSpeech = false;
      return;
    }
    this.finals.push(text);
    this.interim = '';
    this.lastFinalEndsSpeech = frame.speechFinal === true;
    if (this.inTurn) {
      if (this.fastEndpointing && this.lastFinalEndsSpeech && this.pausedAt) this.endTurnEarly();
      return;
    }
    if (this.awaitingFinal !== undefined) {
      if (frame.speechFinal) {
        this.clearTimer(this.awaitingFinal);
        this.awaitingFinal = undefined;
        this.commit('speech');
      }
      return;
    }
    // STT heard words our VAD missed (short answers like "yes"): a turn of their own.
    if (this.botSpeaking) {
      this.finals = [];
      return;
    }
    const now = performance.now();
    this.turnStartMs = now;
    this.turnEndMs = now;
    if (this.replyUnheard) this.broadcast(makeFrame('interruption', { reason: 'caller speech' }));
    this.commit('speech');
  }

  private onDigit(digit: string): void {
    if (this.botSpeaking && this.bargeIn && this.digits === '') {
      this.broadcast(makeFrame('interruption', { reason: 'caller pressed a key' }));
    }
    if (this.digits === '') this.digitsStartMs = performance.now();
    this.clearTimer(this.digitTimer);
    this.digitTimer = undefined;
    if (digit === '#') return this.commitDigits();
    this.digits += digit;
    this.digitTimer = this.setTimer(() => this.commitDigits(), this.dtmfTimeoutMs);
  }

  private commitDigits(): void {
    this.clearTimer(this.digitTimer);
    this.digitTimer = undefined;
    if (this.digits === '') return;
    const text = `DTMF: ${this.digits}`;
    this.digits = '';
    this.turnStartMs = this.digitsStartMs;
    this.turnEndMs = performance.now();
    this.finals = [text];
    this.commit('dtmf');
  }

  private commit(source: UserTurn['source']): void {
    const text = this.finals.join(' ').trim();
    this.finals = [];
    if (text === '') return; // noise or a cough: nothing to answer
    const last = this.context.messages.at(-1);
    if (last?.role === 'user' && typeof last.content === 'string') {
      // The previous reply was abandoned before anything of it was heard: one turn, not two.
      last.content = `${last.content} ${text}`;
    } else {
      this.context.addUserMessage(text);
    }
    this.events.onUserTurn?.({ text, startedAtMs: this.turnStartMs, endedAtMs: this.turnEndMs, source });
    this.replyUnheard = true;
    this.pushFrame(makeFrame('llm.run', { context: this.context, reason: 'user turn' }));
  }

  private broadcast(frame: Frame): void {
    this.pushFrame(frame, 'upstream');
    this.pushFrame(frame, 'downstream');
  }
}
