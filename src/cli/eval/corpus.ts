/**
 * The conversation corpus: scripted callers (personas) and the events they stage. Data lives in
 * `test/conversation/corpus.json` (calls) and `sounds.json` (the sounds their `play` steps use, made on demand).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parsePersona, type Persona } from '../../sandbox/callees/persona.ts';
import { resolveSoundPaths } from '../../sandbox/callees/persona-registry.ts';
import type { SoundSpec } from '../../sandbox/callees/sound-synth.ts';

export const EVENT_KINDS = [
  'answer',
  'backchannel',
  'non-speech',
  'interruption',
  'slow-talker',
  'keypad',
  'wordless-interruption',
  'voicemail',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

const eventSchema = z.strictObject({
  kind: z.enum(EVENT_KINDS),
  /** The persona step that is the event (its line, sound or key press). */
  step: z.number().int().min(0),
  /** Slow talkers: the step that continues the sentence. */
  continuation: z.number().int().min(0).optional(),
  /** Voicemail: the step that plays the beep (absent: no beep). */
  beepStep: z.number().int().min(0).optional(),
});

const callSchema = z.strictObject({
  id: z.string().min(1),
  category: z.enum(['conversation', 'voicemail']),
  /** Who answers: a person or an answering machine. */
  answeredBy: z.enum(['human', 'machine']),
  /** Part of the small subset CI runs. */
  ci: z.boolean(),
  persona: z.unknown(),
  events: z.array(eventSchema).min(1),
});

export type CorpusEvent = z.infer<typeof eventSchema>;
export type CorpusCall = Omit<z.infer<typeof callSchema>, 'persona'> & { persona: Persona };

export interface Corpus {
  dir: string;
  calls: CorpusCall[];
  sounds: Record<string, SoundSpec>;
}

/** Reads and validates a corpus folder (`corpus.json`, `sounds.json`); `play` paths resolve against it. */
export function loadCorpus(dir: string): Corpus {
  const raw = JSON.parse(readFileSync(join(dir, 'corpus.json'), 'utf8')) as { calls?: unknown };
  const calls = z
    .array(callSchema)
    .parse(raw.calls)
    .map((call) => {
      const parsed = resolveSoundPaths(parsePersona(call.persona), dir);
      // The carrier emulators' machine detection answers from the same ground truth the scorecard uses.
      const persona = call.answeredBy === 'machine' ? { ...parsed, answeringMachine: true } : parsed;
      for (const event of call.events) {
        for (const step of [event.step, event.continuation, event.beepStep]) {
          if (step !== undefined && step >= (persona.steps?.length ?? 0))
            throw new Error(`corpus call ${call.id}: event step ${step} has no persona step`);
        }
      }
      return { ...call, persona };
    });
  const sounds = JSON.parse(readFileSync(join(dir, 'sounds.json'), 'utf8')) as Record<string, SoundSpec>;
  return { dir, calls, sounds };
}
