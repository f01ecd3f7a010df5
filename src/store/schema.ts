/**
 * Database layout and its versioned migrations. The version lives in `PRAGMA user_version`; each
 * migration runs in its own transaction at open, so a crash mid-migration leaves the previous version.
 * Add a migration by appending to {@link MIGRATIONS}; never edit one that has shipped.
 *
 * Times are INTEGER milliseconds since the epoch; JSON columns are TEXT holding JSON.
 */
import type { Database } from 'better-sqlite3';
import { CallStoreError } from './errors.ts';

interface Migration {
  version: number;
  description: string;
  sql: string;
}

const STATUS_CHECK = `status IN ('queued','ringing','in-progress','completed','busy','no-answer','failed','canceled')`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'calls, call_events, call_turns',
    sql: `
      CREATE TABLE calls (
        -- seq orders calls by insertion and is the stable tie-break for pagination (rowid may change on VACUUM).
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        id              TEXT NOT NULL UNIQUE,
        carrier         TEXT NOT NULL,
        direction       TEXT NOT NULL CHECK (direction IN ('outbound','inbound')),
        status          TEXT NOT NULL CHECK (${STATUS_CHECK}),
        to_number       TEXT NOT NULL,
        from_number     TEXT,
        metadata        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
        agent           TEXT,
        carrier_call_id TEXT,
        created_at      INTEGER NOT NULL,
        queued_at       INTEGER,
        ringing_at      INTEGER,
        answered_at     INTEGER,
        ended_at        INTEGER,
        duration_sec    REAL,
        end_reason      TEXT,
        error           TEXT CHECK (error IS NULL OR json_valid(error)),
        recording_path  TEXT,
        latency         TEXT CHECK (latency IS NULL OR json_valid(latency))
      );
      CREATE UNIQUE INDEX calls_by_carrier_call_id ON calls (carrier, carrier_call_id) WHERE carrier_call_id IS NOT NULL;
      CREATE INDEX calls_by_created ON calls (created_at DESC, seq DESC);
      CREATE INDEX calls_by_status_created ON calls (status, created_at DESC, seq DESC);
      -- Startup recovery scans the calls still open; a partial index keeps that cheap on a big table.
      CREATE INDEX calls_open ON calls (id) WHERE status IN ('queued','ringing','in-progress');

      CREATE TABLE call_events (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        at      INTEGER NOT NULL,
        type    TEXT NOT NULL,
        data    TEXT CHECK (data IS NULL OR json_valid(data))
      );
      CREATE INDEX call_events_by_call ON call_events (call_id, at, seq);

      CREATE TABLE call_turns (
        call_id     TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        turn_index  INTEGER NOT NULL CHECK (turn_index >= 0),
        role        TEXT NOT NULL CHECK (role IN ('assistant','user')),
        text        TEXT NOT NULL,
        heard       TEXT,
        interrupted INTEGER CHECK (interrupted IS NULL OR interrupted IN (0, 1)),
        latency     TEXT CHECK (latency IS NULL OR json_valid(latency)),
        started_at  INTEGER NOT NULL,
        ended_at    INTEGER,
        PRIMARY KEY (call_id, turn_index)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'calls.answered_by: who answered an outbound call (person or machine), and how that was decided',
    sql: `ALTER TABLE calls ADD COLUMN answered_by TEXT CHECK (answered_by IS NULL OR json_valid(answered_by));`,
  },
  {
    version: 4,
    description: 'turns: where each turn lies in the call recording; calls.transfer: a transfer to a person',
    sql: `
      ALTER TABLE call_turns ADD COLUMN recording_offset_ms INTEGER CHECK (recording_offset_ms IS NULL OR recording_offset_ms >= 0);
      ALTER TABLE call_turns ADD COLUMN recording_end_ms INTEGER CHECK (recording_end_ms IS NULL OR recording_end_ms >= 0);
      ALTER TABLE calls ADD COLUMN transfer TEXT CHECK (transfer IS NULL OR json_valid(transfer));
    `,
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/** Brings the database up to {@link SCHEMA_VERSION}; returns the versions applied (empty when current). */
export function migrate(db: Database): number[] {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new CallStoreError(
      'schema_too_new',
      `database schema version ${current} is newer than this Switchboard understands (${SCHEMA_VERSION}); upgrade Switchboard`,
    );
  }
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    // immediate: take the write lock first, so two processes opening a fresh file do not both migrate.
    db.transaction(() => {
      const now = db.pragma('user_version', { simple: true }) as number;
      if (now >= migration.version) return;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
    applied.push(migration.version);
  }
  return applied;
}
