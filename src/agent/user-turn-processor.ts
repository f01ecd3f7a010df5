import type { LlmContext } from '../services/llm/context.ts';
import type { Direction, Frame, FrameOf } from '../pipeline/frames.ts';
import { makeFrame } from '../pipeline/frames.ts';
import { FrameProcessor } from '../pipeline/processor.ts';
import '../transports/output-frames.ts';
import { backchannelMatcher, transcriptWords } from './backchannels.ts';
import './frames.ts';
import { KeypadCollector } from './keypad.ts';
import type { OverBotSound, TakeTurnReason } from './speech-over-bot.ts';
import { SpeechOverBot } from './speech-over-bot.ts';
import { SpeechLevelMeter } from './speech-level.ts';
import type { TurnDetector } from './turn-detector.ts';
import { HeuristicTurnDetector, silenceForProbability } from './turn-detector.ts';
import type { UserTurn, UserTurnEvents, UserTurnOptions } from './user-turn-options.ts';

export type { InterruptionOptions, UserTurn, UserTurnEvents, UserTurnOptions } from './user-turn-options.ts';

/** A processor timer (on the task's clock). */
type Timer = ReturnType<typeof setTimeout>;

/** How long a pause must last before STT is asked to finalise (shorter ones are gaps between words). */
const STOP_GRACE_MS = 120;
/**
 * An early reply for an unfinished-sounding turn starts this long before the turn would end (a typical LLM +
 * TTS time to first audio), not at once: most of those turns go on, and their early replies would be wasted.
 */
const EARLY_LEAD_MS = 900;
/** Sound in the closing pause (before VAD can confirm it is speech) holds the commit this long. */
const SOUND_HOLD_MS = 400;
/** Sound this close to the caller's level (or louder than the absolute floor below) may be them speaking again. */
const SOUND_MARGIN_DB = 15;
const SOUND_FLOOR_DBFS = -40;

interface OpenTurn {
  id: number;
  startedAtSec: number;
  startedAtMs: number;
  finals: string[];
  interim: string;
  /** Text of an earlier committed turn this one continues (its reply was never heard). */
  prefix: string;
  /** Context length before this turn's user message. */
  contextLength: number;
  /** The caller is quiet since (VAD pause); undefined while voicing. */
  quietSince: { atSec: number; atMs: number } | undefined;
  /** `user.speech.stopped` went out for the current pause (STT was asked to finalise). */
  stopped: boolean;
  /** A final transcript arrived after the stop (or the wait for one ran out). */
  wordsSettled: boolean;
  voicedMs: number;
  voicingSinceMs: number | undefined;
  /** The early reply under way, and the text it answers. */
  early: { text: string } | undefined;
  scoreSeq: number;
  graceTimer: Timer | undefined;
  finalTimer: Timer | undefined;
  commitTimer: Timer | undefined;
  /** When the commit timer is due. */
  commitAt: number | undefined;
  earlyTimer: Timer | undefined;
  /** Consecutive loud frames heard in the closing pause. */
  soundRun: number;
}

interface Committed {
  text: string;
  startedAtMs: number;
  endedAtMs: number;
  contextLength: number;
  report: UserTurn | undefined;
}

/**
 * Decides when the caller's turn starts and ends, and when the caller takes the turn from the bot.
 *
 * Over the bot: VAD onset pauses playback (`output.pause`, nothing dropped). The caller takes the turn once
 * STT's words hold `minWords` that are not backchannels (or a turn-taking word: "wait", "sorry"), or their
 * voiced time passes `maxVoicedSecs`: then `interruption` drops the reply. Otherwise, once they have been
 * quiet for `resumeAfterSecs`, playback resumes where it paused and nothing is added to the conversation.
 *
 * A turn ends on meaning: once the caller pauses, STT is asked for its final words; a {@link TurnDetector}
 * scores whether they finished and sets how long the pause must last (short after "Yes, I'll be there.",
 * long after "I'd like to move it to"). Meanwhile the reply starts early, held at the output; it is released
 * (and its tools may run) when the turn is committed, and dropped if the caller goes on. A caller who goes on
 * after a commit but before hearing anything of the reply continues the same turn.
 *
 * Keypad answers end on the terminator, the expected digit count, or a timeout.
 */
