/**
 * A simulated phone user running a persona's script on one call.
 *
 * The carrier emulator drives it from its 20 ms clock: each tick it asks for the callee's next frame of
 * speech ({@link SimulatedCallee.nextFrame}) and hands it the frame the carrier just played to it
 * ({@link SimulatedCallee.hear}). So the callee hears exactly the bot audio that played on the line, and its
 * own lines overlap the bot's audio in real time when it interrupts.
 *
 * Every line is registered with the speech registry before its first byte is sent, and starts on a 20 ms
 * frame boundary.
 */
import { DtmfDetector } from '../../audio/dtmf.ts';
import { MULAW_SILENCE, mulawDecode } from '../../audio/g711.ts';
import { speechRegistry, type SpeechLineInput } from '../speech-registry.ts';
import { espeakCalleeVoice, type CalleeUtterance, type CalleeVoice } from './callee-voice.ts';
import { PERSONA_DEFAULTS, type Persona, type PersonaStep } from './persona.ts';
import { audibleSpan, loadSoundClip } from './sound-clip.ts';
import { SpeechDetector, type HeardSegment } from './speech-detector.ts';

const FRAME_BYTES = 160;
const FRAME_MS = 20;

/** What the carrier offers the callee besides audio. */
export interface CalleeLine {
  sendDtmf(digit: string): void;
  hangUp(): void;
}

/** Where spoken lines are registered (the process-wide speech registry by default). */
export interface SpeechSink {
  register(input: SpeechLineInput): { id: number };
  get(id: number): unknown;
}

export interface SaidRecord {
  /** The line, or a played clip's transcript ('' for a sound without words). */
  text: string;
  /** The clip played (`play` steps). */
  play?: string;
  /** Index of the persona step that said it. */
  step?: number;
  /** Epoch ms when its first audible sound began and its last one ended (silence around it not counted); null until sent. */
  firstAudibleAt?: number | null;
  lastAudibleAt?: number | null;
  /** Speech-registry id of the line. */
  lineId: number | null;
  /** Epoch ms of the first and the end of the last frame sent; null until sent. */
  startAt: number | null;
  endAt: number | null;
  /** The bot was audibly speaking when this line started (an interruption). */
  overlappedBot: boolean;
}

export interface PressedRecord {
  digit: string;
  at: number;
}

export type StepOutcome = 'done' | 'timeout' | 'call-ended' | 'error';

export interface StepRecord {
  index: number;
  step: PersonaStep;
  startedAt: number;
  endedAt: number | null;
  outcome: StepOutcome | null;
  error?: string;
}

/** Everything the callee did and heard on one call (live object; times are epoch ms). */
export interface CalleeRecord {
  personaId: string;
  said: SaidRecord[];
  /** Stretches of bot speech heard. */
  heard: HeardSegment[];
  pressed: PressedRecord[];
  /** DTMF keys heard as tones in the audio (Goertzel detection). */
  heardKeys: PressedRecord[];
  steps: StepRecord[];
  /** The callee hung up (rather than the other side). */
  hungUp: boolean;
  connectedAt: number | null;
  endedAt: number | null;
  /** The script ran to its end. */
  scriptFinished: boolean;
}

export interface SimulatedCalleeOptions {
  persona: Persona;
  /** @default eSpeak with the persona's voice settings */
  voice?: CalleeVoice;
  /** @default the process-wide speech registry */
  speech?: SpeechSink;
  /** Multiplies `pauseMs` steps and the answer delay (not speech, not waits for the bot). @default 1 */
  timeScale?: number;
  /** Clock for steps that don't run on media ticks (DTMF gaps, pauses). @default wall clock */
  now?: () => number;
  /** Where relative `play` paths are found. @default the working directory */
  soundsDir?: string;
}

interface OutgoingLine {
  bytes: Uint8Array;
  offset: number;
  record: SaidRecord;
  /** Seconds into the line where its audible sound begins and ends. */
  audible: [number, number];
  done: () => void;
}

interface Waiter {
  check: (at: number) => boolean;
  deadline: number;
  resolve: (outcome: StepOutcome) => void;
}

