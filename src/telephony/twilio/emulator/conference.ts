/**
 * Conference rooms for `<Dial><Conference>`, per emulator (Twilio scopes names per account; the emulator has one).
 *
 * As Twilio documents it: a participant joins a room by name (the room is created on the first join, and again
 * after it ended); the conference *starts* when a participant with `startConferenceOnEnter="true"` (the default)
 * is in it. Until then each participant hears its `waitUrl` (hold audio) and nobody hears anybody; from the start
 * every participant hears the mix of all the others. The conference ends when a participant with
 * `endConferenceOnExit="true"` leaves, or when the last one leaves; every participant's `<Dial>` then ends and its
 * call goes on with the next TwiML verb (none: Twilio hangs up).
 *
 * Guesses (not documented well enough to be sure): a participant left alone in a started conference hears silence
 * (no hold audio again); audio crosses the room with one 20 ms frame of delay at most; the mix is a plain sum of
 * the others' samples, clipped. Not emulated: `beep` (no tone is played), `muted`, `coach`, `record`, conference
 * status callbacks (`statusCallbackEvent`), the Conference and Participant REST resources.
 */
import { MULAW_SILENCE, mulawDecode, mulawEncode } from '../../../audio/g711.ts';
import { nowMs } from '../../../sandbox/carriers/shared/media-clock.ts';
import { randomBytes } from 'node:crypto';
import { AudioLoop } from './hold-music.ts';

const FRAME = 160;
const FRAME_MS = 20;
const SILENCE = new Uint8Array(FRAME).fill(MULAW_SILENCE);

/** `<Conference>` as parsed from TwiML. */
export interface ConferenceSpec {
  /** The room's friendly name (the noun's text). */
  name: string;
  /** @default true */
  startConferenceOnEnter: boolean;
  /** @default false */
  endConferenceOnExit: boolean;
  /** null: attribute absent (Twilio's default hold music); '': no hold audio. */
  waitUrl: string | null;
  waitMethod: 'GET' | 'POST';
}

export interface ParticipantRecord {
  callSid: string;
  joinedAt: number;
  leftAt: number | null;
  /** `left` (hung up, redirected), `conference-ended`. */
  leftBecause: string | null;
  startConferenceOnEnter: boolean;
  endConferenceOnExit: boolean;
  /** Milliseconds of hold audio (non-silent `waitUrl` frames) played to this participant. */
  holdMs: number;
  /** First and last moment hold audio played to them (epoch ms); null if none. */
  holdFrom: number | null;
  holdUntil: number | null;
}

export interface ConferenceRecord {
  /** `CF…` */
  sid: string;
  name: string;
  createdAt: number;
  /** When a `startConferenceOnEnter` participant was in the room (the bridge began); null while waiting. */
  startedAt: number | null;
  endedAt: number | null;
  /** `participant-with-end-conference-on-exit-left`, `last-participant-left`, `emulator-closed`. */
  endReason: string | null;
  participants: ParticipantRecord[];
}

/** One call in a room. The call's media loop drives it: `nextFrame` is what the call hears, `hear` what it says. */
export class ConferenceParticipant {
  readonly record: ParticipantRecord;
  /** Resolves when this participant is out of the room (left, or the conference ended). */
  readonly done: Promise<string>;
  private resolveDone!: (why: string) => void;
  private said: Uint8Array = new Uint8Array(FRAME);
  private saidTick = -Infinity;
  private hold: AudioLoop | null;

