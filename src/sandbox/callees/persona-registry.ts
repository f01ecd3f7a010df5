/**
 * Which persona answers which phone number. Built-in personas are registered unless disabled; users add
 * their own from code ({@link PersonaRegistry.register}) or from a JSON file mapping numbers to personas
 * ({@link PersonaRegistry.loadFile}), e.g.
 *
 * ```json
 * { "+15550199999": { "id": "rescheduler", "steps": [{ "say": "Hi?" }, { "waitForBotToFinish": true },
 *                                                     { "say": "I can't make it, can we move it?" }] } }
 * ```
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { builtinPersonas } from './builtin-personas.ts';
import { parsePersona, type Persona } from './persona.ts';

/** Canonical E.164-style key: `+` and digits (`15550100001`, `+1 (555) 010-0001` → `+15550100001`). */
export function normalizeNumber(number: string): string {
  const trimmed = number.trim();
  if (/^(sip|client):/i.test(trimmed)) return trimmed.toLowerCase();
  const digits = trimmed.replace(/[^\d]/g, '');
  return digits ? `+${digits}` : trimmed;
}

export interface PersonaRegistryOptions {
  /** Register the built-in personas (+15550100001 … +15550100006). @default true */
  builtins?: boolean;
  /** Persona for numbers nobody registered; null makes unknown numbers fail the call. @default the cooperative persona */
  fallback?: Persona | null;
}

export class PersonaRegistry {
  private readonly byNumber = new Map<string, Persona>();
  private readonly fallback: Persona | null;

  constructor(options: PersonaRegistryOptions = {}) {
    if (options.builtins ?? true) {
      for (const [number, persona] of Object.entries(builtinPersonas)) this.byNumber.set(normalizeNumber(number), persona);
    }
    this.fallback =
      options.fallback === undefined ? (builtinPersonas['+15550100001'] as Persona) : options.fallback && parsePersona(options.fallback);
  }

  /** Maps `number` to `persona` (validated; throws a ZodError for bad data). Replaces an existing entry. */
  register(number: string, persona: unknown): Persona {
    const parsed = parsePersona(persona);
    this.byNumber.set(normalizeNumber(number), parsed);
    return parsed;
  }

  unregister(number: string): boolean {
    return this.byNumber.delete(normalizeNumber(number));
  }

  /** The persona registered for `number`, without the fallback. */
  get(number: string): Persona | undefined {
    return this.byNumber.get(normalizeNumber(number));
  }

  /** The persona answering `number`: registered, else the fallback, else null. */
  lookup(number: string): Persona | null {
    return this.get(number) ?? this.fallback;
  }

  /** Registers every `number → persona` of a JSON file; returns how many. Validates all before adding any. */
  async loadFile(path: string): Promise<number> {
    const data: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new Error(`persona file ${path}: expected an object mapping phone numbers to personas`);
    }
    const parsed = Object.entries(data).map(([number, persona]) => {
      try {
        return [number, resolveSoundPaths(parsePersona(persona), dirname(path))] as const;
      } catch (error) {
        throw new Error(`persona file ${path}, number ${number}: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
    for (const [number, persona] of parsed) this.byNumber.set(normalizeNumber(number), persona);
    return parsed.length;
  }

  /** All registered numbers and personas. */
  entries(): Array<[string, Persona]> {
    return [...this.byNumber.entries()];
  }
}

/** The persona with its `play` paths made absolute, relative ones read against `baseDir`. */
export function resolveSoundPaths(persona: Persona, baseDir: string): Persona {
  if (!persona.steps?.some((step) => 'play' in step)) return persona;
  return {
    ...persona,
    steps: persona.steps.map((step) => ('play' in step && !isAbsolute(step.play) ? { ...step, play: resolve(baseDir, step.play) } : step)),
  };
}