export class SimulatedCallee {
  readonly record: CalleeRecord;
  readonly persona: Persona;
  private readonly voice: CalleeVoice;
  private readonly speech: SpeechSink;
  private readonly timeScale: number;
  private readonly now: () => number;
  private readonly soundsDir: string | undefined;
  private readonly detector: SpeechDetector;
  private readonly keys = new DtmfDetector();
  /** Index of the step running now. */
  private stepIndex = -1;
  private readonly frame = new Uint8Array(FRAME_BYTES);
  private readonly utterances = new Map<string, Promise<CalleeUtterance>>();
  private readonly lineIds = new WeakMap<CalleeUtterance, number>();
  private readonly outgoing: OutgoingLine[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: (outcome: StepOutcome) => void }>();
  private line: CalleeLine | null = null;
  private ended = false;
  /** End of our last line or key press: the bot's reply to it starts after this. */
  private lastTurnEndAt = -Infinity;

  constructor(options: SimulatedCalleeOptions) {
    this.persona = options.persona;
    this.voice = options.voice ?? espeakCalleeVoice(options.persona.voice);
    this.speech = options.speech ?? speechRegistry;
    this.timeScale = options.timeScale ?? 1;
    this.now = options.now ?? (() => performance.timeOrigin + performance.now());
    this.soundsDir = options.soundsDir;
    this.detector = new SpeechDetector({
      thresholdDbfs: options.persona.hearing?.thresholdDbfs ?? PERSONA_DEFAULTS.thresholdDbfs,
      segmentGapMs: options.persona.hearing?.segmentGapMs ?? PERSONA_DEFAULTS.segmentGapMs,
    });
    this.record = {
      personaId: options.persona.id,
      said: [],
      heard: this.detector.segments,
      pressed: [],
      heardKeys: [],
      steps: [],
      hungUp: false,
      connectedAt: null,
      endedAt: null,
      scriptFinished: false,
    };
  }

  /** Starts synthesising the persona's lines (call when the phone starts ringing, so they are ready). */
  prepare(): void {
    // Warm-up; failures surface when the step runs.
    for (const step of this.persona.steps ?? []) {
      if ('say' in step) void this.utterance(step.say);
      if ('play' in step) void this.clip(step).catch(() => {});
    }
  }

  /** The call's media is up: start the script. */
  connect(line: CalleeLine, at: number): void {
    if (this.line || this.ended) return;
    this.line = line;
    this.record.connectedAt = at;
    this.prepare();
    void this.runScript();
  }

  /** The callee's audio for the tick starting at `at`: 160 bytes, or null for silence. */
  nextFrame(at: number): Uint8Array | null {
    const current = this.outgoing[0];
    if (!current) return null;
    const { record, bytes } = current;
    if (record.startAt === null) {
      record.startAt = at;
      record.firstAudibleAt = at + current.audible[0] * 1000;
      record.lastAudibleAt = at + current.audible[1] * 1000;
      record.overlappedBot = this.detector.speaking;
    }
    const take = Math.min(FRAME_BYTES, bytes.length - current.offset);
    this.frame.set(bytes.subarray(current.offset, current.offset + take));
    if (take < FRAME_BYTES) this.frame.fill(MULAW_SILENCE, take);
    current.offset += take;
    if (current.offset >= bytes.length) {
      record.endAt = at + take / 8;
      this.outgoing.shift();
      current.done();
    }
    return this.frame;
  }

  /** The bot audio the carrier played to the callee during the tick starting at `at`. */
  hear(frame: Uint8Array, at: number): void {
    this.detector.push(frame, at);
    for (const digit of this.keys.push(mulawDecode(frame))) this.record.heardKeys.push({ digit, at });
    const maxCallMs = this.persona.maxCallMs ?? PERSONA_DEFAULTS.maxCallMs;
    if (this.record.connectedAt !== null && at - this.record.connectedAt >= maxCallMs && !this.ended) {
      this.hangUp();
      return;
    }
    for (const waiter of [...this.waiters]) {
      if (waiter.check(at)) {
        this.waiters.delete(waiter);
        waiter.resolve('done');
      } else if (at >= waiter.deadline) {
        this.waiters.delete(waiter);
        waiter.resolve('timeout');
      }
    }
  }

