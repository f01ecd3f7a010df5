import type { LlmContext } from '../services/llm/context.ts';
import { defineFrameType } from '../pipeline/frames.ts';

/** Who (or what) answered an outbound call. */
export type AnsweredBy = 'human' | 'machine' | 'unknown';

declare module '../pipeline/frames.ts' {
  interface FrameMap {
    /**
     * Run the LLM on the call's context (a user turn ended, or the agent wants a reply). `speculative`: the
     * caller's turn is not committed yet (an early reply): its audio is held and its tools wait for
     * `turn.committed` with this `turnId` (or are dropped with it).
     */
    'llm.run': { context: LlmContext; reason: string; turnId?: number; speculative?: boolean };
    /** The caller's turn `turnId` is over and its reply may be heard and act (tools). `early`: its reply was already under way. */
    'turn.committed': { turnId: number; text: string; early: boolean };
    /** A turn the caller took (it stopped the bot) ended without any words to answer. */
    'turn.empty': { reason: string };
    /** How the next keypad answer ends (a question asking for digits); reverts to the agent's settings after it. */
    'keypad.expect': { maxDigits?: number; terminator?: string | null; timeoutSecs?: number };
    /** The answering-machine decision on an outbound call (downstream, from the detector). */
    'call.answered-by': { answeredBy: AnsweredBy; how: string; atMs: number };
    /** The machine's greeting is over (beep, silence or time limit): the voicemail message can start. */
    'voicemail.ready': { reason: string; atMs: number };
  }
}

defineFrameType('llm.run', { category: 'data' });
defineFrameType('turn.committed', { category: 'system' });
defineFrameType('turn.empty', { category: 'system' });
defineFrameType('keypad.expect', { category: 'system' });
defineFrameType('call.answered-by', { category: 'system' });
defineFrameType('voicemail.ready', { category: 'system' });
