import type { LlmContext } from '../services/llm/context.ts';
import type { Direction, Frame, FrameOf } from '../pipeline/frames.ts';
import { makeFrame } from '../pipeline/frames.ts';
import { FrameProcessor } from '../pipeline/processor.ts';
import '../transports/output-frames.ts';
import type { AnsweredBy } from './frames.ts';
import './frames.ts';

export interface IdleOptions {
  /** Re-prompt after nobody has spoken for this long (the bot stopped, or a turn ended with no words). @default 8 */
  timeoutSecs?: number;
  /** Re-prompts before giving up and hanging up. @default 2 */
  maxPrompts?: number;
  /** @default "Are you still there?" */
  prompt?: string;
  /** Said before hanging up on a silent caller. @default "It seems we've lost the connection. Goodbye!" */
  goodbye?: string;
}

/** What the agent does when an answering machine picks up (outbound calls with detection on). */
export interface AnsweringMachineHandling {
  /** `leave-message`: wait for the beep (or the greeting's end), say `message` once, hang up; `hang-up`: hang up at once. */
  action: 'leave-message' | 'hang-up';
  /** Already rendered. */
  message: string;
  /** When the machine's decision is still open after the caller's first turn, hold the reply at most this long. @default 2 */
  maxDecisionWaitSecs?: number;
}

export interface ConversationOptions {
  /** Who talks first: the bot (inbound and dial-in calls) or the caller (outbound: wait for "Hello?"). */
  firstSpeaker: 'bot' | 'caller';
  /**
   * Already rendered. The bot's first line on every call: at once when the bot opens, right after the
   * callee's first words when they speak first. Absent: the LLM writes the first line.
   */
  greeting?: string;
  /** When the caller is to speak first but says nothing for this long, the bot opens anyway. @default 4 */
  callerFirstTimeoutSecs?: number;
  idle?: IdleOptions;
  /** Hard limit on the call's length. @default 600 */
  maxDurationSecs?: number;
  /** Said when the limit is reached, before hanging up. @default "I'm sorry, we've reached the time limit for this call. Goodbye!" */
  maxDurationLine?: string;
  /** Answering-machine handling; absent: no detection is running. */
  answeringMachine?: AnsweringMachineHandling;
  /** Told when the controller ends the call and why. */
  onEnding?: (reason: string) => void;
}

/** A processor timer (on the task's clock). */
type Timer = ReturnType<typeof setTimeout>;

/**
 * Who speaks first (and the greeting), re-prompting a silent caller, answering machines, and the call's
 * time limit. Sits after the user-turn processor, so it sees the caller's turns going down and the bot's
 * speech state coming up.
 *
 * - Greeting: when the caller speaks first, their first turn is answered with the greeting instead of an
 *   LLM reply (an early reply for that turn becomes the greeting, held like any early reply).
 * - Idle: armed whenever nobody is speaking — after the bot stops (played through or interrupted) and after a
 *   turn that ended with no words — and disarmed by any speech or reply, so no path leaves the line silent
 *   for longer than the timeout.
 * - Answering machine: the reply to the first turn waits for the decision; on `machine` everything queued is
 *   dropped, the caller's side is ignored, and at `voicemail.ready` the message is said once before hanging up.
 */
export class ConversationController extends FrameProcessor {
  private readonly options: ConversationOptions;
  private idleTimer: Timer | undefined;
  private openingTimer: Timer | undefined;
  private decisionTimer: Timer | undefined;
  private prompts = 0;
  private opened = false;
  private ending = false;
  private utteranceSeq = 0;
  /** The greeting's utterance id once issued, and whether any of it has played. */
  private greetingId: string | undefined;
  private greetingHeard = false;
  private answeredBy: AnsweredBy | undefined;
  /** The reply to the caller's first turn is held until the machine decision. */
  private holdingForDecision = false;
  private machine = false;
  private messageSaid = false;

  constructor(
    private readonly context: LlmContext,
    options: ConversationOptions,
  ) {
    super('ConversationController');
    this.options = options;
  }

  protected override onStart(): void {
    const maxSecs = this.options.maxDurationSecs ?? 600;
    if (maxSecs > 0) {
      this.setTimer(
        () =>
          this.endWith(
            this.options.maxDurationLine ?? "I'm sorry, we've reached the time limit for this call. Goodbye!",
            'max duration reached',
          ),
        maxSecs * 1000,
      );
    }
    // Frames pushed now wait in the next processors until `start` reaches them, so order is kept.
    if (this.options.firstSpeaker === 'bot') this.open();
    else this.openingTimer = this.setTimer(() => this.open(), (this.options.callerFirstTimeoutSecs ?? 4) * 1000);
  }