  /** The call ended (either side): stop the script. */
  end(at: number): void {
    if (this.ended) return;
    this.ended = true;
    this.record.endedAt = at;
    this.detector.finish();
    for (const waiter of this.waiters) waiter.resolve('call-ended');
    this.waiters.clear();
    for (const { timer, resolve } of this.timers) {
      clearTimeout(timer);
      resolve('call-ended');
    }
    this.timers.clear();
    for (const line of this.outgoing.splice(0)) line.done();
  }

  private utterance(text: string): Promise<CalleeUtterance> {
    let promise = this.utterances.get(text);
    if (!promise) {
      promise = this.voice.synthesize(text);
      promise.catch(() => {}); // reported by the step that uses it
      this.utterances.set(text, promise);
    }
    return promise;
  }

  private async runScript(): Promise<void> {
    const delay = (this.persona.answerDelayMs ?? PERSONA_DEFAULTS.answerDelayMs) * this.timeScale;
    if ((await this.sleep(delay)) === 'call-ended') return;
    const steps = this.persona.steps ?? [];
    for (let index = 0; index < steps.length && !this.ended; index++) {
      const step = steps[index] as PersonaStep;
      this.stepIndex = index;
      const stepRecord: StepRecord = { index, step, startedAt: this.now(), endedAt: null, outcome: null };
      this.record.steps.push(stepRecord);
      try {
        stepRecord.outcome = this.ended ? 'call-ended' : await this.runStep(step, stepRecord.startedAt);
      } catch (error) {
        stepRecord.outcome = 'error';
        stepRecord.error = error instanceof Error ? error.message : String(error);
      }
      stepRecord.endedAt = this.now();
      if (stepRecord.outcome === 'call-ended') return;
      if (stepRecord.outcome === 'timeout' && 'onTimeout' in step && step.onTimeout === 'hangUp') {
        this.hangUp();
        return;
      }
    }
    if (this.ended) return;
    this.record.scriptFinished = true;
    if ((this.persona.afterSteps ?? PERSONA_DEFAULTS.afterSteps) === 'hangUp') this.hangUp();
  }

  private async runStep(step: PersonaStep, startedAt: number): Promise<StepOutcome> {
    if ('say' in step) return this.say(step.say);
    if ('play' in step) return this.play(step);
    if ('press' in step) return this.press(step.press, step.gapMs ?? PERSONA_DEFAULTS.pressGapMs);
    if ('waitForBotToFinish' in step) {
      const minSilenceMs = step.minSilenceMs ?? PERSONA_DEFAULTS.minSilenceMs;
      const ref = this.lastTurnEndAt;
      return this.waitFor(startedAt, step.timeoutMs, (at) => {
        // Bot speech after our last line — including speech already under way when it ended (the bot
        // resuming after a sound we made over it).
        const reply = this.replyAfter(ref) ?? this.speechAfter(ref);
        const last = this.detector.lastSpeechAt;
        return reply !== undefined && last !== null && at + FRAME_MS - last >= minSilenceMs;
      });
    }
    if ('waitForBotSpeechMs' in step) {
      const ref = this.lastTurnEndAt;
      const needed = step.waitForBotSpeechMs;
      return this.waitFor(startedAt, step.timeoutMs, (at) => {
        const reply = this.replyAfter(ref);
        return reply !== undefined && this.detector.speaking && at + FRAME_MS - reply.startAt >= needed;
      });
    }
    if ('waitForKeys' in step) {
      const from = this.record.heardKeys.length;
      const wanted = step.waitForKeys.toUpperCase();
      return this.waitFor(startedAt, step.timeoutMs, () => {
        const heard = this.record.heardKeys
          .slice(from)
          .map((k) => k.digit)
          .join('');
        return heard.endsWith(wanted);
      });
    }
    if ('pauseMs' in step) return this.sleep(step.pauseMs * this.timeScale);
    this.hangUp();
    return 'done';
  }

  /** A stretch of bot speech still going on at `ref`, or ended after it. */
  private speechAfter(ref: number): HeardSegment | undefined {
    return this.detector.segments.find((segment) => segment.endAt === null || segment.endAt > ref);
  }