export class UserTurnProcessor extends FrameProcessor {
  private readonly bargeIn: boolean;
  private readonly language: string;
  private readonly levels = new SpeechLevelMeter();
  private readonly overBot: SpeechOverBot;
  private readonly minSilenceMs: number;
  private readonly maxSilenceMs: number;
  private readonly finalTimeoutMs: number;
  private readonly earlyReplies: boolean;
  private readonly detector: TurnDetector;
  private readonly keypad: KeypadCollector;

  private botSpeaking = false;
  private botUtterance: string | undefined;
  /** The bot's line the caller is answering (for the turn detector). */
  private lastBotText: string | undefined;
  private turn: OpenTurn | undefined;
  private turnSeq = 0;
  /** The last committed turn, while its reply has not been heard (the caller may still go on). */
  private committed: Committed | undefined;
  /** A turn waiting to be reported: once its reply is heard, or the next turn starts. */
  private unreported: UserTurn | undefined;
  /** The current VAD segment began before the last committed turn ended: it was already answered. */
  private staleSegment = false;
  private lastTurnEndMs = -Infinity;
  private digitsStartMs = 0;
  private digitTimer: Timer | undefined;
  /** The call reached an answering machine: the caller's side is not a conversation any more. */
  private machine = false;

  constructor(
    private readonly context: LlmContext,
    options: UserTurnOptions = {},
    private readonly events: UserTurnEvents = {},
  ) {
    super('UserTurnProcessor');
    this.bargeIn = options.bargeIn ?? true;
    this.language = options.language ?? 'en';
    this.minSilenceMs = (options.endpointing?.minSilenceSecs ?? 0.5) * 1000;
    this.maxSilenceMs = (options.endpointing?.maxSilenceSecs ?? 2.0) * 1000;
    this.detector = options.endpointing?.detector ?? new HeuristicTurnDetector();
    this.finalTimeoutMs = (options.finalTranscriptTimeoutSecs ?? 1.0) * 1000;
    this.earlyReplies = options.earlyReplies ?? true;
    this.overBot = new SpeechOverBot(
      {
        now: () => this.taskClock.now(),
        setTimer: (callback, ms) => this.setTimer(callback, Math.max(0, ms)),
        clearTimer: (timer) => this.clearTimer(timer),
        hold: (on) => this.pushFrame(makeFrame(on ? 'output.pause' : 'output.resume', { reason: 'caller-speech' })),
        takeTurn: (sound, reason) => this.takeTurn(sound, reason),
        letGo: (_sound, info) => this.events.onFalseInterruption?.({ ...info, utteranceId: this.botUtterance }),
      },
      {
        matcher: backchannelMatcher(this.language, options.interruption?.backchannels),
        levels: this.levels,
        minWords: options.interruption?.minWords ?? 2,
        maxVoicedMs: (options.interruption?.maxVoicedSecs ?? 3) * 1000,
        resumeAfterMs: (options.interruption?.resumeAfterSecs ?? 0.4) * 1000,
        backgroundMarginDb: options.interruption?.backgroundMarginDb ?? 10,
      },
    );
    this.keypad = new KeypadCollector(options.keypad);
  }

