/**
 * The audio items of one Realtime transcription connection and where each lies in the session's audio stream.
 *
 * OpenAI reports positions as milliseconds of audio appended on that connection (`audio_start_ms`,
 * `audio_end_ms`) and transcribes per committed item, so the session needs to know, for every item, which
 * bytes it covers (to place results on the call timeline and to know up to where audio is transcribed for
 * good), who committed it (server VAD = end of speech; our commit = answer to a finalize), and which items are
 * still outstanding. Positions here are absolute byte positions of the session's stream.
 */
export interface TranscriptionItem {
  readonly id: string;
  /** From `speech_started` (prefix padding included), else where the server buffer began at the commit. */
  startPos: number | undefined;
  /** From `speech_stopped`, else the position of our commit. */
  endPos: number | undefined;
  committed: boolean;
  /** Committed by our `input_audio_buffer.commit` (finalize/close), not by server VAD. */
  byClient: boolean;
  /** Deltas so far, then the completed transcript. */
  text: string;
  logprobs: number[];
  done: boolean;
}

interface PendingCommit {
  eventId: string;
  /** Where the server buffer began when the commit went out, and where the commit cut it. */
  startPos: number;
  pos: number;
}

export class ConnectionItems {
  /** Where the server's input buffer starts: just after the last commit. */
  bufferStartPos: number;
  private readonly items = new Map<string, TranscriptionItem>();
  /** Committed items in commit order, done or not, until the done prefix is consumed. */
  private readonly order: TranscriptionItem[] = [];
  private readonly pending: PendingCommit[] = [];

  /**
   * @param basePos stream position of this connection's audio time 0
   * @param posOfMs stream position of a connection-relative millisecond offset
   */
  constructor(
    readonly basePos: number,
    readonly posOfMs: (ms: number) => number,
  ) {
    this.bufferStartPos = basePos;
  }

  get(id: string): TranscriptionItem | undefined {
    return this.items.get(id);
  }

  speechStarted(id: string, audioStartMs: number): number {
    const item = this.item(id);
    item.startPos = this.posOfMs(audioStartMs);
    return item.startPos;
  }

  speechStopped(id: string, audioEndMs: number): number {
    const item = this.item(id);
    item.endPos = this.posOfMs(audioEndMs);
    return item.endPos;
  }

  /** Server VAD has an utterance open that nobody has committed yet. */
  get hasOpenSpeech(): boolean {
    for (const item of this.items.values()) {
      if (!item.committed && item.startPos !== undefined && item.endPos === undefined) return true;
    }
    return false;
  }

  /** Commits sent and not answered, plus committed items not transcribed yet. */
  get outstanding(): number {
    return this.pending.length + this.order.filter((item) => !item.done).length;
  }

  /** Our commit went out at `pos`; the server's buffer starts afresh there. */
  commitSent(eventId: string, pos: number): void {
    this.pending.push({ eventId, startPos: this.bufferStartPos, pos });
    this.bufferStartPos = Math.max(this.bufferStartPos, pos);
  }

  /** A commit of ours was refused (buffer empty); true when it was one. */
  commitRefused(eventId: string | null | undefined): boolean {
    const i = this.pending.findIndex((p) => p.eventId === eventId);
    if (i < 0) return false;
    this.pending.splice(i, 1);
    return true;
  }

  /**
   * `input_audio_buffer.committed`. An item that server VAD saw stop is the server's commit; one without a
   * stop answers our oldest pending commit.
   */
  committed(id: string): TranscriptionItem {
    const item = this.item(id);
    if (item.committed) return item;
    item.committed = true;
    if (item.endPos === undefined) {
      const mine = this.pending.shift();
      item.byClient = mine !== undefined;
      item.endPos = mine?.pos ?? this.bufferStartPos;
      // An utterance VAD had open keeps its start; otherwise the item is the whole buffer.
      if (mine) item.startPos ??= Math.min(mine.startPos, mine.pos);
    }
    item.startPos ??= Math.min(this.bufferStartPos, item.endPos);
    this.bufferStartPos = Math.max(this.bufferStartPos, item.endPos);
    this.order.push(item);
    return item;
  }

  delta(id: string, text: string, logprobs: ReadonlyArray<{ logprob: number }> | null | undefined): TranscriptionItem {
    const item = this.item(id);
    item.text += text;
    if (logprobs) item.logprobs.push(...logprobs.map((p) => p.logprob));
    return item;
  }

  completed(id: string, transcript: string, logprobs: ReadonlyArray<{ logprob: number }> | null | undefined): TranscriptionItem {
    const item = this.item(id);
    item.text = transcript;
    if (logprobs) item.logprobs = logprobs.map((p) => p.logprob);
    item.done = true;
    return item;
  }

  failed(id: string): TranscriptionItem {
    const item = this.item(id);
    item.done = true;
    return item;
  }

  /**
   * Consumes the done items at the head of the commit order and returns the end of the last one: every byte
   * before it has been transcribed for good. Undefined when the head item is still outstanding.
   */
  takeDonePrefix(): number | undefined {
    let end: number | undefined;
    while (this.order.length > 0 && (this.order[0] as TranscriptionItem).done) {
      const item = this.order.shift() as TranscriptionItem;
      end = Math.max(end ?? -Infinity, item.endPos ?? -Infinity);
      this.items.delete(item.id);
    }
    return end === -Infinity ? undefined : end;
  }

  private item(id: string): TranscriptionItem {
    let item = this.items.get(id);
    if (!item) {
      item = { id, startPos: undefined, endPos: undefined, committed: false, byClient: false, text: '', logprobs: [], done: false };
      this.items.set(id, item);
    }
    return item;
  }
}
