/**
 * Transfers out of an emulated room (`sipCallTransfer`, `sipRefer`). Daily's documented behaviour: the party leaves
 * the room (its `dialin.stopped`/`dialout.stopped` fires) and `calltransfer.*` webhooks report progress —
 * `triggered` when the request is accepted, `initiated` when the destination is being called (REFER: sent), then, for
 * call transfers only, `answered` and `completed` (the destination hung up). Payload fields as documented:
 * `{room, session_id, to_endpoint, from_endpoint, is_sip_refer}`.
 *
 * Emulator choices (Daily does not say): a call transfer to a phone number rings the persona registered for it and,
 * when answered, bridges the two in a private two-party mix; a busy, unanswered or unknown number sends no further
 * event (Daily documents no failure webhook) and the transferred party hears nothing more and is hung up. A call
 * transfer to a SIP URI dials it from the emulator's SIP endpoint. `sipRefer` sends a real SIP REFER to the
 * participant's peer (only SIP participants have one) and `initiated` once the peer accepted it.
 */
import { randomUUID } from 'node:crypto';
import type { Persona } from '../../../sandbox/callees/persona.ts';
import { SimulatedCallee } from '../../../sandbox/callees/simulated-callee.ts';
import { nowMs } from '../../../sandbox/carriers/shared/media-clock.ts';
import type { EmulatedRoom, EmulatedTransfer } from './daily-room.ts';
import type { DailyEmulator } from './emulator.ts';
import { RoomMixer, type Participant, type PersonParticipant } from './room.ts';

export interface TransferRequest {
  kind: 'sipCallTransfer' | 'sipRefer';
  toEndPoint: string;
  callerId: string | null;
}

/** Two parties a call transfer connected, outside any room. */
export class TransferBridge {
  readonly mixer: RoomMixer;
  private ended = false;

  constructor(
    private readonly emu: DailyEmulator,
    private readonly onEnd: (reason: string) => void,
  ) {
    this.mixer = new RoomMixer(emu.clock);
  }

  /** Either party left (or the emulator closes): the other is hung up too. */
  end(by: Participant | undefined, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    const at = nowMs();
    for (const participant of this.mixer.live) {
      this.mixer.remove(participant, participant === by ? reason : 'the other party hung up', at);
      if (participant.kind === 'sip' && !participant.call.isEnded) void participant.call.hangUp(reason).catch(() => {});
    }
    for (const participant of this.mixer.participants.values()) this.emu.bridgeOf.delete(participant);
    this.mixer.stop();
    this.onEnd(reason);
  }
}

/** Moves `participant` out of `room` as `request` asks; progress goes out as `calltransfer.*` webhooks. */
export function transferOut(emu: DailyEmulator, room: EmulatedRoom, participant: Participant, request: TransferRequest): EmulatedTransfer {
  const record: EmulatedTransfer = {
    kind: request.kind,
    sessionId: participant.origin.sessionId,
    toEndPoint: request.toEndPoint,
    callerId: request.callerId,
    outcome: null,
    party: null,
  };
  room.transfers.push(record);
  const from = participant.kind === 'person' ? participant.number : `sip:${participant.origin.sessionId}@${emu.sipHost}`;
  const payload = {
    domain_id: emu.domainId,
    room: room.name,
    session_id: participant.origin.sessionId,
    mtg_session_id: room.id,
    to_endpoint: request.toEndPoint,
    from_endpoint: from,
  };
  const refer = request.kind === 'sipRefer';
  emu.event('calltransfer.triggered', { ...payload, is_sip_refer: refer });

  if (refer && participant.kind === 'sip') {
    void participant.call.transfer(request.toEndPoint, { hangUpOnSuccess: false }).then((outcome) => {
      record.outcome = outcome.ok ? 'answered' : `failed (${outcome.status})`;
      if (!outcome.ok) return;
      emu.event('calltransfer.initiated', { ...payload, is_sip_refer: true });
      emu.leave(room, participant, `sipRefer to ${request.toEndPoint}`); // Daily leaves the media path
    });
    return record;
  }

  // Call transfer: the party leaves the room now; Daily keeps its call and rings the destination.
  emu.detach(room, participant, `sipCallTransfer to ${request.toEndPoint}`);
  const bridge = new TransferBridge(emu, () => emu.event('calltransfer.completed', payload));
  bridge.mixer.add(participant);
  emu.bridgeOf.set(participant, bridge);
  emu.event('calltransfer.initiated', { ...payload, is_sip_refer: false });
  const failed = (outcome: string) => {
    record.outcome = outcome;
    bridge.end(participant, `transfer ${outcome}`);
  };
  if (/^sips?:/i.test(request.toEndPoint)) {
    void emu.callSip(request.toEndPoint, room.name).then(
      ({ call, channel }) => {
        record.outcome = 'answered';
        const leg: Participant = {
          kind: 'sip',
          id: randomUUID(),
          origin: { type: 'dialout', sessionId: randomUUID() },
          joinedAt: nowMs(),
          leftAt: null,
          leaveReason: null,
          call,
          channel,
          queue: [],
          dtmfReceived: [],
        };
        bridge.mixer.add(leg);
        emu.bridgeOf.set(leg, bridge);
        call.once('ended', (end) => bridge.end(leg, `SIP leg ended (${end.reason})`));
        emu.event('calltransfer.answered', payload);
      },
      () => failed('failed'),
    );
    return record;
  }
  const persona = emu.personas.lookup(request.toEndPoint);
  if (!persona) {
    emu.later(0, () => failed('failed'));
    return record;
  }
  const outcome = persona.outcome ?? 'answer';
  if (outcome === 'no-answer') {
    emu.later(emu.noAnswerTimeoutMs, () => failed('no-answer'));
    return record;
  }
  emu.later((persona.ringMs ?? 1500) * emu.timeScale, () => {
    if (outcome !== 'answer') return failed(outcome);
    record.outcome = 'answered';
    const party = answerTransfer(emu, bridge, persona, request.toEndPoint);
    record.party = party.callee.record;
    emu.event('calltransfer.answered', payload);
  });
  return record;
}

function answerTransfer(emu: DailyEmulator, bridge: TransferBridge, persona: Persona, number: string): PersonParticipant {
  const callee = new SimulatedCallee({ persona, timeScale: emu.timeScale });
  callee.prepare();
  const party: PersonParticipant = {
    kind: 'person',
    id: randomUUID(),
    origin: { type: 'dialout', sessionId: randomUUID() },
    joinedAt: nowMs(),
    leftAt: null,
    leaveReason: null,
    callee,
    number,
    dtmfReceived: [],
  };
  bridge.mixer.add(party);
  emu.bridgeOf.set(party, bridge);
  callee.connect({ sendDtmf: () => {}, hangUp: () => bridge.end(party, 'hung up') }, nowMs());
  return party;
}
