import type { DailyRoom, DailyRoomProperties } from '../rest-client.ts';
import type { CalleeRecord } from '../../../sandbox/callees/simulated-callee.ts';
import type { RoomMixer } from './room.ts';

/** A room the emulator holds: Daily's room object plus its mixer and dial-out sessions. */
export interface EmulatedRoom {
  id: string;
  name: string;
  privacy: 'public' | 'private';
  createdAt: Date;
  properties: DailyRoomProperties;
  /** SIP endpoint users (`<room>.<n>`), when the room has `sip`. */
  endpointUsers: string[];
  mixer: RoomMixer;
  deleted: boolean;
  /** Dial-out sessions (by session id) still running. */
  sessions: Map<string, { target: string; stop: (reason: string) => void }>;
  /** Every dial-out tried from this room, in order (for tests). */
  dialOuts: Array<{ sessionId: string; target: string; outcome: string | null }>;
  /** Keypad tones sent with `dialOut/sendDTMF`. */
  dtmfSent: Array<{ sessionId: string; tones: string }>;
  /** `sipCallTransfer` / `sipRefer` requests, in order (for tests). */
  transfers: EmulatedTransfer[];
}

/** One transfer out of a room: who was moved where, and how the destination answered. */
export interface EmulatedTransfer {
  kind: 'sipCallTransfer' | 'sipRefer';
  sessionId: string;
  toEndPoint: string;
  callerId: string | null;
  /** `answered`, `busy`, `no-answer`, `failed`; null while ringing. */
  outcome: string | null;
  /** The simulated person at a transfer number (their record: what they heard and said). */
  party: CalleeRecord | null;
}

/** The room as Daily's REST API shows it. */
export function roomJson(room: EmulatedRoom, domain: string, sipHost: string): DailyRoom {
  const endpoints = room.endpointUsers.map((user) => `sip:${user}@${sipHost}`);
  const { sip, ...rest } = room.properties;
  return {
    id: room.id,
    name: room.name,
    api_created: true,
    privacy: room.privacy,
    url: `https://${domain}.daily.co/${room.name}`,
    created_at: room.createdAt.toISOString(),
    config: {
      ...rest,
      ...(sip ? { sip } : {}),
      ...(endpoints.length > 0
        ? { sip_uri: { endpoint: endpoints[0] as string, ...(endpoints.length > 1 ? { extra_endpoints: endpoints.slice(1) } : {}) } }
        : {}),
    },
  };
}
