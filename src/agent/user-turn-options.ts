import type { BackchannelLexicon } from './backchannels.ts';
import type { KeypadOptions } from './keypad.ts';
import type { EndpointingOptions } from './turn-detector.ts';

export interface InterruptionOptions {
  /** Words that are not backchannels ("mm-hmm", "okay", "go on"…) needed to take the turn from the bot. @default 2 */
  minWords?: number;
  /** Voiced time over the bot that takes the turn even without words (STT heard nothing usable). @default 3 */
  maxVoicedSecs?: number;
  /**
   * After the caller's sound stops, how long to wait for words before resuming the bot (a false
   * interruption). Playback resumes within this time plus one 20 ms tick of the sound's end. @default 0.4
   */
  resumeAfterSecs?: number;
  /** Words and phrases added to the built-in backchannel lexicon, per language. @default {} */
  backchannels?: Partial<Record<string, Partial<BackchannelLexicon>>>;
  /**
   * A sound this much quieter than the caller's own speech (learned from their turns) is the room — a TV, a
   * voice across the room — not the caller: it pauses the bot like any sound, but only words can take the
   * turn, not voiced time. 0 turns this off. @default 10
   */
  backgroundMarginDb?: number;
}

export interface UserTurnOptions {
  /** Let the caller interrupt the bot. @default true */
  bargeIn?: boolean;
  /** Language of the callers, for the backchannel lexicon and turn detection. @default 'en' */
  language?: string;
  /** How speech over the bot is told apart from an interruption (defaults on {@link InterruptionOptions}). */
  interruption?: InterruptionOptions;
  /** How long a pause ends a turn (defaults on {@link EndpointingOptions}). */
  endpointing?: EndpointingOptions;
  /**
   * Start the reply on the caller's final words while the turn may still go on; it is heard only once the
   * turn is committed, its tools run only then, and it is dropped if the caller continues. @default true
   */
  earlyReplies?: boolean;
  /** After a pause, wait at most this long for STT's final words before using what it has. @default 1.0 */
  finalTranscriptTimeoutSecs?: number;
  /** How keypad answers end (defaults on {@link KeypadOptions}). */
  keypad?: KeypadOptions;
}

/** A user turn as the call record sees it. */
export interface UserTurn {
  text: string;
  /** When the caller started / stopped speaking (or pressed the first/last key), on the clock's timeline. */
  startedAtMs: number;
  endedAtMs: number;
  source: 'speech' | 'dtmf';
  /** `used`: the reply started early (before the commit) was the one heard; `none`: it started at the commit. */
  earlyReply: 'used' | 'none';
}

export interface UserTurnEvents {
  onUserTurn?(turn: UserTurn): void;
  /**
   * Caller sound over the bot that did not take the turn: the bot paused and resumed. `kind`: words that were
   * all backchannels, or a sound with no words (a cough, a laugh, a TV). Nothing is added to the conversation.
   */
  onFalseInterruption?(info: {
    kind: 'backchannel' | 'no-words';
    text: string;
    durationSec: number;
    pausedMs: number;
    utteranceId: string | undefined;
  }): void;
  /**
   * The caller took the turn from the bot; `onsetMs` is when they started, `detectedAtMs` when VAD reported
   * it (and playback paused), `decidedAtMs` when it was confirmed, by `reason`.
   */
  onBargeIn?(info: {
    onsetMs: number;
    detectedAtMs: number;
    decidedAtMs: number;
    voicedMs: number;
    words: string;
    reason: 'words' | 'voiced-time' | 'late-words';
  }): void;
  /** The caller's turn is over: its reply may now be heard and act. */
  onCommit?(info: { turnId: number; text: string; early: boolean; source: 'speech' | 'dtmf' }): void;
  /** An early reply was dropped because the caller went on. */
  onEarlyReplyDiscarded?(info: { text: string }): void;
  /** A turn that stopped the bot ended with nothing to answer. */
  onEmptyTurn?(info: { voicedMs: number }): void;
}
