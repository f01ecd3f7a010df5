/** What both carriers' emulated calls share: the record, status changes and waits, timers, tapes, the callee. */
import { EventEmitter } from 'node:events';
import type { Logger } from '../../../log.ts';
import type { CalleeVoice } from '../../callees/callee-voice.ts';
import type { PersonaRegistry } from '../../callees/persona-registry.ts';
import { PERSONA_DEFAULTS, type Persona, type PersonaOutcome } from '../../callees/persona.ts';
import { SimulatedCallee, type SpeechSink } from '../../callees/simulated-callee.ts';
import { AudioTape, stereoWav } from './audio-tape.ts';
import type { CallMedia } from './call-media.ts';
import type { DialRecord, EmulatedCallRecord, ProtocolErrorRecord } from './call-record.ts';
import { nowMs, type MediaClock } from './media-clock.ts';

/** Emulator-wide services a call uses. */
export interface CallContext {
  clock: MediaClock;
  log: Logger;
  /** Multiplies ringing, answer delays, persona pauses and carrier ring timeouts. */
  timeScale: number;
  recordAudio: boolean;
  /** Voice for simulated parties; undefined = each persona's eSpeak voice. */
  voice?: CalleeVoice;
  speech?: SpeechSink;
  /** Who answers a number the call dials (`<Dial>`, a transfer). @default nobody (dials fail) */
  personas?: PersonaRegistry;
}

export class CallTimeoutError extends Error {
  constructor(callId: string, wanted: string, status: string, timeoutMs: number) {
    super(`call ${callId}: still "${status}" after ${timeoutMs} ms waiting for ${wanted}`);
    this.name = 'CallTimeoutError';
  }
}

/** How the phone at the other end responds, and when (ms after it starts ringing, already time-scaled). */
export interface RingPlan {
  outcome: PersonaOutcome;
  afterMs: number;
}

/** Applies a persona's call behaviour to a carrier ring timeout (ms, unscaled). */
export function planRing(persona: Persona | null, ringTimeoutMs: number, timeScale: number): RingPlan {
  const outcome = persona ? (persona.outcome ?? PERSONA_DEFAULTS.outcome) : 'failed';
  const ringMs = persona?.ringMs ?? PERSONA_DEFAULTS.ringMs;
  if (outcome === 'no-answer') return { outcome, afterMs: ringTimeoutMs * timeScale };
  if (outcome === 'failed') return { outcome, afterMs: 0 };
  if (outcome === 'answer' && ringMs > ringTimeoutMs) return { outcome: 'no-answer', afterMs: ringTimeoutMs * timeScale };
  return { outcome, afterMs: ringMs * timeScale };
}

export abstract class EmulatedCall {
  readonly record: EmulatedCallRecord;
  readonly callee: SimulatedCallee | null;
  readonly saidTape: AudioTape | null;
  readonly heardTape: AudioTape | null;
  protected readonly context: CallContext;
  readonly log: Logger;
  private readonly events = new EventEmitter();
  private readonly timers = new Set<NodeJS.Timeout>();

  protected constructor(
    context: CallContext,
    init: Pick<EmulatedCallRecord, 'carrier' | 'id' | 'direction' | 'from' | 'to' | 'status'>,
    persona: Persona | null,
  ) {
    this.context = context;
    this.log = context.log.child({ carrier: init.carrier, callId: init.id });
    const createdAt = nowMs();
    this.callee = persona
      ? new SimulatedCallee({ persona, voice: context.voice, speech: context.speech, timeScale: context.timeScale })
      : null;
    this.saidTape = context.recordAudio ? new AudioTape() : null;
    this.heardTape = context.recordAudio ? new AudioTape() : null;
    this.record = {
      ...init,
      transitions: [{ status: init.status, at: createdAt }],
      callbacks: [],
      markup: [],
      streams: [],
      protocolErrors: [],
      warnings: [],
      personaId: persona?.id ?? null,
      callee: this.callee?.record ?? null,
      createdAt,
      answeredAt: null,
      endedAt: null,
      endReason: null,
      dials: [],
    };
    this.events.setMaxListeners(0);
  }

  get id(): string {
    return this.record.id;
  }

  get status(): string {
    return this.record.status;
  }

  get ended(): boolean {
    return this.record.endedAt !== null;
  }

