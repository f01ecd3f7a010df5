import type { BackchannelMatcher } from './backchannels.ts';
import { transcriptWords } from './backchannels.ts';
import type { SpeechLevelMeter } from './speech-level.ts';
import { VoicedTime } from './voiced-time.ts';

/** A timer handle of the host processor (on its task's clock). */
type Timer = ReturnType<typeof setTimeout>;

/** After a sound over the bot was let go, its words arriving this late still count (slow STT). */
const LATE_WORDS_MS = 1000;
/** Quieter than this, the caller's side is silent (for resuming the bot after a sound). */
const SILENT_DBFS = -45;

/** A sound the caller's side made while the bot was speaking. */
export interface OverBotSound {
  onsetSec: number;
  onsetMs: number;
  /** When VAD reported it (and playback paused). */
  detectedAtMs: number;
  voiced: VoicedTime;
  finals: string[];
  interim: string;
  /** When sound was last heard (audio level; VAD's own pause decision comes later). */
  lastSoundMs: number;
  ceilingTimer: Timer | undefined;
  quietTimer: Timer | undefined;
}

export type TakeTurnReason = 'words' | 'voiced-time' | 'late-words' | 'bot-finished';

/** What {@link SpeechOverBot} needs from the processor it works for. */
export interface SpeechOverBotHost {
  now(): number;
  setTimer(callback: () => void, ms: number): Timer;
  clearTimer(timer: Timer | undefined): void;
  /** Hold (`true`) or release the bot's playback for the caller's sound. */
  hold(on: boolean): void;
  /** The sound takes the turn from the bot. */
  takeTurn(sound: OverBotSound, reason: TakeTurnReason): void;
  /** The sound did not take the turn; playback was released. */
  letGo(sound: OverBotSound, info: { kind: 'backchannel' | 'no-words'; text: string; durationSec: number; pausedMs: number }): void;
}

export interface SpeechOverBotOptions {
  matcher: BackchannelMatcher;
  levels: SpeechLevelMeter;
  minWords: number;
  maxVoicedMs: number;
  resumeAfterMs: number;
  backgroundMarginDb: number;
}

/**
 * Speech (or any sound) over the speaking bot: is it the caller taking the turn, or a backchannel, a cough, the
 * room? Playback is held from the sound's onset. The sound takes the turn once STT's words hold `minWords` that
 * are not backchannels (or a word that takes the turn on its own), or its voiced time passes `maxVoicedMs`
 * (unless it is well below the caller's own level: the room). Otherwise it is let go once the caller's side has
 * been silent for `resumeAfterMs` (by level, or by VAD's pause), and playback resumes. Words of a sound already
 * let go may still take the turn for a short while (slow STT).
 */
export class SpeechOverBot {
  private sound: OverBotSound | undefined;
  private late: { sound: OverBotSound; untilMs: number } | undefined;

  constructor(
    private readonly host: SpeechOverBotHost,
    private readonly options: SpeechOverBotOptions,
  ) {}

  /** The sound being judged, if any. */
  get active(): OverBotSound | undefined {
    return this.sound;
  }

  /** Caller sound begins while the bot speaks: hold playback and judge it. */
  start(atSec: number, atMs: number): void {
    if (this.sound) return;
    const sound: OverBotSound = {
      onsetSec: atSec,
      onsetMs: atMs,
      detectedAtMs: this.host.now(),
      voiced: new VoicedTime(atMs),
      finals: [],
      interim: '',
      // VAD reports speech a few hundred ms after it began: a short sound may already be over.
      lastSoundMs: this.options.levels.lastLoudAt(SILENT_DBFS) ?? atMs,
      ceilingTimer: undefined,
      quietTimer: undefined,
    };
    this.sound = sound;
    this.late = undefined;
    this.host.hold(true);
    this.armCeiling(sound);
  }

  /** VAD hears silence inside the sound. */
  paused(atMs: number): void {
    const sound = this.sound;
    if (!sound) return;
    sound.voiced.paused(atMs);
    this.host.clearTimer(sound.quietTimer);
    sound.quietTimer = this.host.setTimer(() => this.letGo(), atMs + this.options.resumeAfterMs - this.host.now());
  }

  /** VAD hears voice again inside the sound. */
  resumed(atMs: number): void {
    const sound = this.sound;
    if (!sound) return;
    sound.voiced.resumed(atMs);
    this.host.clearTimer(sound.quietTimer);
    sound.quietTimer = undefined;
    this.armCeiling(sound);
  }