  protected override processFrame(frame: Frame, direction: Direction): void {
    switch (frame.type) {
      case 'bot.speech.started':
        this.botSpeaking = true;
        this.botUtterance = frame.utteranceId;
        this.lastBotText = this.context.assistantText(frame.utteranceId) ?? this.lastBotText;
        this.committed = undefined; // its reply is being heard: the turn stands
        this.flushReport();
        break;
      case 'bot.speech.stopped':
        this.botSpeaking = false;
        // The bot went quiet while the caller was already talking over it: it is now simply their turn.
        if (!this.machine) this.overBot.botFinished();
        break;
      case 'vad.speech.started':
        if (!this.machine) this.onSpeechStarted(frame);
        break;
      case 'vad.speech.paused':
        if (!this.machine) this.onPaused(frame);
        break;
      case 'vad.speech.resumed':
        if (!this.machine) this.onResumed(frame);
        break;
      case 'vad.speech.stopped':
        if (!this.machine) this.onSpeechStopped(frame);
        break;
      case 'transcription':
        if (!this.machine) this.onTranscription(frame);
        return; // consumed: the turn's words travel on in the context
      case 'dtmf.in':
        if (!this.machine) this.onDigit(frame.digit);
        break;
      case 'keypad.expect':
        this.keypad.expect({
          ...(frame.maxDigits !== undefined ? { maxDigits: frame.maxDigits } : {}),
          ...(frame.terminator !== undefined ? { terminator: frame.terminator } : {}),
          ...(frame.timeoutSecs !== undefined ? { timeoutSecs: frame.timeoutSecs } : {}),
        });
        return;
      case 'call.answered-by':
        if (frame.answeredBy === 'machine') this.onMachine();
        break;
      case 'audio.in':
        this.levels.push(frame.audio, this.taskClock.now(), this.turn !== undefined && this.turn.quietSince === undefined);
        if (this.turn?.quietSince) this.soundInPause(this.turn);
        this.overBot.audio();
        break;
      default:
        break;
    }
    this.pushFrame(frame, direction);
  }

  protected override onStop(): void {
    this.flushReport();
  }

  // ── VAD ─────────────────────────────────────────────────────────────────────────────────────────

  private onSpeechStarted(frame: FrameOf<'vad.speech.started'>): void {
    // VAD running late (a busy server) can report speech STT already turned into a committed turn: that
    // speech is answered already and must neither interrupt the reply nor open a second, empty turn.
    if (frame.atMs < this.lastTurnEndMs || (this.turn?.quietSince && frame.atMs < this.turn.quietSince.atMs)) {
      this.staleSegment = true;
      return;
    }
    this.staleSegment = false;
    this.onset(frame.atSec, frame.atMs);
  }

  /** Caller sound begins (a new VAD segment, or voice again after a pause). */
  private onset(atSec: number, atMs: number): void {
    if (this.overBot.active) return;
    if (this.turn) return this.continueTurn(atMs);
    if (this.botSpeaking) {
      if (this.bargeIn) this.overBot.start(atSec, atMs);
      return; // barge-in disabled: the caller's words while the bot talks are not a turn
    }
    this.overBot.forgetLate();
    this.startTurn(atSec, atMs);
  }

  private onPaused(frame: FrameOf<'vad.speech.paused'>): void {
    if (this.overBot.active) return this.overBot.paused(frame.atMs);
    const turn = this.turn;
    if (!turn || turn.quietSince) return;
    turn.quietSince = { atSec: frame.atSec, atMs: frame.atMs };
    if (turn.voicingSinceMs !== undefined) turn.voicedMs += Math.max(0, frame.atMs - turn.voicingSinceMs);
    turn.voicingSinceMs = undefined;
    turn.graceTimer = this.setTimer(() => this.announceStop(turn), frame.atMs + STOP_GRACE_MS - this.taskClock.now());
    // A turn that already sounds finished gets its reply started now, on the words so far.
    if (this.earlyReplies) this.judge(turn);
  }

  private onResumed(frame: FrameOf<'vad.speech.resumed'>): void {
    if (this.staleSegment) return;
    if (this.overBot.active) return this.overBot.resumed(frame.atMs);
    // Voice again within VAD's stop window: for a turn it continues, over the bot it is a new sound.
    this.onset(frame.atSec, frame.atMs);
  }

