/**
 * The two channels of a call recording on one timeline (8 kHz frames counted from the start of the media):
 * the caller on the left, the bot on the right. Pure bookkeeping, no I/O: the {@link CallRecorder} feeds it and
 * writes what it hands back.
 *
 * - Caller audio arrives from the carrier as a continuous stream (its own media clock); it is laid down
 *   sample after sample. If the stream falls behind the clock by more than `resyncFrames` (a gap: the carrier
 *   sent nothing for a while), it continues at the clock's position, the gap left silent.
 * - Bot audio is laid down where the carrier will play it: a chunk sent at time t plays right after what is
 *   already queued at the carrier, or at t when nothing is. So the bot channel is what was *played*.
 * - A clear (barge-in, pause) drops everything the carrier had queued and not yet played: the bot channel is
 *   cut at the moment of the clear.
 * - Frames older than the clock (less twice that margin, for late caller audio) can no longer change and are handed
 *   out by {@link takeSettled}.
 */
export class RecordingTimeline {
  /** Frames before this have been handed out. */
  private settled = 0;
  /** Next caller frame position. */
  private callerAt = 0;
  /** Where the bot audio queued at the carrier ends (frames). */
  private botEnd = 0;
  /** Pending frames from `settled`, interleaved stereo. */
  private pending = new Int16Array(2 * 8000 * 2);

  constructor(
    readonly sampleRate: number,
    /** How far caller audio may lag the clock before the gap is filled with silence. */
    private readonly resyncFrames: number,
  ) {}

  /** Frames handed out so far. */
  get settledFrames(): number {
    return this.settled;
  }

  /** Caller samples (mono, this timeline's rate) received at clock position `nowFrame`. */
  addCaller(samples: Int16Array, nowFrame: number): void {
    // The chunk just arrived: it ends about now. Far behind that, the carrier sent nothing for a while.
    const expected = nowFrame - samples.length;
    if (expected - this.callerAt > this.resyncFrames) this.callerAt = expected;
    this.write(0, samples, this.callerAt);
    this.callerAt += samples.length;
  }

  /** Bot samples sent to the carrier at clock position `nowFrame`; returns where they will play. */
  addBot(samples: Int16Array, nowFrame: number): number {
    const at = Math.max(this.botEnd, nowFrame);
    this.write(1, samples, at);
    this.botEnd = at + samples.length;
    return at;
  }

  /** The carrier dropped what it had queued at `nowFrame`: the bot channel stops there. Returns frames cut. */
  clearBot(nowFrame: number): number {
    const from = Math.max(nowFrame, this.settled);
    const cut = Math.max(0, this.botEnd - from);
    for (let f = from; f < this.botEnd; f++) {
      const i = 2 * (f - this.settled) + 1;
      if (i < this.pending.length) this.pending[i] = 0;
    }
    this.botEnd = Math.min(this.botEnd, Math.max(nowFrame, this.settled));
    return cut;
  }

  /** Where the bot's queued audio ends (frames); at most the clock position once it has all played. */
  get botEndFrame(): number {
    return this.botEnd;
  }

  /**
   * Interleaved frames that can no longer change, up to `nowFrame` less the caller's allowed lag (and never
   * past queued bot audio that a clear could still drop). `final`: everything up to `nowFrame`.
   */
  takeSettled(nowFrame: number, final = false): Int16Array {
    const upTo = final ? Math.max(nowFrame, this.settled) : Math.min(nowFrame, Math.max(this.callerAt, nowFrame - 2 * this.resyncFrames));
    const frames = Math.max(0, upTo - this.settled);
    if (frames === 0) return new Int16Array(0);
    this.ensure(frames);
    const out = this.pending.slice(0, 2 * frames);
    this.pending.copyWithin(0, 2 * frames);
    this.pending.fill(0, this.pending.length - 2 * frames);
    this.settled += frames;
    if (this.callerAt < this.settled) this.callerAt = this.settled;
    return out;
  }

  private write(channel: 0 | 1, samples: Int16Array, atFrame: number): void {
    let skip = 0;
    if (atFrame < this.settled) skip = this.settled - atFrame; // too late to change: dropped
    if (skip >= samples.length) return;
    const start = atFrame + skip - this.settled;
    this.ensure(start + samples.length - skip);
    for (let k = skip; k < samples.length; k++) this.pending[2 * (start + k - skip) + channel] = samples[k] as number;
  }

  private ensure(frames: number): void {
    if (2 * frames <= this.pending.length) return;
    let size = this.pending.length;
    while (size < 2 * frames) size *= 2;
    const grown = new Int16Array(size);
    grown.set(this.pending);
    this.pending = grown;
  }
}
