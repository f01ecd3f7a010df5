/**
 * An emulated Daily room's audio: every participant hears the mix of all the others, one 20 ms frame per tick of
 * the emulator's clock. Participants are SIP legs (the bot's leg, a SIP dial-out, a SIP client on the room's
 * endpoint) and simulated people (a held dial-in caller, a dialled phone number) driven by sandbox personas.
 * With a single other speaker a participant gets that speaker's μ-law bytes untouched; with several, the decoded
 * sum (clipped).
 */
import { MULAW_SILENCE, mulawDecode, mulawEncode } from '../../../audio/g711.ts';
import type { SimulatedCallee } from '../../../sandbox/callees/simulated-callee.ts';
import type { MediaClock } from '../../../sandbox/carriers/shared/media-clock.ts';
import type { MediaChannel } from '../../../transports/media-channel.ts';
import type { SipCall } from '../../sip/sip-call.ts';

const FRAME = 160;
const MAX_QUEUED_FRAMES = 3;
const SILENCE = new Uint8Array(FRAME).fill(MULAW_SILENCE);

export type ParticipantKind = 'sip' | 'person';

/** How a participant came in: a dial-in, a dial-out session, or a SIP client on the room's endpoint. */
export interface ParticipantOrigin {
  type: 'dialin' | 'dialout' | 'sip-endpoint';
  sessionId: string;
}

interface BaseParticipant {
  id: string;
  origin: ParticipantOrigin;
  joinedAt: number;
  leftAt: number | null;
  leaveReason: string | null;
}

export interface SipParticipant extends BaseParticipant {
  kind: 'sip';
  call: SipCall;
  channel: MediaChannel;
  /** Inbound μ-law frames not yet mixed. */
  queue: Uint8Array[];
  dtmfReceived: string[];
}

export interface PersonParticipant extends BaseParticipant {
  kind: 'person';
  callee: SimulatedCallee;
  /** The number (or caller id) of the simulated person. */
  number: string;
  dtmfReceived: string[];
}

export type Participant = SipParticipant | PersonParticipant;

export class RoomMixer {
  readonly participants = new Map<string, Participant>();
  private unsubscribe: (() => void) | undefined;
  private readonly mixBuffer = new Int32Array(FRAME);
  private readonly pcm = new Int16Array(FRAME);

  constructor(private readonly clock: MediaClock) {}

  get live(): Participant[] {
    return [...this.participants.values()].filter((p) => p.leftAt === null);
  }

  add(participant: Participant): void {
    this.participants.set(participant.id, participant);
    if (participant.kind === 'sip') {
      participant.channel.setHandler({
        audio: (audio) => {
          if (!audio.mulaw) return;
          participant.queue.push(Uint8Array.from(audio.mulaw));
          if (participant.queue.length > MAX_QUEUED_FRAMES) participant.queue.shift();
        },
        mark: () => {},
        dtmf: (digit) => participant.dtmfReceived.push(digit),
        closed: () => {},
      });
    }
    this.unsubscribe ??= this.clock.add((at) => this.tick(at));
  }

  remove(participant: Participant, reason: string, at: number): void {
    if (participant.leftAt !== null) return;
    participant.leftAt = at;
    participant.leaveReason = reason;
    if (participant.kind === 'person') participant.callee.end(at);
    if (this.live.length === 0) this.stop();
  }

  /** Takes a participant out of this room without ending it (a transfer moves it elsewhere). */
  detach(participant: Participant): void {
    this.participants.delete(participant.id);
    if (this.live.length === 0) this.stop();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private tick(at: number): void {
    const live = this.live;
    const frames: Array<Uint8Array | null> = live.map((p) => (p.kind === 'sip' ? (p.queue.shift() ?? null) : p.callee.nextFrame(at)));
    live.forEach((listener, index) => {
      const heard = this.mixFor(frames, index);
      if (listener.kind === 'person') listener.callee.hear(heard ?? SILENCE, at);
      else if (heard) listener.channel.sendAudio(heard);
    });
  }

  /** What participant `self` hears this tick: null when nobody else made a sound. */
  private mixFor(frames: Array<Uint8Array | null>, self: number): Uint8Array | null {
    const sources = frames.filter((frame, index): frame is Uint8Array => index !== self && frame !== null);
    if (sources.length === 0) return null;
    if (sources.length === 1) return sources[0] as Uint8Array;
    this.mixBuffer.fill(0);
    for (const source of sources) {
      mulawDecode(source, this.pcm);
      for (let i = 0; i < FRAME; i++) this.mixBuffer[i] = (this.mixBuffer[i] as number) + (this.pcm[i] as number);
    }
    for (let i = 0; i < FRAME; i++) this.pcm[i] = Math.max(-32768, Math.min(32767, this.mixBuffer[i] as number));
    return mulawEncode(this.pcm);
  }
}
