import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type { CallChange, CallChangeListener } from './change-feed.ts';
import { CallStoreError, conflictOr, isSqliteError, notFound } from './errors.ts';
import type { CreateCallInput, JsonObjectInput, ListCallsOptions, StatusUpdateOptions, Timestamp, TurnInput, TurnPatch } from './inputs.ts';
import {
  carrierCallIdSchema,
  carrierSchema,
  createCallSchema,
  eventDataSchema,
  eventTypeSchema,
  listCallsSchema,
  metadataSchema,
  parseInput,
  reasonSchema,
  recordingPathSchema,
  statusSchema,
  statusUpdateSchema,
  timestampSchema,
  turnPatchSchema,
  turnSchema,
} from './inputs.ts';
import { selectCallPage, StatementCache } from './queries.ts';
import type { CallRow, EventRow, TurnRow } from './rows.ts';
import { callRowToSummary, eventRowToEvent, isoOrNull, turnRowToTurn } from './rows.ts';
import { migrate } from './schema.ts';
import { insertTurn, patchTurn } from './turn-writes.ts';
import { computeDurationSec, decideTransition, timestampColumnFor } from './status.ts';
import type {
  CallError,
  CallPage,
  CallRecord,
  CallStatus,
  CallSummary,
  CallTurn,
  Carrier,
  JsonObject,
  JsonValue,
  StatusUpdateResult,
  AnsweredByRecord,
  TransferRecord,
} from './types.ts';
import { isFinalCallStatus, STORE_EVENTS } from './types.ts';

export interface CallStoreOptions {
  /** Folder holding `switchboard.db` (created if missing), or `':memory:'` for a throwaway database. */
  dataDir: string;
  /** How long a write waits for another connection's lock before failing. @default 5000 */
  busyTimeoutMs?: number;
  /** Clock, milliseconds since the epoch. @default Date.now */
  now?: () => number;
  /** @default silentLogger() */
  logger?: Logger;
  /**
   * Carrier names records may use (the server passes its registered carriers). A record with another name is
   * refused as `invalid_input`. @default any carrier-shaped name (lower-case letters, digits, dashes)
   */
  carriers?: readonly string[];
}

/** The reason `recoverInterruptedCalls` records unless given another. */
export const SERVER_STOPPED_REASON = 'server stopped during the call';

/** File name of the database inside `dataDir`. */
export const DATABASE_FILE = 'switchboard.db';

const OPEN_STATUSES_SQL = `('queued','ringing','in-progress')`;

/** The parts of a call row that status updates read. */
type StatusRow = Pick<CallRow, 'status' | 'answered_at' | 'duration_sec'>;

/**
 * Durable call records in SQLite (WAL, `synchronous=NORMAL`: a committed write survives the process
 * being killed; only an OS crash or power loss can lose the last few). Every method is synchronous and
 * commits before it returns, so a record is on disk as soon as the call site moves on.
 *
 * Status only moves forward (see `status.ts`); transitions that would move it back are kept as
 * `status.ignored` events. Call {@link recoverInterruptedCalls} once at startup, before taking calls.
 */
export class CallStore {
  /** Database file path, or `:memory:`. */
  readonly path: string;
  private readonly db: Database.Database;
  private readonly statements: StatementCache;
  private readonly now: () => number;
  private readonly log: Logger;
  /** Told about each committed write (see `change-feed.ts`); changes wait in `uncommitted` until their commit. */
  private changeListener: CallChangeListener | undefined;
  private uncommitted: CallChange[] = [];

  private readonly carriers: readonly string[] | undefined;

  private constructor(db: Database.Database, path: string, options: CallStoreOptions) {
    this.db = db;
    this.path = path;
    this.statements = new StatementCache(db);
    this.now = options.now ?? Date.now;
    this.log = options.logger ?? silentLogger();
    this.carriers = options.carriers;
  }

