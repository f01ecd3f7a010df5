/** One emulated call's place in conferences: `<Dial><Conference>` joins, a redirect or hang-up leaves. */
import type { CallMedia } from '../../../sandbox/carriers/shared/call-media.ts';
import type { ConferenceParticipant, ConferenceRooms, ConferenceSpec } from './conference.ts';
import { AudioLoop, defaultHoldMusic, fetchWaitAudio } from './hold-music.ts';

/** What the seat needs from its call. */
export interface ConferenceSeatHost {
  readonly callSid: string;
  readonly media: CallMedia;
  /** Records a warning on the call (e.g. a `waitUrl` that could not be played). */
  warn(message: string): void;
  /** Connects the call's simulated party to its media, if not yet (a call whose first TwiML is a conference). */
  connectParty(): void;
}

export class ConferenceSeat {
  private current: ConferenceParticipant | null = null;

  constructor(
    private readonly host: ConferenceSeatHost,
    private readonly rooms: ConferenceRooms,
  ) {}

  /**
   * Joins the room and resolves when the call is out of it (left, or the conference ended): the `<Dial>` is over
   * and the TwiML goes on. The call's party hears hold audio until the conference starts, then the others.
   */
  async join(spec: ConferenceSpec): Promise<void> {
    const { host } = this;
    const hold = spec.waitUrl === '' ? null : new AudioLoop(defaultHoldMusic());
    const participant = this.rooms.room(spec.name).join(host.callSid, spec, hold);
    this.current = participant;
    if (spec.waitUrl) {
      void fetchWaitAudio(spec.waitUrl, spec.waitMethod).then(({ audio, warning }) => {
        if (warning) host.warn(`${warning}; playing the generated hold music`);
        if (audio) participant.setHold(new AudioLoop(audio));
      });
    }
    host.media.start();
    host.media.bridge(participant);
    host.connectParty();
    await participant.done;
    host.media.unbridge(participant);
    if (this.current === participant) this.current = null;
  }

  /** The call leaves its conference, if in one (`redirected`, `hung-up`). */
  leave(why: string): void {
    this.current?.leave(why);
  }
}