  protected override processFrame(frame: Frame, direction: Direction): void {
    if (frame.type === 'llm.run' && direction === 'downstream') return this.onRun(frame);
    this.pushFrame(frame, direction);
    switch (frame.type) {
      case 'user.speech.started':
        if (direction !== 'downstream') break;
        this.opened = true; // the caller spoke first: their first turn gets the greeting
        this.clearTimer(this.openingTimer);
        this.disarmIdle();
        this.prompts = 0;
        break;
      case 'bot.speech.started':
        if (direction !== 'upstream') break;
        if (frame.utteranceId === this.greetingId) this.greetingHeard = true;
        this.disarmIdle();
        break;
      case 'bot.speech.stopped':
        if (direction === 'upstream') this.armIdle();
        break;
      case 'turn.empty':
        this.armIdle();
        break;
      case 'turn.committed':
        if (this.holdingForDecision && this.decisionTimer === undefined) {
          const waitMs = (this.options.answeringMachine?.maxDecisionWaitSecs ?? 2) * 1000;
          this.decisionTimer = this.setTimer(() => this.releaseDecisionHold(), waitMs);
        }
        break;
      case 'call.answered-by':
        this.onAnsweredBy(frame);
        break;
      case 'voicemail.ready':
        this.leaveMessage(frame.reason);
        break;
      default:
        break;
    }
  }

  /** A reply is asked for: the greeting comes first, machines get none. */
  private onRun(frame: FrameOf<'llm.run'>): void {
    if (this.machine) return; // nothing the machine says is answered
    this.disarmIdle();
    const greeting = this.options.greeting;
    if (greeting && !this.greetingHeard && frame.reason === 'user turn') {
      // The caller spoke first: the greeting answers their first words (a repeated "Hello?" too).
      if (this.options.answeringMachine && this.answeredBy === undefined && !this.holdingForDecision) {
        this.holdingForDecision = true;
        this.pushFrame(makeFrame('output.pause', { reason: 'answered-by' }));
      }
      this.greetingId = this.say(greeting);
      return;
    }
    this.pushFrame(frame);
  }

  private open(): void {
    if (this.opened) return;
    this.opened = true;
    if (this.options.greeting) this.greetingId = this.say(this.options.greeting);
    else this.pushFrame(makeFrame('llm.run', { context: this.context, reason: 'opening' }));
  }

  private onAnsweredBy(frame: FrameOf<'call.answered-by'>): void {
    if (this.answeredBy === frame.answeredBy) return;
    this.answeredBy = frame.answeredBy;
    if (frame.answeredBy !== 'machine') return this.releaseDecisionHold();
    const handling = this.options.answeringMachine;
    if (!handling || this.machine) return;
    this.machine = true;
    this.disarmIdle();
    this.clearTimer(this.openingTimer);
    this.opened = true;
    // Whatever was said or prepared for a person stops; the machine's greeting plays out in silence.
    this.pushFrame(makeFrame('interruption', { reason: 'answering machine' }));
    this.pushFrame(makeFrame('interruption', { reason: 'answering machine' }), 'upstream');
    this.releaseDecisionHold();
    if (handling.action === 'hang-up') {
      this.ending = true;
      this.options.onEnding?.('answering machine');
      this.pushFrame(makeFrame('task.end', { reason: 'answering machine' }), 'upstream');
    }
  }

  private releaseDecisionHold(): void {
    this.clearTimer(this.decisionTimer);
    this.decisionTimer = undefined;
    if (!this.holdingForDecision) return;
    this.holdingForDecision = false;
    this.pushFrame(makeFrame('output.resume', { reason: 'answered-by' }));
  }

  private leaveMessage(reason: string): void {
    const handling = this.options.answeringMachine;
    if (!this.machine || !handling || handling.action !== 'leave-message' || this.messageSaid || this.ending) return;
    this.messageSaid = true;
    this.ending = true;
    this.options.onEnding?.(`voicemail message left (${reason})`);
    this.say(handling.message);
    this.pushFrame(makeFrame('task.end', { reason: 'voicemail message left' }), 'upstream');
  }

  private armIdle(): void {
    this.disarmIdle();
    if (this.ending || this.machine) return;
    const idle = this.options.idle ?? {};
    this.idleTimer = this.setTimer(
      () => {
        this.idleTimer = undefined;
        if (this.prompts < (idle.maxPrompts ?? 2)) {
          this.prompts++;
          this.say(idle.prompt ?? 'Are you still there?');
        } else {
          this.endWith(idle.goodbye ?? "It seems we've lost the connection. Goodbye!", 'caller silent');
        }
      },
      (idle.timeoutSecs ?? 8) * 1000,
    );
  }

  private disarmIdle(): void {
    this.clearTimer(this.idleTimer);
    this.idleTimer = undefined;
  }

  private say(text: string): string {
    const utteranceId = `${this.callId}-s${++this.utteranceSeq}`;
    this.context.addSpokenMessage(utteranceId, text);
    this.pushFrame(makeFrame('tts.speak', { text, utteranceId }));
    return utteranceId;
  }

  private endWith(line: string, reason: string): void {
    if (this.ending) return;
    this.ending = true;
    this.disarmIdle();
    this.options.onEnding?.(reason);
    this.say(line);
    this.pushFrame(makeFrame('task.end', { reason }), 'upstream');
  }
}
