/**
 * A call's real-time media loop on the emulator's shared clock. It runs from the moment the first media
 * stream connects until the call ends. Each tick:
 * 1. takes the callee's next 20 ms frame (or silence) — what the callee says;
 * 2. plays the next 20 ms of our server's queued audio from the two-way stream, if one is connected
 *    (otherwise silence); markers whose audio finished are acknowledged;
 * 3. hands both frames to every connected stream (which forwards what its tracks carry), records both, and
 *    lets the callee hear the played frame.
 */
import { MULAW_SILENCE } from '../../../audio/g711.ts';
import type { SimulatedCallee } from '../../callees/simulated-callee.ts';
import type { AudioTape } from './audio-tape.ts';
import type { MediaClock } from './media-clock.ts';
import { FRAME_BYTES, type PendingMark, type PlayoutBuffer } from './playout-buffer.ts';

/** A connected stream's view of each tick. */
export interface MediaTap {
  /** `said`: the callee's frame (inbound track). `played`: what the line played to the callee (outbound track). */
  onFrames(said: Uint8Array, played: Uint8Array, tickTime: number): void;
}

/** Someone the callee is bridged with (a dialled person, a conference): what they send the callee, and what they get. */
export interface BridgedParty {
  /** What the callee hears this tick (null: silence). */
  nextFrame(tickTime: number): Uint8Array | null;
  /** What the callee said this tick. */
  hear(frame: Uint8Array, tickTime: number): void;
}

/** The two-way stream whose audio plays to the callee. */
export interface MediaPlayer {
  playout: PlayoutBuffer;
  marksReached(marks: PendingMark[], tickTime: number): void;
}

export interface CallMediaOptions {
  clock: MediaClock;
  callee: SimulatedCallee | null;
  saidTape: AudioTape | null;
  heardTape: AudioTape | null;
}

const SILENCE_FRAME = new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE);

export class CallMedia {
  private readonly taps = new Set<MediaTap>();
  private player: MediaPlayer | null = null;
  /** A party the call was bridged to (`<Dial>`): they and the callee hear each other. */
  private bridged: BridgedParty | null = null;
  private unsubscribe: (() => void) | null = null;
  /** Ticks run so far. */
  ticks = 0;

  constructor(private readonly options: CallMediaOptions) {}

  get running(): boolean {
    return this.unsubscribe !== null;
  }

  start(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.options.clock.add(this.onTick);
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.taps.clear();
    this.player = null;
  }

  attach(tap: MediaTap): void {
    this.taps.add(tap);
  }

  detach(tap: MediaTap): void {
    this.taps.delete(tap);
  }

  /** Sets (or with null, removes) the stream whose audio plays to the callee. */
  setPlayer(player: MediaPlayer | null): void {
    this.player = player;
  }

  /** Connects the callee with another party (or, with null, disconnects them); both hear each other from the next tick. */
  bridge(party: BridgedParty | null): void {
    this.bridged = party;
  }

  /** Ends the bridge with `party` (and only with it). */
  unbridge(party: BridgedParty): void {
    if (this.bridged === party) this.bridged = null;
  }

  clearPlayer(player: MediaPlayer): void {
    if (this.player === player) this.player = null;
  }

  private readonly onTick = (tickTime: number): void => {
    const { callee, saidTape, heardTape } = this.options;
    this.ticks++;
    const said = callee?.nextFrame(tickTime) ?? SILENCE_FRAME;
    saidTape?.append(said);
    let played: Uint8Array = SILENCE_FRAME;
    const player = this.player;
    const bridged = this.bridged;
    if (bridged) {
      played = bridged.nextFrame(tickTime) ?? SILENCE_FRAME;
      bridged.hear(said, tickTime);
    } else if (player) {
      const pulled = player.playout.pull(tickTime);
      if (pulled.reachedMarks.length > 0) player.marksReached(pulled.reachedMarks, tickTime);
      played = pulled.frame;
    }
    heardTape?.append(played);
    for (const tap of this.taps) tap.onFrames(said, played, tickTime);
    callee?.hear(played, tickTime);
  };
}