  /** VAD decided the sound is over. */
  stopped(): void {
    this.letGo();
  }

  /** One frame of caller audio arrived: follow the sound by its level, check the ceiling. */
  audio(): void {
    const sound = this.sound;
    if (!sound) return;
    const now = this.host.now();
    if ((this.options.levels.levelSince(now - 1) ?? -Infinity) >= SILENT_DBFS) sound.lastSoundMs = now;
    else if (now - sound.lastSoundMs >= this.options.resumeAfterMs) return this.letGo();
    this.checkCeiling();
  }

  /**
   * STT words while the bot speaks (or shortly after a sound was let go). Returns true when they belong to a
   * sound over the bot (consumed here).
   */
  words(text: string, final: boolean, botSpeaking: boolean): boolean {
    const sound = this.sound;
    if (sound) {
      if (final) {
        sound.finals.push(text);
        sound.interim = '';
      } else sound.interim = text;
      if (this.takesTurn(sound)) this.take(sound, 'words');
      return true;
    }
    const late = this.late;
    if (!late) return false;
    if (this.host.now() > late.untilMs) {
      this.late = undefined;
      return false;
    }
    if (final) late.sound.finals.push(text);
    else late.sound.interim = text;
    if (botSpeaking && this.takesTurn(late.sound)) this.take(late.sound, 'late-words');
    return true;
  }

  /** The bot stopped while the caller was talking over it: it is now simply their turn. */
  botFinished(): void {
    if (this.sound) this.take(this.sound, 'bot-finished');
  }

  /** Forget the sound without a verdict (a key press, an answering machine): playback is released. */
  drop(): void {
    const sound = this.sound;
    this.late = undefined;
    if (!sound) return;
    this.clear(sound);
    this.host.hold(false);
  }

  /** Words of an earlier sound no longer count (the caller started a turn of their own). */
  forgetLate(): void {
    this.late = undefined;
  }

  private takesTurn(sound: OverBotSound): boolean {
    const claim = this.options.matcher.claim([...sound.finals, sound.interim].join(' '));
    return claim.takesTurn || claim.words >= this.options.minWords;
  }

  /** Fires when the voiced time reaches the ceiling, if the caller keeps voicing until then. */
  private armCeiling(sound: OverBotSound): void {
    this.host.clearTimer(sound.ceilingTimer);
    const due = sound.voiced.dueAt(this.options.maxVoicedMs);
    if (due === undefined) return;
    sound.ceilingTimer = this.host.setTimer(() => this.checkCeiling(), due - this.host.now());
  }

  private checkCeiling(): void {
    const sound = this.sound;
    if (!sound) return;
    const now = this.host.now();
    sound.voiced.settle(now);
    if (sound.voiced.total(now) >= this.options.maxVoicedMs && !this.isBackground(sound)) return this.take(sound, 'voiced-time');
  }

  /** The sound is well below the caller's own level: the room, not the caller (only words may take the turn). */
  private isBackground(sound: OverBotSound): boolean {
    const caller = this.options.levels.callerDbfs;
    if (this.options.backgroundMarginDb <= 0 || caller === undefined) return false;
    const level = this.options.levels.levelSince(sound.onsetMs);
    return level !== undefined && level < caller - this.options.backgroundMarginDb;
  }

  /** The caller has been quiet long enough without taking the turn: release playback. */
  private letGo(): void {
    const sound = this.sound;
    if (!sound) return;
    this.clear(sound);
    this.host.hold(false);
    const now = this.host.now();
    const text = [...sound.finals, sound.interim].join(' ').trim();
    const endMs = Math.min(sound.voiced.quietSince ?? now, sound.lastSoundMs);
    this.late = { sound, untilMs: now + LATE_WORDS_MS };
    this.host.letGo(sound, {
      kind: transcriptWords(text).length > 0 ? 'backchannel' : 'no-words',
      text,
      durationSec: Math.max(0, endMs - sound.onsetMs) / 1000,
      pausedMs: now - sound.detectedAtMs,
    });
  }

  private take(sound: OverBotSound, reason: TakeTurnReason): void {
    if (sound === this.sound) this.clear(sound);
    this.late = undefined;
    this.host.takeTurn(sound, reason);
  }

  private clear(sound: OverBotSound): void {
    this.host.clearTimer(sound.ceilingTimer);
    this.host.clearTimer(sound.quietTimer);
    this.sound = undefined;
  }
}
