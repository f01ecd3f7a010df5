/**
 * Call record types: what the store keeps per call and what `GET /calls` / `GET /calls/:id` return.
 * All timestamps in records are ISO-8601 strings (UTC, millisecond precision) or null.
 */

/** A value that survives `JSON.stringify` → `JSON.parse` unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export { CALL_STATUSES, FINAL_CALL_STATUSES, isFinalCallStatus, type CallStatus } from '../call-status.ts';
import type { CallStatus } from '../call-status.ts';

/**
 * A carrier's registered name (its adapter's `name`, e.g. from `src/telephony/registry.ts`). The store does not
 * keep its own list: any lower-case name of letters, digits and dashes is accepted (see {@link CARRIER_NAME}).
 */
export type Carrier = string;

/** What a carrier name looks like. */
export const CARRIER_NAME = /^[a-z][a-z0-9-]{0,31}$/;

export const CALL_DIRECTIONS = ['outbound', 'inbound'] as const;
export type CallDirection = (typeof CALL_DIRECTIONS)[number];

export const TURN_ROLES = ['assistant', 'user'] as const;
export type TurnRole = (typeof TURN_ROLES)[number];

/** Why a call failed. `carrierErrorCode` is the carrier's own code (Twilio error code, Plivo hangup cause…). */
export interface CallError {
  message: string;
  /** Our code, e.g. `carrier_rejected`, `server_stopped`. */
  code?: string;
  carrierErrorCode?: string | number;
}

/** One thing that happened on a call, in the order the store received it. */
export interface CallEvent {
  /** When it happened (ISO). */
  at: string;
  /** Dotted name, e.g. `status.changed`, `dtmf`, `tool.call`. */
  type: string;
  data: JsonValue | null;
}

/** One utterance of the conversation. */
export interface CallTurn {
  /** 0-based position in the conversation. */
  index: number;
  role: TurnRole;
  /** What was said (user: final transcript; assistant: what the LLM produced). */
  text: string;
  /** Assistant turns: the part the callee actually heard (playback marks). Absent when not set. */
  heard?: string;
  /** True when the turn was cut off by barge-in. Absent when not set. */
  interrupted?: boolean;
  /**
   * Per-turn timings, free-form (e.g. `{ userStoppedAt, sttFinalMs, llmFirstTokenMs, ttsFirstAudioMs,
   * firstAudioOutMs, voiceToVoiceMs }`). Absent when not set.
   */
  latency?: JsonObject;
  startedAt: string;
  endedAt: string | null;
  /**
   * Calls with a recording: milliseconds into it where the turn starts and ends (assistant turns: where the
   * caller started and stopped hearing it). Absent when not recorded.
   */
  recordingOffsetMs?: number;
  recordingEndMs?: number;
}

/** A call without its events and turns: one row of `GET /calls`. */
export interface CallSummary {
  /** Our id, `call_` + 24 hex characters unless the creator chose one. */
  id: string;
  carrier: Carrier;
  direction: CallDirection;
  status: CallStatus;
  to: string;
  from: string | null;
  metadata: JsonObject;
  /** Name of the agent definition that ran the call. */
  agent: string | null;
  /** The carrier's id for the call (Twilio CallSid, Plivo CallUUID…). */
  carrierCallId: string | null;
  createdAt: string;
  queuedAt: string | null;
  ringingAt: string | null;
  answeredAt: string | null;
  endedAt: string | null;
  /** Seconds from answer to end (0 when never answered), or the carrier-reported duration. */
  durationSec: number | null;
  endReason: string | null;
  error: CallError | null;
  recordingPath: string | null;
  /** Call-level latency summary, free-form (e.g. percentiles of voice-to-voice). */
  latency: JsonObject | null;
  /** Outbound calls with answering-machine detection: who answered, and when and how that was decided. */
  answeredBy?: AnsweredByRecord;
  /** Calls the agent handed to a person (`transfer_call`): where to, how, and what the carrier said. */
  transfer?: TransferRecord;
}

/** A transfer to a person, as the record keeps it. */
export interface TransferRecord {
  /** `cold`: the carrier moved the call; `warm`: the bot briefed the person, then bridged them. */
  kind: 'cold' | 'warm';
  /** The destination as configured: a phone number or a SIP URI. */
  destination: string;
  /** The description the model saw for it. */
  description?: string;
  /** `transferred`: the carrier accepted the move; `failed`: it refused (the bot told the caller). */
  status: 'transferred' | 'failed';
  /** What the carrier answered (its status code, call id, error message). */
  carrierResult: JsonObject;
  /** ISO time the transfer was asked for. */
  at: string;
  /** Warm: what the bot told the person (the generated handover summary). */
  summary?: string;
  /** Warm: our call id of the call to the person (its record has `metadata.warmTransferOf` = this call's id). */
  briefingCallId?: string;
  /** Warm: the carrier's bridge (e.g. a conference room name). */
  bridge?: string;
  /** Warm: the caller was taken back to the bot after the transfer failed. */
  resumed?: boolean;
  /** A warm transfer asked for but done cold, and why (the carrier cannot transfer warm). */
  warmFallback?: string;
}

/** Who answered a call and how the agent knew. */
export interface AnsweredByRecord {
  answeredBy: 'human' | 'machine' | 'unknown';
  /** How it was decided, e.g. `greeting-cue`, `beep`, `carrier`, `short-answer`. */
  how: string;
  /** Milliseconds after the call's media started. */
  decidedAfterMs: number;
  /** What gave it away (the words heard, the carrier's verdict). */
  evidence?: string;
}

/** Everything known about a call: what `GET /calls/:id` returns. */
export interface CallRecord extends CallSummary {
  turns: CallTurn[];
  events: CallEvent[];
}

/** A page of `listCalls`. */
export interface CallPage {
  calls: CallSummary[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** Why a status update was not applied. */
export type IgnoredTransitionReason = 'terminal' | 'regression' | 'duplicate';

/** Outcome of {@link CallStore.updateStatus}. */
export interface StatusUpdateResult {
  /** False when the transition broke the monotonic rules; it was recorded as a `status.ignored` event. */
  applied: boolean;
  previous: CallStatus;
  /** Status after the update (equals `previous` when not applied). */
  status: CallStatus;
  ignoredBecause?: IgnoredTransitionReason;
}

/** Event types the store itself writes. */
export const STORE_EVENTS = {
  statusChanged: 'status.changed',
  statusIgnored: 'status.ignored',
  carrierCallId: 'carrier.call-id',
  recovered: 'call.recovered',
} as const;
