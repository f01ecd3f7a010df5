/** A mark to send once the outbound stream has reached `offset` bytes. */
export interface PendingMark {
  offset: number;
  name: string;
}

/** What an acknowledged mark tells about one utterance. */
export interface PlaybackProgress {
  utteranceId: string;
  /** Seconds of the utterance's audio the caller has heard. */
  playedSec: number;
  /** The whole utterance has played. */
  complete: boolean;
}

interface UtteranceState {
  id: string;
  /** Byte offset of the utterance's first byte in the outbound stream; undefined until audio arrives. */
  startOffset: number | undefined;
  /** Word-end times (s) that arrived before the utterance's first audio. */
  pendingWordEnds: number[];
  ended: boolean;
  started: boolean;
  playedSec: number;
}

interface MarkInfo {
  utteranceId: string;
  positionSec: number;
  isEnd: boolean;
  generation: number;
  /** Stream offset the mark was placed at. */
  offset: number;
}

/**
 * Playback truth for one call's outbound audio. Utterances are laid out on one byte stream; a mark is
 * placed at every word end (from TTS word timestamps) and at every utterance end. When the carrier
 * acknowledges a mark, the audio up to it has been played to the caller — so "heard" comes from the carrier,
 * not from what we sent.
 *
 * After a clear, marks sent earlier belong to an old generation: carriers that echo them on clear (Twilio)
 * would otherwise report audio that never played.
 *
 * A pause ({@link rewind}) clears the carrier too but keeps the utterances: their unplayed audio is sent
 * again from the last acknowledged position, with fresh marks for everything past it.
 */
