import { CallTimeline } from './call-timeline.ts';
import { ReplayBuffer } from './replay-buffer.ts';
import type { SttInputFormat } from './stt-service.ts';

/**
 * The audio an STT session accepted, addressed by stream byte position: the bytes not yet transcribed for good
 * (kept for replay after a drop) and how positions map onto the call's input timeline.
 */
export class OutgoingAudio {
  readonly bytesPerSec: number;
  readonly sampleBytes: number;
  /** Replay piece size: a quarter second, on a sample boundary. */
  readonly replayPiece: number;
  private readonly ring: ReplayBuffer;
  private readonly timeline: CallTimeline;

  constructor(input: SttInputFormat, maxReplaySec: number) {
    this.sampleBytes = input.encoding === 'linear16' ? 2 : 1;
    this.bytesPerSec = input.sampleRate * this.sampleBytes;
    this.replayPiece = Math.max(this.sampleBytes, Math.floor(this.bytesPerSec / 4 / this.sampleBytes) * this.sampleBytes);
    this.timeline = new CallTimeline(this.bytesPerSec);
    this.ring = new ReplayBuffer(Math.ceil(maxReplaySec * this.bytesPerSec), this.bytesPerSec);
  }

  /** Position just after the newest byte (= bytes ever accepted). */
  get end(): number {
    return this.ring.end;
  }

  /** Oldest position still held. */
  get start(): number {
    return this.ring.start;
  }

  /** Copies a chunk in; `atSec` places it on the call timeline (undefined = contiguous). Returns its position. */
  push(chunk: Uint8Array, atSec: number | undefined): number {
    const pos = this.ring.end;
    this.timeline.note(pos, atSec);
    this.ring.push(chunk);
    return pos;
  }

  /** Views of the bytes from `from` to the end, each at most `maxPiece` long. */
  forEach(from: number, maxPiece: number, fn: (piece: Uint8Array) => void): void {
    this.ring.forEach(from, maxPiece, fn);
  }

  /** Bytes before `pos` are transcribed for good: no replay needs them. */
  dropBefore(pos: number): void {
    this.ring.dropBefore(pos);
  }

  /** Call-timeline seconds of a stream position. */
  callSec(pos: number): number {
    return this.timeline.callSec(pos / this.bytesPerSec);
  }

  /** Call-timeline seconds of a stream time (seconds of sent audio, as providers report them). */
  callSecOfStreamSec(streamSec: number): number {
    return this.timeline.callSec(streamSec);
  }

  /** Stream position `ms` milliseconds after `basePos`, on a sample boundary. */
  posAfter(basePos: number, ms: number): number {
    return basePos + Math.round((ms * this.bytesPerSec) / 1000 / this.sampleBytes) * this.sampleBytes;
  }
}
