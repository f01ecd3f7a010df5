import { mulawDecode } from '../audio/g711.ts';
import { BeepDetector } from '../audio/beep-detector.ts';
import type { Direction, Frame, FrameOf } from '../pipeline/frames.ts';
import { makeFrame } from '../pipeline/frames.ts';
import { FrameProcessor } from '../pipeline/processor.ts';
import type { AnsweringMachineDetectorOptions, AnsweringMachineVerdict } from './answering-machine.ts';
import { AnsweringMachineDetector } from './answering-machine.ts';
import type { AnsweredBy } from './frames.ts';
import './frames.ts';

export interface AnsweringMachineProcessorOptions extends AnsweringMachineDetectorOptions {
  /** Told each verdict (a human verdict revised to machine is told again). */
  onVerdict?: (verdict: AnsweringMachineVerdict) => void;
  /** Told when the message can start, and why. */
  onReady?: (info: { reason: string; atMs: number }) => void;
}

/** A processor timer (on the task's clock). */
type Timer = ReturnType<typeof setTimeout>;

/** How often the detector re-evaluates between events (ms). */
const TICK_MS = 50;
/** Sound within this much of the opening speech's level counts as the far end still talking. */
const SOUND_MARGIN_DB = 12;
const SOUND_FLOOR_DBFS = -45;

/**
 * Runs {@link AnsweringMachineDetector} on an outbound call: sits after STT, taps VAD events, transcripts and
 * the caller's audio (for beeps), forwards every frame unchanged, and announces `call.answered-by` and
 * `voicemail.ready` downstream. Stops listening once the call is settled (a person, past the revision window;
 * or a machine whose message may start).
 */
export class AnsweringMachineProcessor extends FrameProcessor {
  private detector: AnsweringMachineDetector | undefined;
  private readonly beeps = new BeepDetector();
  private pcm = new Int16Array(160);
  private tick: Timer | undefined;
  private settled = false;
  private beepSounding = false;
  private vadSpeaking = false;
  /** Mean power of frames heard while VAD said speech (the opening's level). */
  private speechPower = 0;
  private speechFrames = 0;

  constructor(private readonly options: AnsweringMachineProcessorOptions = {}) {
    super('AnsweringMachineProcessor');
  }

  /** The verdict so far. */
  get verdict(): AnsweringMachineVerdict | undefined {
    return this.detector?.verdict;
  }

  /** The carrier's own detection answered (e.g. Twilio's async AMD callback). */
  carrierVerdict(answeredBy: AnsweredBy, evidence?: string): void {
    this.detector?.carrierVerdict(answeredBy, this.taskClock.now(), evidence);
  }

  protected override onStart(): void {
    const detector = new AnsweringMachineDetector(this.taskClock.now(), this.options);
    this.detector = detector;
    detector.onVerdict = (verdict) => {
      this.options.onVerdict?.(verdict);
      this.pushFrame(makeFrame('call.answered-by', { answeredBy: verdict.answeredBy, how: verdict.how, atMs: verdict.atMs }));
    };
    detector.onReady = (info) => {
      this.settled = true;
      this.options.onReady?.(info);
      this.pushFrame(makeFrame('voicemail.ready', info));
    };
    this.beeps.onBeep = (beep) => {
      const now = this.taskClock.now();
      const lagMs = (this.beeps.timeSec - (beep.endSec ?? beep.startSec)) * 1000;
      if (beep.endSec === undefined) {
        this.beepSounding = true;
        detector.beepStarted(now - lagMs);
      } else {
        this.beepSounding = false;
        detector.beepEnded(now - lagMs);
      }
    };
    this.schedule();
  }

  protected override processFrame(frame: Frame, direction: Direction): void {
    this.pushFrame(frame, direction);
    const detector = this.detector;
    if (!detector || this.settled) return;
    switch (frame.type) {
      case 'vad.speech.started':
      case 'vad.speech.resumed':
        this.vadSpeaking = true;
        detector.speechStarted(frame.atMs);
        break;
      case 'vad.speech.paused':
      case 'vad.speech.stopped':
        this.vadSpeaking = false;
        detector.speechStopped(frame.atMs);
        break;
      case 'transcription':
        if (frame.text.trim() !== '') detector.transcript(frame.text.trim(), frame.final);
        break;
      case 'audio.in':
        this.listen(frame);
        return; // beeps re-evaluate through their own callback
      default:
        return;
    }
    this.evaluate();
  }

  private listen(frame: FrameOf<'audio.in'>): void {
    const audio = frame.audio;
    let pcm: Int16Array;
    if (audio.pcm) pcm = audio.pcm;
    else {
      const bytes = audio.mulaw as Uint8Array;
      if (this.pcm.length < bytes.length) this.pcm = new Int16Array(bytes.length);
      pcm = mulawDecode(bytes, this.pcm.subarray(0, bytes.length));
    }
    if (audio.sampleRate === 8000 && audio.channels === 1) this.beeps.push(pcm);
    let sum = 0;
    for (let i = 0; i < pcm.length; i++) sum += (pcm[i] as number) * (pcm[i] as number);
    const power = pcm.length > 0 ? sum / pcm.length : 0;
    if (this.vadSpeaking) {
      this.speechPower += power;
      this.speechFrames++;
    }
    const dbfs = 10 * Math.log10(Math.max(power, 1e-3) / (32768 * 32768));
    const speechDbfs = this.speechFrames > 0 ? 10 * Math.log10(this.speechPower / this.speechFrames / (32768 * 32768)) : undefined;
    const threshold = Math.max(SOUND_FLOOR_DBFS, speechDbfs !== undefined ? speechDbfs - SOUND_MARGIN_DB : SOUND_FLOOR_DBFS);
    if (dbfs >= threshold) this.detector?.soundAt(this.taskClock.now());
  }

  private schedule(): void {
    this.tick = this.setTimer(() => {
      this.tick = undefined;
      this.evaluate();
      if (!this.settled) this.schedule();
    }, TICK_MS);
  }

  private evaluate(): void {
    const detector = this.detector;
    if (!detector || this.settled) return;
    const now = this.taskClock.now();
    detector.update(now);
    const verdict = detector.verdict;
    // A person, and too late for a beep or "after the tone" to change that: stop listening.
    if (
      verdict &&
      verdict.answeredBy !== 'machine' &&
      !this.beepSounding &&
      now - verdict.atMs > (this.options.reviseWithinSecs ?? 15) * 1000
    ) {
      this.settled = true;
      this.clearTimer(this.tick);
    }
  }
}