export class PlaybackTracker {
  private readonly utterances = new Map<string, UtteranceState>();
  /** Utterances in stream order whose first byte has not been sent yet. */
  private readonly notStarted: UtteranceState[] = [];
  private pending: PendingMark[] = [];
  private readonly inFlight = new Map<string, MarkInfo>();
  private generation = 0;
  private markSeq = 0;
  /** Accept marks of the previous generation until the carrier confirms the clear (carriers that don't echo). */
  private acceptPreviousGeneration = false;
  private acked = 0;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly echoesMarksOnClear: boolean,
  ) {}

  get activeUtterances(): number {
    return this.utterances.size;
  }

  get marksInFlight(): number {
    return this.inFlight.size;
  }

  /** Stream offset up to which the carrier has confirmed playback (the last acknowledged mark). */
  get ackedOffset(): number {
    return this.acked;
  }

  /** Audio of `utteranceId` was appended to the stream at `offset`. */
  audioQueued(utteranceId: string, offset: number): void {
    const state = this.state(utteranceId);
    if (state.startOffset !== undefined) return;
    state.startOffset = offset;
    this.notStarted.push(state);
    for (const endSec of state.pendingWordEnds) this.addMark(state, endSec, false);
    state.pendingWordEnds = [];
  }

  /** A word of `utteranceId` ends `endSec` into the utterance's audio: mark it so we learn when it was heard. */
  wordTimed(utteranceId: string, endSec: number, sentOffset: number): void {
    const state = this.state(utteranceId);
    if (state.ended) return;
    if (state.startOffset === undefined) state.pendingWordEnds.push(endSec);
    else this.addMark(state, endSec, false, sentOffset);
  }

  /** The utterance's audio ends at `endOffset` (TTS stopped). Returns false if it never had audio. */
  utteranceEnded(utteranceId: string, endOffset: number, sentOffset: number): boolean {
    const state = this.utterances.get(utteranceId);
    if (!state) return false;
    state.ended = true;
    if (state.startOffset === undefined) {
      this.utterances.delete(utteranceId);
      return false;
    }
    const endSec = (endOffset - state.startOffset) / this.bytesPerSecond;
    // Word ends a little past the real audio end (timestamp rounding) move to the end.
    for (const mark of this.pending) {
      const info = this.inFlight.get(mark.name);
      if (info?.utteranceId === utteranceId && mark.offset > endOffset) {
        mark.offset = endOffset;
        info.offset = endOffset;
        info.positionSec = endSec;
      }
    }
    this.addMark(state, endSec, true, sentOffset);
    return true;
  }

  /** Offset of the next mark to send, to cut the outgoing frame exactly there. */
  nextMarkOffset(): number | undefined {
    return this.pending[0]?.offset;
  }

  /** Marks whose position the stream has now reached, in order. */
  takeMarksUpTo(offset: number): string[] {
    let n = 0;
    while (n < this.pending.length && (this.pending[n] as PendingMark).offset <= offset) n++;
    if (n === 0) return [];
    const due = this.pending.slice(0, n).map((mark) => mark.name);
    this.pending = this.pending.slice(n);
    return due;
  }

  /** Ids of utterances whose first byte lies below `sentOffset`, marked as started. */
  takeStartedUtterances(sentOffset: number): string[] {
    const started: string[] = [];
    while (this.notStarted.length > 0) {
      const head = this.notStarted[0] as UtteranceState;
      if ((head.startOffset as number) >= sentOffset) break;
      this.notStarted.shift();
      head.started = true;
      started.push(head.id);
    }
    return started;
  }

  /** The carrier acknowledged a mark. Returns the progress it proves, or undefined if it proves nothing. */
  acknowledge(name: string): PlaybackProgress | undefined {
    const info = this.inFlight.get(name);
    if (!info) return undefined;
    this.inFlight.delete(name);
    const current = info.generation === this.generation;
    const previousAccepted = info.generation === this.generation - 1 && this.acceptPreviousGeneration;
    if (!current && !previousAccepted) return undefined;
    this.acked = Math.max(this.acked, info.offset);
    const state = this.utterances.get(info.utteranceId);
    if (!state) return undefined;
    state.playedSec = Math.max(state.playedSec, info.positionSec);
    if (info.isEnd) this.utterances.delete(info.utteranceId);
    return { utteranceId: info.utteranceId, playedSec: state.playedSec, complete: info.isEnd };
  }

  /** The carrier confirmed a clear: marks from before it can no longer be played. */
  clearConfirmed(): void {
    this.acceptPreviousGeneration = false;
  }

  /**
   * Pause: the carrier's buffer is cleared and the stream will be sent again from `offset` (at or after the
   * last acknowledged mark). Marks already sent past `offset` can no longer prove anything (a new
   * generation); they are placed again, under new names, to go out when the stream passes them once more.
   */
  rewind(offset: number): void {
    this.generation++;
    this.acceptPreviousGeneration = !this.echoesMarksOnClear;
    const unsent = new Map(this.pending.map((mark) => [mark.name, mark.offset]));
    this.pending = [];
    for (const [name, info] of [...this.inFlight]) {
      if (info.generation !== this.generation - 1) continue; // older marks wait out their own clear
      this.inFlight.delete(name);
      const sent = !unsent.has(name);
      // A sent mark at or before the resume point has played (its acknowledgement is on the way or lost).
      if (sent && info.offset <= offset) continue;
      if (this.utterances.has(info.utteranceId)) this.placeMark(info.utteranceId, info.positionSec, info.isEnd, info.offset);
    }
    if (this.acked > offset) this.acked = offset;
  }

  /**
   * Barge-in: everything queued is dropped. Returns the final progress of every utterance that had audio,
   * with whether it had started playing; the tracker forgets them.
   */
  interrupt(): Array<PlaybackProgress & { started: boolean }> {
    this.generation++;
    this.acceptPreviousGeneration = !this.echoesMarksOnClear;
    this.pending = [];
    this.notStarted.length = 0;
    const finished = [...this.utterances.values()]
      .filter((state) => state.startOffset !== undefined)
      .map((state) => ({ utteranceId: state.id, playedSec: state.playedSec, complete: false, started: state.started }));
    this.utterances.clear();
    return finished;
  }

  private state(utteranceId: string): UtteranceState {
    let state = this.utterances.get(utteranceId);
    if (!state) {
      state = { id: utteranceId, startOffset: undefined, pendingWordEnds: [], ended: false, started: false, playedSec: 0 };
      this.utterances.set(utteranceId, state);
    }
    return state;
  }

  private addMark(state: UtteranceState, positionSec: number, isEnd: boolean, sentOffset = -1): void {
    const offset = Math.max((state.startOffset as number) + Math.round(positionSec * this.bytesPerSecond), sentOffset);
    this.placeMark(state.id, positionSec, isEnd, offset);
  }

  private placeMark(utteranceId: string, positionSec: number, isEnd: boolean, offset: number): void {
    const name = `sb${this.generation}-${++this.markSeq}`;
    this.inFlight.set(name, { utteranceId, positionSec, isEnd, generation: this.generation, offset });
    // Marks arrive mostly in stream order; insert in place otherwise.
    let i = this.pending.length;
    while (i > 0 && (this.pending[i - 1] as PendingMark).offset > offset) i--;
    this.pending.splice(i, 0, { offset, name });
  }
}