  private onSpeechStopped(frame: FrameOf<'vad.speech.stopped'>): void {
    if (this.staleSegment) {
      this.staleSegment = false;
      return;
    }
    if (this.overBot.active) return this.overBot.stopped();
    const turn = this.turn;
    if (!turn) return;
    if (!turn.quietSince) {
      turn.quietSince = { atSec: frame.atSec, atMs: frame.atMs };
      if (turn.voicingSinceMs !== undefined) turn.voicedMs += Math.max(0, frame.atMs - turn.voicingSinceMs);
      turn.voicingSinceMs = undefined;
    }
    if (!turn.stopped) this.announceStop(turn);
  }

  // ── speech over the bot ─────────────────────────────────────────────────────────────────────────

  /** The caller takes the turn from the bot: the reply is dropped and their words start a turn. */
  private takeTurn(from: OverBotSound, reason: TakeTurnReason): void {
    const now = this.taskClock.now();
    const interrupt = reason !== 'bot-finished';
    if (interrupt) {
      this.events.onBargeIn?.({
        onsetMs: from.onsetMs,
        detectedAtMs: from.detectedAtMs,
        decidedAtMs: now,
        voicedMs: from.voiced.total(now),
        words: [...from.finals, from.interim].join(' ').trim(),
        reason,
      });
    }
    const turn = this.startTurn(from.onsetSec, from.onsetMs, interrupt);
    this.pushFrame(makeFrame('output.resume', { reason: 'caller-speech' }));
    turn.finals.push(...from.finals);
    turn.interim = from.interim;
    turn.wordsSettled = from.interim === '' && from.finals.length > 0;
    from.voiced.settle(now);
    turn.voicedMs = from.voiced.total(now);
    const quiet = from.voiced.quietSince;
    if (!from.voiced.voicing || reason === 'late-words') {
      // They are already quiet: the turn is in its closing pause.
      const atMs = quiet ?? now;
      turn.voicingSinceMs = undefined;
      turn.quietSince = { atSec: from.onsetSec + (atMs - from.onsetMs) / 1000, atMs };
      turn.graceTimer = this.setTimer(() => this.announceStop(turn), atMs + STOP_GRACE_MS - now);
    } else {
      turn.voicingSinceMs = now;
    }
  }

  // ── the caller's turn ───────────────────────────────────────────────────────────────────────────

  private startTurn(atSec: number, atMs: number, interrupt = false): OpenTurn {
    let prefix = '';
    let contextLength = this.context.messages.length;
    const committed = this.committed;
    if (committed && !interrupt) {
      // The reply to their last turn has not been heard: they are still on that turn.
      interrupt = true;
      if (!this.context.messages.slice(committed.contextLength).some((m) => m.role === 'tool')) {
        prefix = committed.text;
        contextLength = committed.contextLength;
        this.context.messages.length = committed.contextLength;
        this.unreported = undefined; // reported once, merged
        atMs = committed.startedAtMs;
      }
    }
    this.committed = undefined;
    this.flushReport();
    const turn: OpenTurn = {
      id: ++this.turnSeq,
      startedAtSec: atSec,
      startedAtMs: atMs,
      finals: [],
      interim: '',
      prefix,
      contextLength,
      quietSince: undefined,
      stopped: false,
      wordsSettled: false,
      voicedMs: 0,
      voicingSinceMs: this.taskClock.now(),
      early: undefined,
      scoreSeq: 0,
      graceTimer: undefined,
      finalTimer: undefined,
      commitTimer: undefined,
      commitAt: undefined,
      earlyTimer: undefined,
      soundRun: 0,
    };
    this.turn = turn;
    // A reply still being prepared is stale now that the caller is talking again; one being spoken stops.
    if (interrupt) this.broadcast(makeFrame('interruption', { reason: 'caller speech' }));
    this.broadcast(makeFrame('user.speech.started', { atSec, atMs }));
    return turn;
  }

