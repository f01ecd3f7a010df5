/**
 * Maps positions in the audio a session actually sent (stream bytes) to the call's input timeline. The two
 * differ by every gap in what was sent (STT muted while the caller's audio kept flowing), so each chunk that
 * does not follow on from the previous one starts a new anchor.
 */
export class CallTimeline {
  private readonly pos: number[] = [];
  private readonly sec: number[] = [];

  /** @param bytesPerSec of the sent stream (8000 for 8 kHz μ-law). */
  constructor(private readonly bytesPerSec: number) {}

  /**
   * Records that the chunk starting at stream position `pos` begins at `atSec` on the call timeline
   * (undefined = contiguous with the previous chunk). Cheap when nothing changed: one comparison per chunk.
   */
  note(pos: number, atSec: number | undefined): void {
    const n = this.pos.length;
    if (n === 0) return this.add(pos, atSec ?? 0);
    if (atSec === undefined) return;
    const expected = (this.sec[n - 1] as number) + (pos - (this.pos[n - 1] as number)) / this.bytesPerSec;
    if (Math.abs(atSec - expected) > 0.001) this.add(pos, atSec);
  }

  /** Call time of a stream time (seconds of sent audio). */
  callSec(streamSec: number): number {
    const pos = streamSec * this.bytesPerSec;
    let i = this.pos.length - 1;
    while (i > 0 && (this.pos[i] as number) > pos) i--;
    if (i < 0) return streamSec;
    return (this.sec[i] as number) + (pos - (this.pos[i] as number)) / this.bytesPerSec;
  }

  private add(pos: number, sec: number): void {
    this.pos.push(pos);
    this.sec.push(sec);
    // Bounded: only recent anchors matter (results refer to audio since the last final).
    if (this.pos.length > 256) {
      this.pos.shift();
      this.sec.shift();
    }
  }
}
