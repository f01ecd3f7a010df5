/** Read queries that take options (listing, paging) and the prepared-statement cache they share. */
import type { Database, Statement } from 'better-sqlite3';
import { CallStoreError } from './errors.ts';
import type { CallRow } from './rows.ts';
import type { CallDirection, CallStatus, Carrier } from './types.ts';

/** Prepares each distinct SQL text once per connection. */
export class StatementCache {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Database) {}

  get(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/** Position after which the next page starts: newest-first order is (created_at DESC, seq DESC). */
interface CursorPosition {
  createdAt: number;
  seq: number;
}

/** Cursors are opaque to callers: base64url of `[createdAt, seq]` of the last row of the page. */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.seq])).toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || !parsed.every((n: unknown) => typeof n === 'number' && Number.isSafeInteger(n))) {
    throw new CallStoreError('invalid_input', `listCalls: cursor: not a cursor returned by listCalls (${JSON.stringify(cursor)})`);
  }
  return { createdAt: parsed[0] as number, seq: parsed[1] as number };
}

export interface CallListQuery {
  limit: number;
  cursor?: string;
  offset?: number;
  status?: CallStatus;
  direction?: CallDirection;
  carrier?: Carrier;
}

/**
 * One page of calls, newest first, plus whether more follow. Reads `limit + 1` rows to tell, so the
 * caller never gets a cursor that leads to an empty page.
 */
export function selectCallPage(statements: StatementCache, query: CallListQuery): { rows: CallRow[]; nextCursor: string | null } {
  const where: string[] = [];
  const params: Array<string | number> = [];
  if (query.status !== undefined) {
    where.push('status = ?');
    params.push(query.status);
  }
  if (query.direction !== undefined) {
    where.push('direction = ?');
    params.push(query.direction);
  }
  if (query.carrier !== undefined) {
    where.push('carrier = ?');
    params.push(query.carrier);
  }
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor);
    where.push('(created_at < ? OR (created_at = ? AND seq < ?))');
    params.push(after.createdAt, after.createdAt, after.seq);
  }
  const sql =
    'SELECT * FROM calls' +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ' ORDER BY created_at DESC, seq DESC LIMIT ? OFFSET ?';
  params.push(query.limit + 1, query.offset ?? 0);
  const rows = statements.get(sql).all(...params) as CallRow[];
  const more = rows.length > query.limit;
  if (more) rows.length = query.limit;
  const last = rows.at(-1);
  return { rows, nextCursor: more && last !== undefined ? encodeCursor({ createdAt: last.created_at, seq: last.seq }) : null };
}