  /** The caller goes on after a pause: same turn; an early reply for the shorter turn is dropped. */
  private continueTurn(atMs: number): void {
    const turn = this.turn as OpenTurn;
    this.clearTimer(turn.graceTimer);
    this.clearTimer(turn.finalTimer);
    this.clearTimer(turn.commitTimer);
    this.clearTimer(turn.earlyTimer);
    turn.graceTimer = turn.finalTimer = turn.commitTimer = turn.earlyTimer = undefined;
    turn.commitAt = undefined;
    turn.soundRun = 0;
    turn.quietSince = undefined;
    turn.voicingSinceMs ??= atMs;
    turn.wordsSettled = false;
    turn.scoreSeq++;
    if (turn.early) this.dropEarlyReply(turn);
    if (turn.stopped) {
      turn.stopped = false;
      this.broadcast(makeFrame('user.speech.started', { atSec: turn.startedAtSec, atMs }));
    }
  }

  /** The pause outlasted a gap between words: tell STT to finalise, then judge the turn on its words. */
  private announceStop(turn: OpenTurn): void {
    if (this.turn !== turn || turn.stopped || !turn.quietSince) return;
    this.clearTimer(turn.graceTimer);
    turn.graceTimer = undefined;
    turn.stopped = true;
    this.broadcast(makeFrame('user.speech.stopped', { atSec: turn.quietSince.atSec, atMs: turn.quietSince.atMs }));
    if (turn.interim === '' && turn.finals.length > 0 && turn.wordsSettled) return this.judge(turn);
    turn.finalTimer = this.setTimer(() => {
      turn.finalTimer = undefined;
      turn.wordsSettled = true;
      this.judge(turn);
    }, this.finalTimeoutMs);
  }

  /**
   * Scores the words so far. Once STT's words are settled (a final after the pause, or the wait for one ran
   * out) this sets when the turn ends. The early reply starts at once for a turn that sounds finished, and
   * {@link EARLY_LEAD_MS} before the end for one that does not.
   */
  private judge(turn: OpenTurn): void {
    if (this.turn !== turn || !turn.quietSince) return;
    const text = turnText(turn);
    const seq = ++turn.scoreSeq;
    const settled = turn.stopped && turn.wordsSettled;
    const apply = (probability: number): void => {
      const quiet = turn.quietSince;
      if (this.turn !== turn || seq !== turn.scoreSeq || !quiet) return;
      const waitMs = text === '' ? this.minSilenceMs : silenceForProbability(probability, this.minSilenceMs, this.maxSilenceMs);
      const commitAt = quiet.atMs + waitMs;
      if (settled) {
        this.clearTimer(turn.commitTimer);
        turn.commitAt = commitAt;
        turn.commitTimer = this.setTimer(() => this.commit(turn), commitAt - this.taskClock.now());
      }
      if (!this.earlyReplies || text === '' || (turn.early && sameWords(turn.early.text, text, true))) return;
      this.clearTimer(turn.earlyTimer);
      turn.earlyTimer = undefined;
      const startAt = probability >= 0.8 ? this.taskClock.now() : commitAt - EARLY_LEAD_MS;
      if (!settled && probability < 0.8) return; // wait for STT's final words
      if (startAt <= this.taskClock.now()) this.startEarlyReply(turn, text);
      else turn.earlyTimer = this.setTimer(() => this.startEarlyReply(turn, turnText(turn)), startAt - this.taskClock.now());
    };
    const voicedSecs = turn.voicedMs / 1000;
    let score: number | Promise<number>;
    try {
      score =
        text === ''
          ? 0.5
          : this.detector.endOfTurnProbability({
              transcript: text,
              language: this.language,
              voicedSecs,
              ...(this.lastBotText ? { previousBotText: this.lastBotText } : {}),
            });
    } catch (error) {
      this.pushError(error);
      score = 0.5;
    }
    if (typeof score === 'number') apply(score);
    else
      score.then(apply, (error: unknown) => {
        this.pushError(error);
        apply(0.5);
      });
  }