  constructor(
    private readonly room: ConferenceRoom,
    callSid: string,
    spec: ConferenceSpec,
    hold: AudioLoop | null,
  ) {
    this.hold = hold;
    this.record = {
      callSid,
      joinedAt: nowMs(),
      leftAt: null,
      leftBecause: null,
      startConferenceOnEnter: spec.startConferenceOnEnter,
      endConferenceOnExit: spec.endConferenceOnExit,
      holdMs: 0,
      holdFrom: null,
      holdUntil: null,
    };
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  get inRoom(): boolean {
    return this.record.leftAt === null;
  }

  /** Replaces the hold audio (a fetched `waitUrl` arrived). */
  setHold(hold: AudioLoop | null): void {
    this.hold = hold;
  }

  /** What the call hears this tick: hold audio while the room waits, the others' mix once it started. */
  nextFrame(tickTime: number): Uint8Array {
    if (!this.inRoom) return SILENCE;
    if (this.room.record.startedAt === null) {
      if (!this.hold) return SILENCE;
      const at = nowMs();
      this.record.holdMs += FRAME_MS;
      this.record.holdFrom ??= at;
      this.record.holdUntil = at;
      return this.hold.next();
    }
    return this.room.mixFor(this, tickTime);
  }

  /** What the call's party said this tick (the room's input from them). */
  hear(frame: Uint8Array, tickTime: number): void {
    if (!this.inRoom) return;
    this.said.set(frame.subarray(0, FRAME));
    this.saidTick = tickTime;
  }

  /** Their latest frame, if it is from this tick or the one before (a participant whose media stopped is silent). */
  frameAt(tickTime: number): Uint8Array | null {
    return tickTime - this.saidTick <= FRAME_MS + 1 ? this.said : null;
  }

  /** The call leaves (hung up, redirected to other TwiML). */
  leave(why = 'left'): void {
    if (!this.inRoom) return;
    this.markLeft(why);
    this.room.participantLeft(this);
  }

  /** @internal the room ended */
  markLeft(why: string): void {
    if (!this.inRoom) return;
    this.record.leftAt = nowMs();
    this.record.leftBecause = why;
    this.resolveDone(why);
  }
}

export class ConferenceRoom {
  readonly record: ConferenceRecord;
  private readonly participants = new Set<ConferenceParticipant>();
  private readonly pcm = new Int16Array(FRAME);
  private readonly sum = new Int32Array(FRAME);
  private readonly mixed = new Int16Array(FRAME);

  constructor(
    name: string,
    private readonly onEnded: (room: ConferenceRoom) => void,
  ) {
    this.record = {
      sid: `CF${randomBytes(16).toString('hex')}`,
      name,
      createdAt: nowMs(),
      startedAt: null,
      endedAt: null,
      endReason: null,
      participants: [],
    };
  }

  get ended(): boolean {
    return this.record.endedAt !== null;
  }

  join(callSid: string, spec: ConferenceSpec, hold: AudioLoop | null): ConferenceParticipant {
    const participant = new ConferenceParticipant(this, callSid, spec, hold);
    this.participants.add(participant);
    this.record.participants.push(participant.record);
    if (spec.startConferenceOnEnter && this.record.startedAt === null) this.record.startedAt = nowMs();
    return participant;
  }

  /** The sum of every other participant's latest frame, clipped, as μ-law. */
  mixFor(listener: ConferenceParticipant, tickTime: number): Uint8Array {
    this.sum.fill(0);
    let voices = 0;
    for (const other of this.participants) {
      if (other === listener) continue;
      const frame = other.frameAt(tickTime);
      if (!frame) continue;
      voices++;
      mulawDecode(frame, this.pcm);
      for (let i = 0; i < FRAME; i++) this.sum[i] = (this.sum[i] as number) + (this.pcm[i] as number);
    }
    if (voices === 0) return SILENCE;
    for (let i = 0; i < FRAME; i++) this.mixed[i] = Math.max(-32768, Math.min(32767, this.sum[i] as number));
    return mulawEncode(this.mixed);
  }

  /** @internal */
  participantLeft(participant: ConferenceParticipant): void {
    this.participants.delete(participant);
    if (participant.record.endConferenceOnExit) this.end('participant-with-end-conference-on-exit-left');
    else if (this.participants.size === 0) this.end('last-participant-left');
  }

  end(reason: string): void {
    if (this.ended) return;
    this.record.endedAt = nowMs();
    this.record.endReason = reason;
    for (const participant of this.participants) participant.markLeft('conference-ended');
    this.participants.clear();
    this.onEnded(this);
  }
}

/** The emulator's rooms by name; `history` keeps every conference, ended ones too. */
export class ConferenceRooms {
  private readonly live = new Map<string, ConferenceRoom>();
  readonly history: ConferenceRecord[] = [];

  /** The live room of this name, or a new one. */
  room(name: string): ConferenceRoom {
    let room = this.live.get(name);
    if (!room) {
      room = new ConferenceRoom(name, (ended) => {
        if (this.live.get(ended.record.name) === ended) this.live.delete(ended.record.name);
      });
      this.live.set(name, room);
      this.history.push(room.record);
    }
    return room;
  }

  /** The latest conference of this name (live or ended). */
  find(name: string): ConferenceRecord | undefined {
    return this.history.filter((c) => c.name === name).at(-1);
  }

  closeAll(): void {
    for (const room of [...this.live.values()]) room.end('emulator-closed');
  }
}
