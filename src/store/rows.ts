/** Database rows as better-sqlite3 returns them, and their conversion to the camelCase records. */
import type {
  CallDirection,
  CallError,
  CallEvent,
  CallStatus,
  CallSummary,
  CallTurn,
  Carrier,
  JsonObject,
  JsonValue,
  TurnRole,
  AnsweredByRecord,
  TransferRecord,
} from './types.ts';

export interface CallRow {
  seq: number;
  id: string;
  carrier: string;
  direction: string;
  status: string;
  to_number: string;
  from_number: string | null;
  metadata: string;
  agent: string | null;
  carrier_call_id: string | null;
  created_at: number;
  queued_at: number | null;
  ringing_at: number | null;
  answered_at: number | null;
  ended_at: number | null;
  duration_sec: number | null;
  end_reason: string | null;
  error: string | null;
  recording_path: string | null;
  latency: string | null;
  answered_by: string | null;
  transfer: string | null;
}

export interface EventRow {
  at: number;
  type: string;
  data: string | null;
}

export interface TurnRow {
  turn_index: number;
  role: string;
  text: string;
  heard: string | null;
  interrupted: number | null;
  latency: string | null;
  started_at: number;
  ended_at: number | null;
  recording_offset_ms: number | null;
  recording_end_ms: number | null;
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

// The columns are CHECK-constrained to valid JSON and only this module writes them, so parsing
// trusts the shape instead of re-validating every read.
function parseJson<T extends JsonValue>(text: string): T {
  return JSON.parse(text) as T;
}

export function callRowToSummary(row: CallRow): CallSummary {
  return {
    id: row.id,
    // Rows written by a newer version may carry a carrier this code does not list; pass it through.
    carrier: row.carrier as Carrier,
    direction: row.direction as CallDirection,
    status: row.status as CallStatus,
    to: row.to_number,
    from: row.from_number,
    metadata: parseJson<JsonObject>(row.metadata),
    agent: row.agent,
    carrierCallId: row.carrier_call_id,
    createdAt: new Date(row.created_at).toISOString(),
    queuedAt: isoOrNull(row.queued_at),
    ringingAt: isoOrNull(row.ringing_at),
    answeredAt: isoOrNull(row.answered_at),
    endedAt: isoOrNull(row.ended_at),
    durationSec: row.duration_sec,
    endReason: row.end_reason,
    error: row.error === null ? null : (JSON.parse(row.error) as CallError),
    recordingPath: row.recording_path,
    latency: row.latency === null ? null : parseJson<JsonObject>(row.latency),
    ...(row.answered_by !== null ? { answeredBy: parseJson<JsonObject>(row.answered_by) as unknown as AnsweredByRecord } : {}),
    ...(row.transfer !== null ? { transfer: parseJson<JsonObject>(row.transfer) as unknown as TransferRecord } : {}),
  };
}

export function eventRowToEvent(row: EventRow): CallEvent {
  return {
    at: new Date(row.at).toISOString(),
    type: row.type,
    data: row.data === null ? null : parseJson<JsonValue>(row.data),
  };
}

export function turnRowToTurn(row: TurnRow): CallTurn {
  // Optional fields appear only where set, so a user turn does not carry `heard: null`.
  return {
    index: row.turn_index,
    role: row.role as TurnRole,
    text: row.text,
    ...(row.heard !== null ? { heard: row.heard } : {}),
    ...(row.interrupted !== null ? { interrupted: row.interrupted === 1 } : {}),
    ...(row.latency !== null ? { latency: parseJson<JsonObject>(row.latency) } : {}),
    startedAt: new Date(row.started_at).toISOString(),
    endedAt: isoOrNull(row.ended_at),
    ...(row.recording_offset_ms !== null ? { recordingOffsetMs: row.recording_offset_ms } : {}),
    ...(row.recording_end_ms !== null ? { recordingEndMs: row.recording_end_ms } : {}),
  };
}
