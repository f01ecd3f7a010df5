import type { CallStatus } from '../call-status.ts';
import type { CallStatusUpdate } from '../call-status.ts';
import type { BotLeg } from './bot-legs.ts';
import type { DialEvent } from './dial-events.ts';
import type { DailyRoomPropertiesInput } from './room-properties.ts';
import { DAILY } from './settings.ts';

/** One Daily call as the runtime tracks it: its room, the bot's leg and (dial-out) the current dial-out session. */
export interface DailyCall {
  callId: string;
  /** `leg`: a room that carries the media of another carrier's call ({@link DailyRuntime.sipLeg}). */
  kind: 'dial-in' | 'dial-out' | 'leg';
  /** Daily's room name; our carrier call id for dial-outs. */
  room: string | undefined;
  /** Dial-in: Daily's held call (`callId`, `callDomain`). */
  dialin?: { callId: string; callDomain: string };
  from: string;
  to: string;
  botLeg: BotLeg | undefined;
  /** `dial-bot`: the URI the room dials, while we wait for it. */
  botUri: string | undefined;
  /** `dial-bot`: Daily's session id of the room's dial-out to the bot. */
  botSessionId: string | undefined;
  /** Dial-out: Daily's session id of the current attempt. */
  sessionId: string | undefined;
  attempts: number;
  answered: boolean;
  ended: boolean;
  status: CallStatus;
  startedAt: Date;
  answeredAt: Date | null;
  endedAt: Date | null;
  /** The start body's `dailyRoomProperties`, merged under ours when the room is created. */
  roomProperties?: DailyRoomPropertiesInput;
  /** Dial-in: Daily's session id of the bridged caller (from `dialin.connected`), the party a transfer moves. */
  callerSessionId?: string | undefined;
  /** `pinlessCallUpdate` was sent: the next `dialin.connected` is the caller's. */
  bridging?: boolean;
  /** A transfer moved the far party: Daily keeps their call, so we neither stop their session nor delete the room. */
  transferred?: boolean;
  /** Resolves the wait for a transfer's outcome event. */
  onTransferEvent?: ((event: DialEvent) => void) | undefined;
  /** Resolves the wait for the current dial-out attempt's outcome. */
  onDialEvent: ((event: DialEvent) => void) | undefined;
}

/** A status update for the server (`calls.applyStatus`) from a Daily call. */
export function dailyStatusUpdate(
  call: DailyCall,
  status: CallStatus,
  carrierStatus: string,
  hangupCause: string | null = null,
): CallStatusUpdate {
  const now = new Date();
  return {
    carrier: DAILY,
    carrierCallId: call.kind === 'dial-in' ? (call.dialin?.callId ?? call.callId) : (call.room ?? call.callId),
    requestId: call.room ?? null,
    status,
    carrierStatus,
    timestamp: now,
    startedAt: call.startedAt,
    answeredAt: call.answeredAt,
    endedAt: call.endedAt,
    durationSec: call.answeredAt && call.endedAt ? Math.round((call.endedAt.getTime() - call.answeredAt.getTime()) / 1000) : null,
    sequenceNumber: null,
    errorCode: null,
    hangupCause,
    answeredBy: null,
    from: call.from,
    to: call.to,
    direction: call.kind === 'dial-in' ? 'inbound' : 'outbound',
  };
}