  /** Sound in the closing pause may be the caller going on before VAD can tell: hold the commit a little. */
  private soundInPause(turn: OpenTurn): void {
    const level = this.levels.levelSince(this.taskClock.now() - 1);
    const caller = this.levels.callerDbfs;
    const threshold = Math.max(SOUND_FLOOR_DBFS, caller !== undefined ? caller - SOUND_MARGIN_DB : SOUND_FLOOR_DBFS);
    if (level === undefined || level < threshold) {
      turn.soundRun = 0;
      return;
    }
    turn.soundRun++;
    if (turn.soundRun < 2 || turn.commitAt === undefined) return;
    const holdUntil = this.taskClock.now() + SOUND_HOLD_MS;
    if (turn.commitAt >= holdUntil) return;
    this.clearTimer(turn.commitTimer);
    turn.commitAt = holdUntil;
    turn.commitTimer = this.setTimer(() => this.commit(turn), SOUND_HOLD_MS);
  }

  private startEarlyReply(turn: OpenTurn, text: string): void {
    if (this.turn !== turn || text === '' || (turn.early && sameWords(turn.early.text, text, true))) return;
    if (turn.early) this.dropEarlyReply(turn);
    turn.early = { text };
    this.context.addUserMessage(text);
    this.pushFrame(makeFrame('output.pause', { reason: 'early-reply' }));
    this.pushFrame(makeFrame('llm.run', { context: this.context, reason: 'user turn', turnId: turn.id, speculative: true }));
  }

  private dropEarlyReply(turn: OpenTurn): void {
    const early = turn.early;
    if (!early) return;
    turn.early = undefined;
    this.broadcast(makeFrame('interruption', { reason: 'caller went on' }));
    this.context.messages.length = turn.contextLength;
    this.pushFrame(makeFrame('output.resume', { reason: 'early-reply' }));
    this.events.onEarlyReplyDiscarded?.({ text: early.text });
  }

  private commit(turn: OpenTurn): void {
    if (this.turn !== turn) return;
    this.clearTimer(turn.graceTimer);
    this.clearTimer(turn.finalTimer);
    this.clearTimer(turn.commitTimer);
    this.clearTimer(turn.earlyTimer);
    this.turn = undefined;
    this.levels.turnEnded();
    const endedAtMs = turn.quietSince?.atMs ?? this.taskClock.now();
    this.lastTurnEndMs = endedAtMs;
    const text = turnText(turn);
    if (text === '') {
      // Noise, a cough, a sound that stopped the bot: nothing to answer. Someone must speak next.
      this.events.onEmptyTurn?.({ voicedMs: turn.voicedMs });
      this.pushFrame(makeFrame('turn.empty', { reason: 'no words' }));
      return;
    }
    const early = turn.early !== undefined && sameWords(turn.early.text, text, true);
    if (!early) {
      if (turn.early) this.dropEarlyReply(turn);
      this.context.messages.length = Math.min(this.context.messages.length, turn.contextLength);
      this.context.addUserMessage(text);
      this.pushFrame(makeFrame('llm.run', { context: this.context, reason: 'user turn', turnId: turn.id }));
    }
    this.pushFrame(makeFrame('turn.committed', { turnId: turn.id, text, early }));
    this.events.onCommit?.({ turnId: turn.id, text, early, source: text.startsWith('DTMF: ') ? 'dtmf' : 'speech' });
    if (early) this.pushFrame(makeFrame('output.resume', { reason: 'early-reply' }));
    const report: UserTurn = { text, startedAtMs: turn.startedAtMs, endedAtMs, source: 'speech', earlyReply: early ? 'used' : 'none' };
    this.committed = { text, startedAtMs: turn.startedAtMs, endedAtMs, contextLength: turn.contextLength, report };
    this.unreported = report;
  }

  private flushReport(): void {
    const report = this.unreported;
    this.unreported = undefined;
    if (report) this.events.onUserTurn?.(report);
  }

  // ── transcripts ─────────────────────────────────────────────────────────────────────────────────

