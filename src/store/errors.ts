import Database from 'better-sqlite3';
import { SwitchboardError } from '../errors.ts';

/**
 * What went wrong in the store, as a code the HTTP layer can map:
 * `invalid_input` → 400, `call_not_found` / `turn_not_found` → 404, `conflict` → 409, the rest → 500.
 */
export type CallStoreErrorCode =
  | 'invalid_input'
  | 'call_not_found'
  | 'turn_not_found'
  | 'conflict'
  /** The database was written by a newer Switchboard (its schema version is unknown to this code). */
  | 'schema_too_new';

export class CallStoreError extends SwitchboardError {
  declare readonly code: CallStoreErrorCode;
  constructor(
    code: CallStoreErrorCode,
    message: string,
    /** The call concerned, when there is one. */
    callId?: string,
    options?: { cause?: unknown },
  ) {
    super(callId === undefined ? message : `${message} (call ${callId})`, {
      code,
      callId,
      httpStatus: httpStatusOf(code),
      cause: options?.cause,
    });
  }
}

/** How the HTTP layer answers each store error. */
function httpStatusOf(code: CallStoreErrorCode): number {
  switch (code) {
    case 'invalid_input':
      return 400;
    case 'call_not_found':
    case 'turn_not_found':
      return 404;
    case 'conflict':
      return 409;
    case 'schema_too_new':
      return 500;
  }
}

export function notFound(callId: string): CallStoreError {
  return new CallStoreError('call_not_found', 'no such call', callId);
}

export function isSqliteError(error: unknown, code: string): boolean {
  return error instanceof Database.SqliteError && error.code === code;
}

/** Turns SQLite constraint failures into store errors: a missing call, or `conflict` with `message`. */
export function conflictOr(error: unknown, callId: string, message: string): unknown {
  if (isSqliteError(error, 'SQLITE_CONSTRAINT_FOREIGNKEY')) return notFound(callId);
  if (isSqliteError(error, 'SQLITE_CONSTRAINT_UNIQUE') || isSqliteError(error, 'SQLITE_CONSTRAINT_PRIMARYKEY')) {
    return new CallStoreError('conflict', message, callId, { cause: error });
  }
  return error;
}
