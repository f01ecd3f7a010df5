/** Writing conversation turns. Callers run these inside a transaction. */
import type { z } from 'zod';
import { CallStoreError, conflictOr, notFound } from './errors.ts';
import type { turnPatchSchema, turnSchema } from './inputs.ts';
import type { StatementCache } from './queries.ts';
import type { TurnRow } from './rows.ts';
import { turnRowToTurn } from './rows.ts';
import type { CallTurn, JsonObject } from './types.ts';

type ValidTurn = z.output<typeof turnSchema>;
type ValidTurnPatch = z.output<typeof turnPatchSchema>;

/** Inserts a turn at its index (default: one past the highest) and returns the index. */
export function insertTurn(statements: StatementCache, callId: string, turn: ValidTurn, now: number): number {
  const index =
    turn.index ??
    (statements.get('SELECT coalesce(max(turn_index) + 1, 0) AS next FROM call_turns WHERE call_id = ?').get(callId) as { next: number })
      .next;
  try {
    statements
      .get(
        `INSERT INTO call_turns (call_id, turn_index, role, text, heard, interrupted, latency, started_at, ended_at,
           recording_offset_ms, recording_end_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        callId,
        index,
        turn.role,
        turn.text,
        turn.heard ?? null,
        turn.interrupted == null ? null : Number(turn.interrupted),
        turn.latency == null ? null : JSON.stringify(turn.latency),
        turn.startedAt ?? now,
        turn.endedAt ?? null,
        turn.recordingOffsetMs ?? null,
        turn.recordingEndMs ?? null,
      );
  } catch (error) {
    throw conflictOr(error, callId, `addTurn: turn ${index} already exists`);
  }
  return index;
}

/**
 * Applies a patch: `undefined` keeps a field, `null` clears it, and `latency` merges key by key
 * (timings arrive one at a time as the pipeline measures them).
 */
export function patchTurn(statements: StatementCache, callId: string, index: number, patch: ValidTurnPatch): CallTurn {
  const row = statements.get('SELECT * FROM call_turns WHERE call_id = ? AND turn_index = ?').get(callId, index) as TurnRow | undefined;
  if (row === undefined) {
    if (statements.get('SELECT 1 FROM calls WHERE id = ?').get(callId) === undefined) throw notFound(callId);
    throw new CallStoreError('turn_not_found', `updateTurn: no turn ${index}`, callId);
  }
  let latency = row.latency;
  if (patch.latency === null) latency = null;
  else if (patch.latency !== undefined) {
    const previous = row.latency === null ? {} : (JSON.parse(row.latency) as JsonObject);
    latency = JSON.stringify({ ...previous, ...patch.latency });
  }
  const next: TurnRow = {
    turn_index: index,
    role: row.role,
    text: patch.text ?? row.text,
    heard: patch.heard === undefined ? row.heard : patch.heard,
    interrupted: patch.interrupted === undefined ? row.interrupted : patch.interrupted === null ? null : Number(patch.interrupted),
    latency,
    started_at: patch.startedAt ?? row.started_at,
    ended_at: patch.endedAt === undefined ? row.ended_at : patch.endedAt,
    recording_offset_ms: row.recording_offset_ms,
    recording_end_ms: row.recording_end_ms,
  };
  statements
    .get(
      `UPDATE call_turns SET text = ?, heard = ?, interrupted = ?, latency = ?, started_at = ?, ended_at = ?
       WHERE call_id = ? AND turn_index = ?`,
    )
    .run(next.text, next.heard, next.interrupted, next.latency, next.started_at, next.ended_at, callId, index);
  return turnRowToTurn(next);
}
