/**
 * The simulated callee the load benchmark dials: it keeps a real conversation going for the whole run, with
 * both normal turns and barge-ins, against the sandbox LLM's default policy (appointment reminder).
 *
 * "Sorry, what time was that?" and "What time was that again?" match the policy's `repeat` rule for as long
 * as the callee neither confirms nor declines, so the bot answers with the same long reply every time: the
 * conversation loops. Each
 * cycle interrupts that reply 1.5 s in (a barge-in), then lets the next reply finish before speaking again
 * (a normal turn). The callee hangs up `seconds` after its media connected.
 */
import type { Persona } from '../../src/sandbox/callees/persona.ts';

/** Number the measured calls dial. */
export const BENCH_NUMBER = '+15550199001';
/** Number the warm-up call dials. */
export const WARMUP_NUMBER = '+15550199002';

/**
 * `interruption` has no pause near its start: the server counts only voiced time towards the barge-in
 * minimum, so a comma pause ("Sorry, …") would add its length to every barge-in measured.
 */
export const BENCH_LINES = {
  opening: 'Hello?',
  interruption: 'What time was that again?',
  question: 'Sorry, what time was that?',
} as const;

/** How long the callee lets the bot talk before interrupting it. */
export const BARGE_IN_AFTER_MS = 1500;

const VOICE = { voice: 'en-us+f3', wordsPerMinute: 175, pitch: 50 };

/** The looping conversation for a run of `seconds`. */
export function benchPersona(seconds: number): Persona {
  // A cycle (barge-in + a full reply) takes ~12 s; script more cycles than can fit, the hang-up ends it.
  const cycles = Math.ceil(seconds / 6) + 2;
  const steps: NonNullable<Persona['steps']> = [{ say: BENCH_LINES.opening }];
  for (let i = 0; i < cycles; i++) {
    steps.push(
      // A bot that does not answer within 5 s stalls the call; the callee then just speaks again (counted as a timeout).
      { waitForBotSpeechMs: BARGE_IN_AFTER_MS, timeoutMs: 5000 },
      { say: BENCH_LINES.interruption },
      { waitForBotToFinish: true, timeoutMs: 20_000 },
      { say: BENCH_LINES.question },
    );
  }
  return {
    id: 'bench-looper',
    description: 'Load benchmark: asks for the time again and again, interrupting every other reply.',
    ringMs: 100,
    answerDelayMs: 200,
    voice: VOICE,
    steps,
    afterSteps: 'stay',
    maxCallMs: seconds * 1000,
  };
}

/**
 * One short conversation through every path the bench uses (turn, barge-in, reply): loads the server's lazy
 * parts (VAD model, SDK clients, TLS) and the TTS emulator's synthesis cache, then hangs up 3 s into the
 * reply to the interruption.
 */
export function warmupPersona(): Persona {
  return {
    id: 'bench-warmup',
    ringMs: 100,
    answerDelayMs: 200,
    voice: VOICE,
    steps: [
      { say: BENCH_LINES.opening },
      { waitForBotSpeechMs: BARGE_IN_AFTER_MS, timeoutMs: 15_000 },
      { say: BENCH_LINES.interruption },
      { waitForBotSpeechMs: 3000, timeoutMs: 15_000 },
      { hangUp: true },
    ],
    maxCallMs: 60_000,
  };
}

/** Number the conversation workload's callers call from (their persona is registered for it). */
export const CONVERSATION_CALLER = '+15550199003';
/** How long a conversation-workload call lasts: the caller hangs up this long after its media connected. */
export const CONVERSATION_SECONDS = 40;

/**
 * The `--workload conversation` caller (inbound): lets the greeting finish, asks, interrupts the reply 1.5 s
 * in by asking again, lets that reply finish, and repeats until it hangs up `seconds` after connecting (about
 * four replies and two interruptions in 40 s, as in issue 15's comparison).
 */
export function conversationPersona(seconds = CONVERSATION_SECONDS): Persona {
  const cycles = Math.ceil(seconds / 6) + 2;
  const steps: NonNullable<Persona['steps']> = [{ waitForBotToFinish: true, timeoutMs: 20_000 }];
  for (let i = 0; i < cycles; i++) {
    steps.push(
      { say: BENCH_LINES.question },
      { waitForBotSpeechMs: BARGE_IN_AFTER_MS, timeoutMs: 5000 },
      { say: BENCH_LINES.interruption },
      { waitForBotToFinish: true, timeoutMs: 20_000 },
    );
  }
  return {
    id: 'bench-conversation',
    description: 'Conversation workload: asks, interrupts the reply 1.5 s in, asks again, lets the reply finish, repeats.',
    voice: VOICE,
    steps,
    afterSteps: 'stay',
    maxCallMs: seconds * 1000,
  };
}