  /** The first stretch of bot speech that started at or after `ref`. */
  private replyAfter(ref: number): HeardSegment | undefined {
    const segments = this.detector.segments;
    let found: HeardSegment | undefined;
    for (let i = segments.length - 1; i >= 0; i--) {
      const segment = segments[i] as HeardSegment;
      if (segment.startAt < ref) break;
      found = segment;
    }
    return found;
  }

  private async say(text: string): Promise<StepOutcome> {
    const utterance = await this.utterance(text);
    if (this.ended) return 'call-ended';
    const lineId = this.registerLine(utterance);
    const record: SaidRecord = { text, lineId, step: this.stepIndex, startAt: null, endAt: null, overlappedBot: false };
    this.record.said.push(record);
    const audible = audibleSpan(mulawDecode(utterance.mulaw));
    await new Promise<void>((done) => this.outgoing.push({ bytes: utterance.mulaw, offset: 0, record, audible, done }));
    if (record.endAt === null) return 'call-ended';
    this.lastTurnEndAt = record.endAt;
    return 'done';
  }

  private clip(step: { play: string; gainDb?: number | undefined; transcript?: string | undefined }) {
    return loadSoundClip(step.play, {
      ...(step.gainDb !== undefined ? { gainDb: step.gainDb } : {}),
      ...(step.transcript !== undefined ? { transcript: step.transcript } : {}),
      ...(this.soundsDir ? { baseDir: this.soundsDir } : {}),
    });
  }

  /** Plays a recorded sound; registered (recognisable) only when it has a transcript. */
  private async play(step: { play: string; gainDb?: number | undefined; transcript?: string | undefined }): Promise<StepOutcome> {
    const clip = await this.clip(step);
    if (this.ended) return 'call-ended';
    const lineId = clip.text ? this.speech.register({ text: clip.text, mulaw: clip.mulaw, words: clip.words }).id : null;
    const record: SaidRecord = {
      text: clip.text,
      play: step.play,
      lineId,
      step: this.stepIndex,
      startAt: null,
      endAt: null,
      overlappedBot: false,
    };
    this.record.said.push(record);
    await new Promise<void>((done) => this.outgoing.push({ bytes: clip.mulaw, offset: 0, record, audible: clip.audible, done }));
    if (record.endAt === null) return 'call-ended';
    this.lastTurnEndAt = record.endAt;
    return 'done';
  }

  private registerLine(utterance: CalleeUtterance): number {
    const known = this.lineIds.get(utterance);
    if (known !== undefined && this.speech.get(known) !== undefined) return known;
    const { id } = this.speech.register({ text: utterance.text, mulaw: utterance.mulaw, words: utterance.words });
    this.lineIds.set(utterance, id);
    return id;
  }

  private async press(digits: string, gapMs: number): Promise<StepOutcome> {
    for (let i = 0; i < digits.length; i++) {
      if (this.ended || !this.line) return 'call-ended';
      const digit = (digits[i] as string).toUpperCase();
      const at = this.now();
      this.record.pressed.push({ digit, at });
      this.line.sendDtmf(digit);
      this.lastTurnEndAt = at;
      if (i < digits.length - 1 && (await this.sleep(gapMs)) === 'call-ended') return 'call-ended';
    }
    return 'done';
  }

  private waitFor(startedAt: number, timeoutMs: number | undefined, check: (at: number) => boolean): Promise<StepOutcome> {
    if (this.ended) return Promise.resolve('call-ended');
    const deadline = startedAt + (timeoutMs ?? PERSONA_DEFAULTS.waitTimeoutMs);
    return new Promise((resolve) => this.waiters.add({ check, deadline, resolve }));
  }

  private sleep(ms: number): Promise<StepOutcome> {
    if (this.ended) return Promise.resolve('call-ended');
    if (ms <= 0) return Promise.resolve('done');
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.timers.delete(entry);
          resolve('done');
        }, ms),
        resolve,
      };
      this.timers.add(entry);
    });
  }

  private hangUp(): void {
    if (this.ended || !this.line) return;
    this.record.hungUp = true;
    this.line.hangUp();
  }
}
