import { mulawDecode } from '../audio/g711.ts';
import type { AudioPayload } from '../pipeline/audio-payload.ts';

/** Frames quieter than this are not sound (line noise, digital silence). */
const FLOOR_DBFS = -55;
const FLOOR_POWER = (32768 * 10 ** (FLOOR_DBFS / 20)) ** 2;
/** How far back levels are kept (ms). */
const HISTORY_MS = 3000;

/**
 * How loud the caller's side is: the level of their own speech (learned from their turns) against the level
 * of a sound over the bot. A phone's own talker is close to the microphone; a TV or a voice across the room
 * reaches it well below that — a cheap audio feature for telling the caller from the room.
 */
export class SpeechLevelMeter {
  private readonly times: number[] = [];
  private readonly powers: number[] = [];
  private turnSum = 0;
  private turnFrames = 0;
  /** The caller's speech level (dBFS), once a turn has been heard. */
  callerDbfs: number | undefined;

  /** One frame of caller audio arriving at `atMs`; `inTurn`: it belongs to the caller's own turn. */
  push(audio: AudioPayload, atMs: number, inTurn: boolean): void {
    const power = framePower(audio);
    this.times.push(atMs);
    this.powers.push(power);
    while (this.times.length > 0 && atMs - (this.times[0] as number) > HISTORY_MS) {
      this.times.shift();
      this.powers.shift();
    }
    if (inTurn && power > FLOOR_POWER) {
      this.turnSum += power;
      this.turnFrames++;
    }
  }

  /** The caller's turn ended: their speech level is updated from it. */
  turnEnded(): void {
    if (this.turnFrames >= 10) {
      const level = toDbfs(this.turnSum / this.turnFrames);
      this.callerDbfs = this.callerDbfs === undefined ? level : 0.5 * this.callerDbfs + 0.5 * level;
    }
    this.turnSum = 0;
    this.turnFrames = 0;
  }

  /** When the last frame at or above `dbfs` arrived (undefined if none in the kept history). */
  lastLoudAt(dbfs: number): number | undefined {
    const power = (32768 * 10 ** (dbfs / 20)) ** 2;
    for (let i = this.times.length - 1; i >= 0; i--) if ((this.powers[i] as number) >= power) return this.times[i];
    return undefined;
  }

  /** Level (dBFS) of the sound since `fromMs` (frames above the floor), or undefined if there was none. */
  levelSince(fromMs: number): number | undefined {
    let sum = 0;
    let n = 0;
    for (let i = this.times.length - 1; i >= 0 && (this.times[i] as number) >= fromMs; i--) {
      const p = this.powers[i] as number;
      if (p > FLOOR_POWER) {
        sum += p;
        n++;
      }
    }
    return n > 0 ? toDbfs(sum / n) : undefined;
  }
}

function toDbfs(power: number): number {
  return 10 * Math.log10(power / (32768 * 32768));
}

let scratch = new Int16Array(160);

function framePower(audio: AudioPayload): number {
  let pcm = audio.pcm;
  if (!pcm && audio.mulaw) {
    if (scratch.length < audio.mulaw.length) scratch = new Int16Array(audio.mulaw.length);
    pcm = mulawDecode(audio.mulaw, scratch.subarray(0, audio.mulaw.length));
  }
  if (!pcm || pcm.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += (pcm[i] as number) * (pcm[i] as number);
  return sum / pcm.length;
}
