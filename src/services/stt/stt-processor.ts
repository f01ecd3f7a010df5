import { mulawDecode, mulawEncode } from '../../audio/g711.ts';
import { StreamResampler } from '../../audio/resampler.ts';
import { downmixToMono } from '../../audio/pcm.ts';
import type { AudioPayload } from '../../pipeline/audio-payload.ts';
import { audioFrameCount } from '../../pipeline/audio-payload.ts';
import type { Direction, Frame, FrameOf } from '../../pipeline/frames.ts';
import { makeFrame } from '../../pipeline/frames.ts';
import { FrameProcessor } from '../../pipeline/processor.ts';
import type { SttAudioEncoding, SttError, SttInputFormat, SttService, SttSession, SttTranscript } from './stt-service.ts';

export interface SttProcessorOptions {
  service: SttService;
  /** How long `end` waits for the provider's final results before forwarding `end` anyway. @default 3000 */
  endTimeoutMs?: number;
  /**
   * How caller audio arrives in `audio.in` frames, announced to the provider before the first frame.
   * @default 'mulaw' when the call's input rate is 8 kHz, else 'linear16'
   */
  inputEncoding?: SttAudioEncoding;
  /** @default 'SttProcessor' */
  name?: string;
}

/**
 * Streams caller audio to an STT provider and turns its results into frames.
 *
 * Frame contract:
 * - `start`: opens the session in the background (start is forwarded at once; audio is buffered until the
 *   connection is up).
 * - `audio.in`: sent to the provider — as is when the provider takes the call's format (μ-law stays μ-law),
 *   converted otherwise — and forwarded unchanged.
 * - `user.speech.stopped`: asks the provider to finalise (Deepgram `Finalize`); starts the TTFB clock.
 * - `stt.mute {muted}`: stops/resumes sending audio; the session keeps the connection alive meanwhile.
 * - out: `transcription` (interim and final, empty ones skipped; `speechFinal` = endpoint or finalize),
 *   `stt.speech.started`, `stt.utterance.end`, `metrics` (`ttfb` = user speech stopped → first final
 *   transcript, see {@link onSpeechStopped}; `stt-usage` audio seconds at the end).
 * - `end`: graceful close (wait for final results, at most `endTimeoutMs`), then `end` travels on.
 *   `cancel`/stop: the socket is closed at once.
 * - Provider errors go upstream as `error` frames with the call id; fatal when the session cannot continue.
 */
export class SttProcessor extends FrameProcessor {
  private readonly service: SttService;
  private readonly endTimeoutMs: number;
  private readonly inputEncoding: SttAudioEncoding | undefined;
  private session: SttSession | null = null;
  private target: SttInputFormat = { encoding: 'mulaw', sampleRate: 8000 };
  private muted = false;
  /** Position of the next `audio.in` frame on the call's input timeline. */
  private inputSec = 0;
  /** `performance.now()` instant the user stopped speaking, while waiting for the final transcript. */
  private speechStoppedAt: number | undefined;
  private lastFinalAtMs = -Infinity;
  private resampler: StreamResampler | null = null;
  private pcmScratch = new Int16Array(0);
  private mulawScratch = new Uint8Array(0);

  constructor(options: SttProcessorOptions) {
    super(options.name ?? 'SttProcessor');
    this.service = options.service;
    this.endTimeoutMs = options.endTimeoutMs ?? 3000;
    this.inputEncoding = options.inputEncoding;
  }

  protected override onStart(frame: FrameOf<'start'>): void {
    const rate = frame.audioInSampleRate;
    const source: SttInputFormat = {
      encoding: this.inputEncoding ?? (rate === 8000 ? 'mulaw' : 'linear16'),
      sampleRate: rate,
    };
    this.target = this.service.inputFormatFor(source);
    const session = this.service.createSession({ callId: this.callId, input: this.target, log: this.log });
    this.session = session;
    session.on('transcript', (t) => this.onTranscript(t));
    session.on('speechStarted', ({ atSec }) => this.emit(makeFrame('stt.speech.started', { atSec })));
    session.on('utteranceEnd', ({ lastWordEndSec }) => this.emit(makeFrame('stt.utterance.end', { lastWordEndSec })));
    session.on('error', (error: SttError) => {
      if (!this.isStopped) this.pushError(error, error.fatal);
    });
    session.on('reconnected', ({ attempt, replayedSec }) =>
      this.log.info({ provider: this.service.provider, attempt, replayedSec }, 'stt reconnected'),
    );
    void session.connect(); // failures arrive as 'error' events
  }

