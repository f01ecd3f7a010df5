/**
 * Personas: what a simulated phone user does on a call, as data.
 *
 * A persona has call-level behaviour (answer, busy, no answer; how long it rings; how long after connecting
 * it starts) and a script of steps run once the call's media is up:
 *
 * | step | meaning |
 * |---|---|
 * | `{ "say": "Hello?" }` | speak the line (synthesised, registered with the speech registry, then sent); done when its audio has been sent |
 * | `{ "play": "sounds/laugh.wav", "gainDb": -6, "transcript": "Ha ha." }` | play a WAV file (any rate; mixed to mono, sent as 8 kHz μ-law) at a gain; with a `transcript` it is registered so the STT emulators recognise those words (speech, a TV line someone could transcribe), without one it is a sound STT cannot transcribe (a cough, a laugh, noise); done when sent |
 * | `{ "press": "1", "gapMs": 150 }` | press keys (DTMF events), `gapMs` apart |
 * | `{ "waitForBotToFinish": true, "minSilenceMs": 900, "timeoutMs": 30000 }` | wait until the bot has spoken (after our last line or key press, or still speaking when it ended) and then been quiet for `minSilenceMs` |
 * | `{ "waitForBotSpeechMs": 1500, "timeoutMs": 30000 }` | wait until the bot has been talking for this long (starting after our last line) — for interrupting it |
 * | `{ "waitForKeys": "1", "timeoutMs": 15000, "onTimeout": "hangUp" }` | wait until these keys have been heard, in order, as DTMF tones in the audio (an IVR menu); other keys do not count; `onTimeout` `continue` (default) or `hangUp` |
 * | `{ "pauseMs": 500 }` | do nothing for a while |
 * | `{ "hangUp": true }` | hang up |
 *
 * "The bot" is what the persona hears: energy-based speech detection on the audio the carrier actually plays
 * to it, so "finished" means the bot's audio stopped playing. A wait that times out is recorded and the
 * script goes on.
 */
import { z } from 'zod';

export const sayStepSchema = z.strictObject({ say: z.string().min(1) });
export const playStepSchema = z.strictObject({
  /** WAV file; a relative path resolves against the persona file's folder (or the callee's `soundsDir`). */
  play: z.string().min(1),
  /** Gain applied to the clip, in dB. @default 0 */
  gainDb: z.number().min(-60).max(30).optional(),
  /** Words the clip says, recognised by the STT emulators; absent: STT hears a sound without words. */
  transcript: z.string().optional(),
});
export const pressStepSchema = z.strictObject({
  press: z.string().regex(/^[0-9*#A-Da-d]+$/, 'DTMF digits are 0-9, *, #, A-D'),
  /** Pause between keys. @default 150 */
  gapMs: z.number().nonnegative().optional(),
});
export const waitForBotToFinishStepSchema = z.strictObject({
  waitForBotToFinish: z.literal(true),
  /** Bot silence that counts as "finished". @default 900 */
  minSilenceMs: z.number().positive().optional(),
  /** Give up waiting after this long. @default 30000 */
  timeoutMs: z.number().positive().optional(),
});
export const waitForBotSpeechStepSchema = z.strictObject({
  waitForBotSpeechMs: z.number().positive(),
  /** Give up waiting after this long. @default 30000 */
  timeoutMs: z.number().positive().optional(),
});
export const waitForKeysStepSchema = z.strictObject({
  /** Keys to hear, in order, as DTMF tones in the audio (a Goertzel detector listens); other keys are ignored. */
  waitForKeys: z.string().regex(/^[0-9*#A-Da-d]+$/, 'DTMF digits are 0-9, *, #, A-D'),
  /** Give up waiting after this long. @default 30000 */
  timeoutMs: z.number().positive().optional(),
  /** When the keys never come: go on with the script, or hang up (an IVR that connects only on the right key). @default 'continue' */
  onTimeout: z.enum(['continue', 'hangUp']).optional(),
});
export const pauseStepSchema = z.strictObject({ pauseMs: z.number().nonnegative() });
export const hangUpStepSchema = z.strictObject({ hangUp: z.literal(true) });

export const personaStepSchema = z.union([
  sayStepSchema,
  playStepSchema,
  pressStepSchema,
  waitForBotToFinishStepSchema,
  waitForBotSpeechStepSchema,
  waitForKeysStepSchema,
  pauseStepSchema,
  hangUpStepSchema,
]);

export const personaVoiceSchema = z.strictObject({
  /** eSpeak voice; different from the bot's default (`en-us`). @default 'en-us+f3' */
  voice: z.string().optional(),
  /** Speaking rate. @default 175 */
  wordsPerMinute: z.number().min(80).max(450).optional(),
  /** Base pitch 0–99. @default 50 */
  pitch: z.number().min(0).max(99).optional(),
});

export const personaHearingSchema = z.strictObject({
  /** Frame level (RMS, dBFS) above which the bot counts as speaking. @default -45 */
  thresholdDbfs: z.number().optional(),
  /** Pause inside the bot's speech that still counts as one stretch of speech. @default 300 */
  segmentGapMs: z.number().positive().optional(),
});

export const personaSchema = z.strictObject({
  /** Short name, e.g. `cooperative`. */
  id: z.string().min(1),
  description: z.string().optional(),
  /** What happens when the phone rings. @default 'answer' */
  outcome: z.enum(['answer', 'busy', 'no-answer', 'failed']).optional(),
  /** How long the phone rings before it is answered (or the busy signal comes); no-answer rings until the carrier's timeout. @default 1500 */
  ringMs: z.number().nonnegative().optional(),
  /**
   * The phone is answered by a voicemail box, not a person: carrier emulators' machine detection reports
   * `machine` (what the real carriers' detectors would conclude; the bot's own detection works from the audio).
   * @default false
   */
  answeringMachine: z.boolean().optional(),
  /** After the media connects, before the first step. @default 300 */
  answerDelayMs: z.number().nonnegative().optional(),
  voice: personaVoiceSchema.optional(),
  hearing: personaHearingSchema.optional(),
  steps: z.array(personaStepSchema).optional(),
  /** After the last step: stay on the line (silent) until the other side hangs up, or hang up. @default 'stay' */
  afterSteps: z.enum(['stay', 'hangUp']).optional(),
  /** Hang up after this long on the line whatever the script says (a safety net). @default 300000 */
  maxCallMs: z.number().positive().optional(),
});

export type PersonaStep = z.infer<typeof personaStepSchema>;
export type Persona = z.infer<typeof personaSchema>;
export type PersonaOutcome = NonNullable<Persona['outcome']>;

/** Values used where a persona leaves a field out. */
export const PERSONA_DEFAULTS = {
  outcome: 'answer',
  ringMs: 1500,
  answerDelayMs: 300,
  voice: 'en-us+f3',
  afterSteps: 'stay',
  maxCallMs: 300_000,
  pressGapMs: 150,
  minSilenceMs: 900,
  waitTimeoutMs: 30_000,
  thresholdDbfs: -45,
  segmentGapMs: 300,
} as const;

/** Validates untrusted persona data (a user's JSON file); throws a ZodError naming the bad field. */
export function parsePersona(data: unknown): Persona {
  return personaSchema.parse(data);
}