  /** Resolves when the call reaches one of `statuses` (immediately if it is there or went through it). */
  waitForStatus(statuses: string | string[], timeoutMs = 30_000): Promise<EmulatedCallRecord> {
    const wanted = Array.isArray(statuses) ? statuses : [statuses];
    if (this.record.transitions.some((t) => wanted.includes(t.status))) return Promise.resolve(this.record);
    return new Promise((resolve, reject) => {
      const onStatus = (status: string): void => {
        if (!wanted.includes(status)) return;
        cleanup();
        resolve(this.record);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new CallTimeoutError(this.id, wanted.join('|'), this.record.status, timeoutMs));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.events.off('status', onStatus);
      };
      this.events.on('status', onStatus);
    });
  }

  /** Resolves when the call has ended (any final status). */
  waitForEnd(timeoutMs = 60_000): Promise<EmulatedCallRecord> {
    if (this.ended) return Promise.resolve(this.record);
    return new Promise((resolve, reject) => {
      const onEnd = (): void => {
        clearTimeout(timer);
        resolve(this.record);
      };
      const timer = setTimeout(() => {
        this.events.off('end', onEnd);
        reject(new CallTimeoutError(this.id, 'the end of the call', this.record.status, timeoutMs));
      }, timeoutMs);
      this.events.once('end', onEnd);
    });
  }

  /** Callee audio as sent to our server (silence included), WAV. Null when audio recording is off. */
  saidWav(): Buffer | null {
    return this.saidTape?.wav() ?? null;
  }

  /** Bot audio as played to the callee (silence included), WAV. Null when audio recording is off. */
  heardWav(): Buffer | null {
    return this.heardTape?.wav() ?? null;
  }

  /** Both directions: left = callee, right = bot as heard. */
  conversationWav(): Buffer | null {
    return this.saidTape && this.heardTape ? stereoWav(this.saidTape, this.heardTape) : null;
  }

  /** Ends the call now, from outside (emulator shutdown). */
  abstract terminate(reason: string): void;

  protected setStatus(status: string): void {
    if (this.record.status === status) return;
    this.record.status = status;
    this.record.transitions.push({ status, at: nowMs() });
    this.events.emit('status', status);
  }

  /** Marks the call ended (after the final status is set) and stops timers and the callee. */
  protected markEnded(reason: string): void {
    if (this.ended) return;
    const at = nowMs();
    this.record.endedAt = at;
    this.record.endReason = reason;
    this.clearTimers();
    this.callee?.end(at);
    this.events.emit('end');
  }

  /**
   * Dials `to` from this call (`<Dial>`, a transfer) and bridges the callee with whoever answers — the persona
   * registered for that number (e.g. a "human agent") — until either side hangs up or the call ends. The
   * answered party hears the callee and the callee hears them; the record's `dials` keeps what each heard.
   */
  protected dialParty(media: CallMedia, to: string, timeoutSec: number): Promise<DialRecord> {
    const persona = this.context.personas?.get(to) ?? null;
    const dial: DialRecord = { to, personaId: persona?.id ?? null, status: 'failed', answeredAt: null, endedAt: null, party: null };
    this.record.dials.push(dial);
    if (!persona || this.ended) return Promise.resolve(dial);
    const party = new SimulatedCallee({
      persona,
      voice: this.context.voice,
      speech: this.context.speech,
      timeScale: this.context.timeScale,
    });
    dial.party = party.record;
    party.prepare();
    return new Promise((resolve) => {
      let done = false;
      const finish = (status: string): void => {
        if (done) return;
        done = true;
        this.events.off('end', onCallEnd);
        media.bridge(null);
        dial.status = status;
        dial.endedAt = nowMs();
        party.end(dial.endedAt);
        resolve(dial);
      };
      const onCallEnd = (): void => finish(dial.answeredAt === null ? 'canceled' : 'completed');
      this.events.once('end', onCallEnd);
      const plan = planRing(persona, timeoutSec * 1000, this.context.timeScale);
      this.later(plan.afterMs, () => {
        if (plan.outcome !== 'answer') return finish(plan.outcome);
        dial.answeredAt = nowMs();
        media.start();
        media.bridge(party);
        party.connect({ sendDtmf: () => {}, hangUp: () => finish('completed') }, dial.answeredAt);
      });
    });
  }

  /** Records a protocol violation by our server. */
  protocolError(code: number, message: string, raw?: string): void {
    const error: ProtocolErrorRecord = { code, message, at: nowMs() };
    if (raw !== undefined) error.raw = raw.length > 500 ? `${raw.slice(0, 500)}…` : raw;
    this.record.protocolErrors.push(error);
    this.log.warn({ code, detail: message }, 'protocol error from our server');
  }

  /** Runs `fn` after `ms` unless the call ends first. */
  protected later(ms: number, fn: () => void): void {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (!this.ended) fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(timer);
  }

  /** Resolves after `ms` (false if the call ended meanwhile). */
  protected pause(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.ended) return resolve(false);
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          this.events.off('end', onEnd);
          resolve(!this.ended);
        },
        Math.max(0, ms),
      );
      const onEnd = (): void => {
        clearTimeout(timer);
        this.timers.delete(timer);
        resolve(false);
      };
      this.events.once('end', onEnd);
      this.timers.add(timer);
    });
  }

  protected clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