  /** Opens (creating if needed) the database and brings its schema up to date. */
  static open(options: CallStoreOptions): CallStore {
    const inMemory = options.dataDir === ':memory:';
    const path = inMemory ? ':memory:' : join(options.dataDir, DATABASE_FILE);
    if (!inMemory) mkdirSync(options.dataDir, { recursive: true });
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    const db = new Database(path, { timeout: busyTimeoutMs });
    try {
      if (!inMemory) db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
      const applied = migrate(db);
      const store = new CallStore(db, path, options);
      if (applied.length > 0) store.log.info({ path, applied }, 'call store schema migrated');
      return store;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Creates a call and returns its record (with the initial `status.changed` event). */
  createCall(input: CreateCallInput): CallRecord {
    const call = parseInput(createCallSchema, input, 'createCall', input?.id);
    const carriers = this.carriers;
    if (carriers && !carriers.includes(call.carrier)) {
      const known = carriers.map((name) => JSON.stringify(name)).join(', ');
      throw new CallStoreError(
        'invalid_input',
        `createCall: carrier: must be one of ${known} (got ${JSON.stringify(call.carrier)})`,
        call.id,
      );
    }
    const id = call.id ?? `call_${randomBytes(12).toString('hex')}`;
    const at = call.at ?? this.now();
    this.write(() => {
      try {
        this.statements
          .get(
            `INSERT INTO calls (id, carrier, direction, status, to_number, from_number, metadata, agent, carrier_call_id,
               created_at, ${timestampColumnFor(call.status)})
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            id,
            call.carrier,
            call.direction,
            call.status,
            call.to,
            call.from ?? null,
            JSON.stringify(call.metadata ?? {}),
            call.agent ?? null,
            call.carrierCallId ?? null,
            at,
            at,
          );
      } catch (error) {
        throw conflictOr(error, id, `createCall: a call with this id or ${call.carrier} call id already exists`);
      }
      this.changed({ kind: 'call', callId: id });
      this.insertEvent(id, STORE_EVENTS.statusChanged, { from: null, to: call.status }, this.now());
    });
    return this.mustGetCall(id);
  }

  /** The full record (turns by index, events in order), or undefined for an unknown id. */
  getCall(id: string): CallRecord | undefined {
    const row = this.statements.get('SELECT * FROM calls WHERE id = ?').get(id) as CallRow | undefined;
    if (row === undefined) return undefined;
    const turns = this.statements.get('SELECT * FROM call_turns WHERE call_id = ? ORDER BY turn_index').all(id) as TurnRow[];
    const events = this.statements.get('SELECT at, type, data FROM call_events WHERE call_id = ? ORDER BY at, seq').all(id) as EventRow[];
    return { ...callRowToSummary(row), turns: turns.map(turnRowToTurn), events: events.map(eventRowToEvent) };
  }

  /**
   * Runs several writes as one transaction (each write's own transaction becomes a savepoint): one commit
   * instead of many. If `fn` throws, none of its writes are kept.
   */
  batch<T>(fn: () => T): T {
    return this.write(fn);
  }

  /**
   * Sets the one listener told about each committed write, after the commit (the change feed: use
   * `changeFeedOf(store)` rather than calling this directly). Undefined removes it.
   */
  setChangeListener(listener: CallChangeListener | undefined): void {
    this.changeListener = listener;
    this.uncommitted = [];
  }

  /** The call without its turns and events: one row, for hot paths (webhooks, media set-up). */
  getCallSummary(id: string): CallSummary | undefined {
    const row = this.statements.get('SELECT * FROM calls WHERE id = ?').get(id) as CallRow | undefined;
    return row === undefined ? undefined : callRowToSummary(row);
  }

  /** Looks a call up by the carrier's id for it (webhooks carry only that). */
  findByCarrierCallId(carrier: Carrier, carrierCallId: string): CallSummary | undefined {
    const validCarrier = parseInput(carrierSchema, carrier, 'findByCarrierCallId: carrier');
    const row = this.statements.get('SELECT * FROM calls WHERE carrier = ? AND carrier_call_id = ?').get(validCarrier, carrierCallId) as
      CallRow | undefined;
    return row === undefined ? undefined : callRowToSummary(row);
  }

  /** Calls newest first, without events and turns. Page on with `nextCursor` (or `offset`). */
  listCalls(options: ListCallsOptions = {}): CallPage {
    const query = parseInput(listCallsSchema, options, 'listCalls');
    const { rows, nextCursor } = selectCallPage(this.statements, query);
    return { calls: rows.map(callRowToSummary), nextCursor };
  }

  /**
   * Moves a call to `status` if that is forward progress; otherwise records a `status.ignored` event
   * and leaves the status alone. A terminal status fills `endedAt` and `durationSec` (the carrier's
   * `durationSec` when given, else answer → end). A carrier duration that arrives after the call already
   * ended (a late callback) still replaces our computed one: the carrier's figure is what it bills.
   */
  updateStatus(id: string, status: CallStatus, options: StatusUpdateOptions = {}): StatusUpdateResult {
    const to = parseInput(statusSchema, status, 'updateStatus: status', id);
    const update = parseInput(statusUpdateSchema, options, 'updateStatus', id);
    return this.write(() => this.applyStatus(id, to, update));
  }

  /** Records the carrier's id for the call (e.g. the CallSid the REST create returned). */
  setCarrierCallId(id: string, carrierCallId: string): void {
    const value = parseInput(carrierCallIdSchema, carrierCallId, 'setCarrierCallId: carrierCallId', id);
    this.write(() => {
      const row = this.mustGetRow<Pick<CallRow, 'carrier_call_id'>>('SELECT carrier_call_id FROM calls WHERE id = ?', id);
      if (row.carrier_call_id === value) return;
      try {
        this.statements.get('UPDATE calls SET carrier_call_id = ? WHERE id = ?').run(value, id);
      } catch (error) {
        throw conflictOr(error, id, `setCarrierCallId: ${value} already belongs to another call`);
      }
      this.changed({ kind: 'call', callId: id });
      this.insertEvent(id, STORE_EVENTS.carrierCallId, { carrierCallId: value, previous: row.carrier_call_id }, this.now());
    });
  }

  /** Merges `patch` into the metadata (top-level keys replace), or replaces it all; returns the result. */
  updateMetadata(id: string, patch: JsonObjectInput, options: { /** @default false */ replace?: boolean } = {}): JsonObject {
    const value = parseInput(metadataSchema, patch, 'updateMetadata: metadata', id);
    return this.write(() => {
      const row = this.mustGetRow<Pick<CallRow, 'metadata'>>('SELECT metadata FROM calls WHERE id = ?', id);
      const next: JsonObject = options.replace === true ? value : { ...(JSON.parse(row.metadata) as JsonObject), ...value };
      this.statements.get('UPDATE calls SET metadata = ? WHERE id = ?').run(JSON.stringify(next), id);
      this.changed({ kind: 'call', callId: id });
      return next;
    });
  }

  /** Appends an event (`type` like `dtmf`, `tool.call`, `transfer.started`) with optional JSON data. */
  addEvent(id: string, type: string, data?: unknown, at?: Timestamp): void {
    const validType = parseInput(eventTypeSchema, type, 'addEvent: type', id);
    const validData = data === undefined ? null : parseInput(eventDataSchema, data, 'addEvent: data', id);
    const when = at === undefined ? this.now() : parseInput(timestampSchema, at, 'addEvent: at', id);
    this.write(() => this.insertEvent(id, validType, validData, when));
  }

  /** Adds a conversation turn and returns its index. An explicit index already taken is a `conflict`. */
  addTurn(id: string, turn: TurnInput): number {
    const t = parseInput(turnSchema, turn, 'addTurn', id);
    return this.write(() => {
      const index = insertTurn(this.statements, id, t, this.now());
      if (this.changeListener) {
        const row = this.statements.get('SELECT * FROM call_turns WHERE call_id = ? AND turn_index = ?').get(id, index) as TurnRow;
        this.changed({ kind: 'turn', callId: id, turn: turnRowToTurn(row) });
      }
      return index;
    });
  }

  /** Changes fields of a turn (e.g. `heard`/`interrupted` after barge-in, timings as they arrive). */
  updateTurn(id: string, index: number, patch: TurnPatch): CallTurn {
    const p = parseInput(turnPatchSchema, patch, 'updateTurn', id);
    return this.write(() => {
      const turn = patchTurn(this.statements, id, index, p);
      this.changed({ kind: 'turn', callId: id, turn });
      return turn;
    });
  }

  /** Stores the call-level latency summary (replacing any previous one); null clears it. */
  setLatencySummary(id: string, latency: JsonObjectInput | null): void {
    const value = latency === null ? null : parseInput(metadataSchema, latency, 'setLatencySummary', id);
    this.updateColumn(id, 'latency', value === null ? null : JSON.stringify(value));
  }

  /** Records who answered (person or machine) and how that was decided. */
  setAnsweredBy(id: string, answeredBy: AnsweredByRecord): void {
    const value = parseInput(metadataSchema, answeredBy, 'setAnsweredBy', id);
    this.updateColumn(id, 'answered_by', JSON.stringify(value));
  }

  /** Records a transfer to a person (replacing any earlier attempt's record). */
  setTransfer(id: string, transfer: TransferRecord): void {
    const value = parseInput(metadataSchema, transfer, 'setTransfer', id);
    this.updateColumn(id, 'transfer', JSON.stringify(value));
  }

  /** Calls with a recording that ended before `endedBefore` (epoch ms), oldest first: for retention. */
  callsWithRecordingEndedBefore(endedBefore: number, limit = 500): Array<{ id: string; recordingPath: string }> {
    const rows = this.statements
      .get(
        `SELECT id, recording_path FROM calls WHERE recording_path IS NOT NULL AND ended_at IS NOT NULL AND ended_at < ?
         ORDER BY ended_at LIMIT ?`,
      )
      .all(endedBefore, limit) as Array<{ id: string; recording_path: string }>;
    return rows.map((row) => ({ id: row.id, recordingPath: row.recording_path }));
  }

  /** Records where the call's audio was saved; null clears it. */
  setRecordingPath(id: string, path: string | null): void {
    this.updateColumn(id, 'recording_path', parseInput(recordingPathSchema, path, 'setRecordingPath', id));
  }

  /**
   * Marks every call not in a terminal state `failed` with `reason` and a `call.recovered` event, and
   * returns their ids (the server may still hang up their carrier legs). Run once at startup: any call
   * still open then was cut off by the previous process dying. `endedAt` is the call's last recorded
   * activity, not the restart time, so the duration stays close to the truth.
   */
  recoverInterruptedCalls(reason: string = SERVER_STOPPED_REASON): string[] {
    const why = parseInput(reasonSchema, reason, 'recoverInterruptedCalls: reason');
    const recovered = this.write(() => {
      const ids = (
        this.statements.get(`SELECT id FROM calls WHERE status IN ${OPEN_STATUSES_SQL} ORDER BY seq`).all() as Array<{ id: string }>
      ).map((r) => r.id);
      for (const id of ids) {
        const lastActivity = this.lastActivityAt(id);
        const error: CallError = { message: why, code: 'server_stopped' };
        this.applyStatus(id, 'failed', { at: lastActivity, reason: why, error });
        this.insertEvent(id, STORE_EVENTS.recovered, { reason: why, lastActivityAt: isoOrNull(lastActivity) }, this.now());
      }
      return ids;
    });
    if (recovered.length > 0) this.log.warn({ count: recovered.length, callIds: recovered }, 'marked interrupted calls failed');
    return recovered;
  }

  /** Closes the database (checkpointing the WAL). Further calls throw. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Runs `fn` as one immediate transaction (a savepoint inside `batch`), then reports its changes once the
   * outermost transaction has committed. Changes of a write that throws are dropped with its rollback.
   */
  private write<T>(fn: () => T): T {
    const mark = this.uncommitted.length;
    let result: T;
    try {
      result = this.db.transaction(fn).immediate();
    } catch (error) {
      this.uncommitted.length = Math.min(mark, this.uncommitted.length);
      throw error;
    }
    if (!this.db.inTransaction && this.uncommitted.length > 0) this.reportChanges();
    return result;
  }

  private changed(change: CallChange): void {
    if (this.changeListener) this.uncommitted.push(change);
  }

  private reportChanges(): void {
    const changes = this.uncommitted;
    this.uncommitted = [];
    for (const change of changes) {
      try {
        this.changeListener?.(change);
      } catch (error) {
        this.log.error({ err: error, callId: change.callId }, 'call change listener failed');
      }
    }
  }

  private applyStatus(
    id: string,
    to: CallStatus,
    update: { at?: number; durationSec?: number; reason?: string; error?: CallError },
  ): StatusUpdateResult {
    const row = this.mustGetRow<StatusRow>('SELECT status, answered_at, duration_sec FROM calls WHERE id = ?', id);
    const from = row.status as CallStatus;
    const at = update.at ?? this.now();
    const details = {
      ...(update.at !== undefined ? { at: new Date(update.at).toISOString() } : {}),
      ...(update.durationSec !== undefined ? { durationSec: update.durationSec } : {}),
      ...(update.reason !== undefined ? { reason: update.reason } : {}),
      ...(update.error !== undefined ? { error: { ...update.error } } : {}),
    };
    const decision = decideTransition(from, to);
    if (!decision.apply) {
      const adoptDuration = isFinalCallStatus(from) && update.durationSec !== undefined && update.durationSec !== row.duration_sec;
      if (adoptDuration) {
        this.statements.get('UPDATE calls SET duration_sec = ? WHERE id = ?').run(update.durationSec, id);
        this.changed({ kind: 'call', callId: id });
      }
      this.insertEvent(
        id,
        STORE_EVENTS.statusIgnored,
        { from, to, because: decision.because, ...details, ...(adoptDuration ? { durationAdopted: true } : {}) },
        this.now(),
      );
      this.log.debug({ callId: id, from, to, because: decision.because }, 'status transition ignored');
      return { applied: false, previous: from, status: from, ignoredBecause: decision.because };
    }
    if (isFinalCallStatus(to)) {
      const durationSec = update.durationSec ?? computeDurationSec(row.answered_at, at);
      this.statements
        .get(
          'UPDATE calls SET status = ?, ended_at = ?, duration_sec = ?, end_reason = coalesce(?, end_reason), error = coalesce(?, error) WHERE id = ?',
        )
        .run(to, at, durationSec, update.reason ?? null, update.error === undefined ? null : JSON.stringify(update.error), id);
    } else {
      this.statements
        .get(`UPDATE calls SET status = ?, ${timestampColumnFor(to)} = ?, error = coalesce(?, error) WHERE id = ?`)
        .run(to, at, update.error === undefined ? null : JSON.stringify(update.error), id);
    }
    this.changed({ kind: 'call', callId: id });
    this.insertEvent(id, STORE_EVENTS.statusChanged, { from, to, ...details }, this.now());
    return { applied: true, previous: from, status: to };
  }

  /** Latest moment anything was recorded for the call: status times, events, turns. */
  private lastActivityAt(id: string): number {
    const row = this.statements
      .get(
        `SELECT max(
           c.created_at,
           coalesce(c.queued_at, 0), coalesce(c.ringing_at, 0), coalesce(c.answered_at, 0),
           coalesce((SELECT max(at) FROM call_events WHERE call_id = c.id), 0),
           coalesce((SELECT max(max(started_at, coalesce(ended_at, 0))) FROM call_turns WHERE call_id = c.id), 0)
         ) AS last
         FROM calls c WHERE c.id = ?`,
      )
      .get(id) as { last: number };
    return row.last;
  }

  private insertEvent(id: string, type: string, data: JsonValue | null, at: number): void {
    try {
      this.statements
        .get('INSERT INTO call_events (call_id, at, type, data) VALUES (?, ?, ?, ?)')
        .run(id, at, type, data === null ? null : JSON.stringify(data));
    } catch (error) {
      if (isSqliteError(error, 'SQLITE_CONSTRAINT_FOREIGNKEY')) throw notFound(id);
      throw error;
    }
    this.changed({ kind: 'event', callId: id, event: { at: new Date(at).toISOString(), type, data } });
  }

  private updateColumn(id: string, column: 'latency' | 'recording_path' | 'answered_by' | 'transfer', value: string | null): void {
    this.write(() => {
      const result = this.statements.get(`UPDATE calls SET ${column} = ? WHERE id = ?`).run(value, id);
      if (result.changes === 0) throw notFound(id);
      this.changed({ kind: 'call', callId: id });
    });
  }

  private mustGetRow<T>(sql: string, id: string): T {
    const row = this.statements.get(sql).get(id) as T | undefined;
    if (row === undefined) throw notFound(id);
    return row;
  }

  private mustGetCall(id: string): CallRecord {
    const record = this.getCall(id);
    if (record === undefined) throw notFound(id);
    return record;
  }
}
