import type { LlmContext } from '../services/llm/context.ts';
import type { Direction, Frame } from '../pipeline/frames.ts';
import { makeFrame } from '../pipeline/frames.ts';
import { FrameProcessor } from '../pipeline/processor.ts';
import './frames.ts';

export interface IdleOptions {
  /** Re-prompt after the caller has been silent this long since the bot stopped talking. @default 8 */
  timeoutSecs?: number;
  /** Re-prompts before giving up and hanging up. @default 2 */
  maxPrompts?: number;
  /** @default "Are you still there?" */
  prompt?: string;
  /** Said before hanging up on a silent caller. @default "It seems we've lost the connection. Goodbye!" */
  goodbye?: string;
}

export interface ConversationOptions {
  /** Who talks first: the bot (inbound and dial-in calls) or the caller (outbound: wait for "Hello?"). */
  firstSpeaker: 'bot' | 'caller';
  /** Already rendered. When the bot opens and there is no greeting, the LLM writes the opening line. */
  greeting?: string;
  /** When the caller is to speak first but says nothing for this long, the bot opens anyway. @default 4 */
  callerFirstTimeoutSecs?: number;
  idle?: IdleOptions;
  /** Hard limit on the call's length. @default 600 */
  maxDurationSecs?: number;
  /** Said when the limit is reached, before hanging up. @default "I'm sorry, we've reached the time limit for this call. Goodbye!" */
  maxDurationLine?: string;
  /** Told when the controller ends the call and why. */
  onEnding?: (reason: string) => void;
}

/**
 * Who speaks first, re-prompting a silent caller, and the call's time limit. Sits after the user-turn
 * processor, so it sees the caller's turns going down and the bot's speech state coming up.
 */
export class ConversationController extends FrameProcessor {
  private readonly options: ConversationOptions;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private openingTimer: ReturnType<typeof setTimeout> | undefined;
  private prompts = 0;
  private opened = false;
  private ending = false;
  private utteranceSeq = 0;

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
    this.pushFrame(frame, direction);
    switch (frame.type) {
      case 'user.speech.started':
        if (direction !== 'downstream') break;
        this.opened = true; // the caller spoke first: the LLM answers them
        this.clearTimer(this.openingTimer);
        this.disarmIdle();
        this.prompts = 0;
        break;
      case 'llm.run':
      case 'bot.speech.started':
        this.disarmIdle();
        break;
      case 'bot.speech.stopped':
        if (direction === 'upstream' && !frame.interrupted) this.armIdle();
        break;
      default:
        break;
    }
  }

  private open(): void {
    if (this.opened) return;
    this.opened = true;
    if (this.options.greeting) this.say(this.options.greeting);
    else this.pushFrame(makeFrame('llm.run', { context: this.context, reason: 'opening' }));
  }

  private armIdle(): void {
    this.disarmIdle();
    if (this.ending) return;
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

  private say(text: string): void {
    const utteranceId = `${this.callId}-s${++this.utteranceSeq}`;
    this.context.addSpokenMessage(utteranceId, text);
    this.pushFrame(makeFrame('tts.speak', { text, utteranceId }));
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