  protected override processFrame(frame: Frame, direction: Direction): void {
    switch (frame.type) {
      case 'audio.in':
        this.sendAudio(frame.audio);
        break;
      case 'user.speech.stopped':
        this.session?.finalize();
        this.onSpeechStopped(frame.atMs);
        break;
      case 'user.speech.started':
        this.speechStoppedAt = undefined;
        break;
      case 'stt.mute':
        this.muted = frame.muted;
        break;
      default:
        break;
    }
    this.pushFrame(frame, direction);
  }

  protected override async onEnd(): Promise<void> {
    const session = this.session;
    if (!session) return;
    const result = await session.close(this.endTimeoutMs);
    this.pushFrame(makeFrame('metrics', { data: [{ kind: 'stt-usage', processor: this.name, audioSec: result.audioSec }] }));
  }

  protected override onStop(): void {
    this.session?.abort();
  }

  private sendAudio(audio: AudioPayload): void {
    const atSec = this.inputSec;
    this.inputSec += audioFrameCount(audio) / audio.sampleRate;
    const session = this.session;
    if (this.muted || !session) return;
    const target = this.target;
    // Fast path: the provider takes the carrier's μ-law as is.
    if (target.encoding === 'mulaw' && audio.mulaw && audio.channels === 1 && audio.sampleRate === target.sampleRate) {
      session.sendAudio(audio.mulaw, atSec);
      return;
    }
    if (target.encoding === 'linear16' && audio.pcm && audio.channels === 1 && audio.sampleRate === target.sampleRate) {
      session.sendAudio(new Uint8Array(audio.pcm.buffer, audio.pcm.byteOffset, audio.pcm.byteLength), atSec);
      return;
    }
    session.sendAudio(this.convert(audio), atSec);
  }

  /** Converts a frame the provider cannot take as is (decode, downmix, resample, encode). */
  private convert(audio: AudioPayload): Uint8Array {
    let pcm = audio.pcm ?? mulawDecode(audio.mulaw ?? new Uint8Array(0), this.scratchPcm(audio.mulaw?.length ?? 0));
    if (audio.channels > 1) pcm = downmixToMono(pcm, audio.channels);
    if (audio.sampleRate !== this.target.sampleRate) {
      if (!this.resampler || this.resampler.fromRate !== audio.sampleRate) {
        this.resampler = new StreamResampler(audio.sampleRate, this.target.sampleRate);
      }
      pcm = this.resampler.process(pcm);
    }
    if (this.target.encoding === 'mulaw') {
      if (this.mulawScratch.length < pcm.length) this.mulawScratch = new Uint8Array(pcm.length);
      return mulawEncode(pcm, this.mulawScratch.subarray(0, pcm.length));
    }
    // linear16 is little-endian on the wire, which is the byte order of every platform Node runs on here.
    return new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  }

  private scratchPcm(length: number): Int16Array {
    if (this.pcmScratch.length < length) this.pcmScratch = new Int16Array(length);
    return this.pcmScratch.subarray(0, length);
  }

  private onTranscript(t: SttTranscript): void {
    if (this.isStopped || t.text.trim() === '') return;
    this.pushFrame(
      makeFrame('transcription', {
        text: t.text,
        final: t.final,
        speechFinal: t.speechFinal || t.fromFinalize,
        confidence: t.confidence,
        ...(t.language ? { language: t.language } : {}),
      }),
    );
    if (!t.final) return;
    const now = performance.now();
    this.lastFinalAtMs = now;
    if (this.speechStoppedAt !== undefined) {
      this.reportTtfb(now - this.speechStoppedAt);
      this.speechStoppedAt = undefined;
    }
  }

  /**
   * TTFB runs from the instant the user stopped speaking (`atMs` of `user.speech.stopped`, i.e. our VAD's
   * stop time, not the later arrival of the frame) to the first final transcript after it. When the provider's
   * endpointing delivered that final before our turn decision, it is reported at once.
   */
  private onSpeechStopped(atMs: number): void {
    if (this.lastFinalAtMs >= atMs) {
      this.reportTtfb(this.lastFinalAtMs - atMs);
      this.speechStoppedAt = undefined;
    } else {
      this.speechStoppedAt = atMs;
    }
  }

  private reportTtfb(valueMs: number): void {
    this.pushFrame(makeFrame('metrics', { data: [{ kind: 'ttfb', processor: this.name, valueMs }] }));
  }

  private emit(frame: Frame): void {
    if (!this.isStopped) this.pushFrame(frame);
  }
}