  private onTranscription(frame: FrameOf<'transcription'>): void {
    const text = frame.text.trim();
    if (text === '') return;
    // Over the bot (or just after a sound over it was let go): words judged there.
    if (!this.turn && this.overBot.words(text, frame.final, this.botSpeaking)) return;
    const turn = this.turn;
    if (turn) {
      if (frame.final) {
        turn.finals.push(text);
        turn.interim = '';
      } else {
        turn.interim = text;
      }
      if (turn.stopped) {
        if (frame.final) {
          turn.wordsSettled = true;
          this.clearTimer(turn.finalTimer);
          turn.finalTimer = undefined;
        }
        if (turn.wordsSettled) this.judge(turn);
      } else if (frame.final) {
        turn.wordsSettled = true;
      }
      return;
    }
    if (!frame.final || this.botSpeaking) return; // over the bot, VAD heard nothing: not a turn
    // STT heard words our VAD missed (short answers like "yes"): a turn of their own, ended now.
    if (this.committed && this.taskClock.now() - this.committed.endedAtMs < 2000 && sameWords(this.committed.text, text)) return;
    const now = this.taskClock.now();
    const fresh = this.startTurn(0, now);
    fresh.finals.push(text);
    fresh.voicingSinceMs = undefined;
    fresh.quietSince = { atSec: 0, atMs: now };
    fresh.stopped = true;
    fresh.wordsSettled = true;
    this.broadcast(makeFrame('user.speech.stopped', { atSec: 0, atMs: now }));
    this.judge(fresh); // short words VAD missed ("Um,") are judged like any others
  }

  // ── keypad ──────────────────────────────────────────────────────────────────────────────────────

  private onDigit(digit: string): void {
    if (this.keypad.pending === '') {
      this.digitsStartMs = this.taskClock.now();
      this.overBot.drop();
      if (this.botSpeaking && this.bargeIn) this.broadcast(makeFrame('interruption', { reason: 'caller pressed a key' }));
    }
    this.clearTimer(this.digitTimer);
    this.digitTimer = undefined;
    const answer = this.keypad.push(digit);
    if (answer !== undefined) return this.commitDigits(answer);
    this.digitTimer = this.setTimer(() => this.commitDigits(this.keypad.take()), this.keypad.timeoutMs);
  }

  private commitDigits(digits: string): void {
    this.clearTimer(this.digitTimer);
    this.digitTimer = undefined;
    if (digits === '') return;
    const now = this.taskClock.now();
    const fresh = this.startTurn(0, this.digitsStartMs, false);
    fresh.finals.push(`DTMF: ${digits}`);
    fresh.quietSince = { atSec: 0, atMs: now };
    fresh.stopped = true;
    this.broadcast(makeFrame('user.speech.stopped', { atSec: 0, atMs: now }));
    this.commit(fresh);
    if (this.unreported) this.unreported.source = 'dtmf';
  }

  // ── answering machine ───────────────────────────────────────────────────────────────────────────

  /** A machine answered: nothing it says is a turn, and nothing it says pauses the bot's message. */
  private onMachine(): void {
    this.machine = true;
    this.overBot.drop();
    const turn = this.turn;
    if (turn) {
      this.clearTimer(turn.graceTimer);
      this.clearTimer(turn.finalTimer);
      this.clearTimer(turn.commitTimer);
      if (turn.early) {
        turn.early = undefined;
        this.context.messages.length = turn.contextLength;
        this.pushFrame(makeFrame('output.resume', { reason: 'early-reply' }));
      }
      this.turn = undefined;
    }
  }

  private broadcast(frame: Frame): void {
    this.pushFrame(frame, 'upstream');
    this.pushFrame(frame, 'downstream');
  }
}

function turnText(turn: OpenTurn): string {
  return [turn.prefix, ...turn.finals, turn.interim].join(' ').replace(/\s+/g, ' ').trim();
}

/** Whether `late`'s words are among `committed`'s (or, `exact`, the same words). */
function sameWords(committed: string, late: string, exact = false): boolean {
  const had = transcriptWords(committed).join(' ');
  const now = transcriptWords(late).join(' ');
  return now !== '' && (exact ? had === now : had.includes(now));
}
