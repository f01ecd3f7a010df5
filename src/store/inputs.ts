/**
 * What callers hand to the store, and the zod schemas that check it at the boundary. Every problem
 * becomes a {@link CallStoreError} with code `invalid_input` naming the method and the field.
 */
import { z } from 'zod';
import { CallStoreError } from './errors.ts';
import { JsonValueError, toJsonObject, toJsonValue } from './json.ts';
import type { CallDirection, CallError, CallStatus, Carrier, TurnRole } from './types.ts';
import { CALL_DIRECTIONS, CALL_STATUSES, CARRIER_NAME, TURN_ROLES } from './types.ts';

/** A point in time: a Date or milliseconds since the Unix epoch. */
export type Timestamp = Date | number;

/** A JSON object as callers build it; `undefined` properties are dropped, anything else non-JSON is rejected. */
export type JsonObjectInput = { readonly [key: string]: unknown };

export interface CreateCallInput {
  /** Our id. @default `call_` + 24 random hex characters */
  id?: string;
  carrier: Carrier;
  direction: CallDirection;
  /** Callee (outbound) or our number (inbound): E.164, SIP URI or client id. */
  to: string;
  /** @default null */
  from?: string | null;
  /** Initial status; a call is never created in a terminal state. @default 'queued' */
  status?: 'queued' | 'ringing' | 'in-progress';
  /** @default {} */
  metadata?: JsonObjectInput;
  /** Agent definition name. @default null */
  agent?: string | null;
  /** @default null (set later with `setCarrierCallId` when the carrier answers the REST request) */
  carrierCallId?: string | null;
  /** Creation time; also the timestamp of the initial status. @default now */
  at?: Timestamp;
}

export interface StatusUpdateOptions {
  /** When the carrier says the status changed. @default now */
  at?: Timestamp;
  /** Carrier-reported call duration in seconds; wins over our own answer→end computation. */
  durationSec?: number;
  /** Why the call ended (stored as `endReason` on a terminal status, kept in the event otherwise). */
  reason?: string;
  error?: CallError;
}

export interface TurnInput {
  /** Position in the conversation. @default one past the highest index so far */
  index?: number;
  role: TurnRole;
  text: string;
  heard?: string | null;
  interrupted?: boolean | null;
  latency?: JsonObjectInput | null;
  /** @default now */
  startedAt?: Timestamp;
  /** @default null */
  endedAt?: Timestamp | null;
  /** Milliseconds into the call's recording where the turn starts / ends (calls with a recording). @default null */
  recordingOffsetMs?: number | null;
  recordingEndMs?: number | null;
}

/** Fields of a turn to change; `null` clears an optional field. `latency` is merged key by key. */
export interface TurnPatch {
  text?: string;
  heard?: string | null;
  interrupted?: boolean | null;
  latency?: JsonObjectInput | null;
  startedAt?: Timestamp;
  endedAt?: Timestamp | null;
}

export interface ListCallsOptions {
  /** Page size, 1–500. @default 50 */
  limit?: number;
  /** `nextCursor` of the previous page. Not together with `offset`. */
  cursor?: string;
  /** Rows to skip (simple paging for UIs). Not together with `cursor`. @default 0 */
  offset?: number;
  status?: CallStatus;
  direction?: CallDirection;
  carrier?: Carrier;
}

/** Longest free-text field we accept (reasons, names, numbers); transcripts are unbounded. */
const MAX_SHORT_TEXT = 2_000;

const shortText = z.string().min(1, 'must not be empty').max(MAX_SHORT_TEXT);
const callId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 characters from A–Z a–z 0–9 _ -');

const timestamp = z.union([z.date(), z.number()]).transform((value, ctx): number => {
  const ms = value instanceof Date ? value.getTime() : value;
  if (!Number.isFinite(ms) || ms < 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a valid Date or non-negative milliseconds since the epoch' });
    return z.NEVER;
  }
  return Math.round(ms);
});

function jsonObject() {
  return z.unknown().transform((value, ctx) => {
    try {
      return toJsonObject(value);
    } catch (error) {
      if (!(error instanceof JsonValueError)) throw error;
      ctx.addIssue({ code: 'custom', message: error.detail, path: [...error.path] });
      return z.NEVER;
    }
  });
}

export const statusSchema = z.enum(CALL_STATUSES);
export const carrierSchema = z.string().regex(CARRIER_NAME, 'must be a carrier name (lower-case letters, digits, dashes)');

const callErrorSchema = z.strictObject({
  message: shortText,
  code: shortText.optional(),
  carrierErrorCode: z.union([shortText, z.number().int()]).optional(),
});

export const createCallSchema = z.strictObject({
  id: callId.optional(),
  carrier: carrierSchema,
  direction: z.enum(CALL_DIRECTIONS),
  to: shortText,
  from: shortText.nullish(),
  status: z.enum(['queued', 'ringing', 'in-progress']).default('queued'),
  metadata: jsonObject().optional(),
  agent: shortText.nullish(),
  carrierCallId: shortText.nullish(),
  at: timestamp.optional(),
});

export const statusUpdateSchema = z.strictObject({
  at: timestamp.optional(),
  durationSec: z.number().nonnegative().optional(),
  reason: shortText.optional(),
  error: callErrorSchema.optional(),
});

export const turnSchema = z.strictObject({
  index: z.number().int().nonnegative().optional(),
  role: z.enum(TURN_ROLES),
  text: z.string(),
  heard: z.string().nullish(),
  interrupted: z.boolean().nullish(),
  latency: jsonObject().nullish(),
  startedAt: timestamp.optional(),
  endedAt: timestamp.nullish(),
  recordingOffsetMs: z.number().int().nonnegative().nullish(),
  recordingEndMs: z.number().int().nonnegative().nullish(),
});

export const turnPatchSchema = z.strictObject({
  text: z.string().optional(),
  heard: z.string().nullish(),
  interrupted: z.boolean().nullish(),
  latency: jsonObject().nullish(),
  startedAt: timestamp.optional(),
  endedAt: timestamp.nullish(),
});

export const listCallsSchema = z
  .strictObject({
    limit: z.number().int().min(1).max(500).default(50),
    cursor: z.string().min(1).optional(),
    offset: z.number().int().nonnegative().optional(),
    status: statusSchema.optional(),
    direction: z.enum(CALL_DIRECTIONS).optional(),
    carrier: carrierSchema.optional(),
  })
  .refine((o) => o.cursor === undefined || o.offset === undefined, { message: 'give either cursor or offset, not both' });

export const callIdSchema = callId;
export const carrierCallIdSchema = shortText;
export const eventTypeSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._:-]{0,99}$/, 'must be 1–100 characters: lower-case letters, digits, . _ : -');
export const reasonSchema = shortText;
export const recordingPathSchema = shortText.nullable();
export const metadataSchema = jsonObject();
export const eventDataSchema = z.unknown().transform((value, ctx) => {
  try {
    return toJsonValue(value);
  } catch (error) {
    if (!(error instanceof JsonValueError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.detail, path: [...error.path] });
    return z.NEVER;
  }
});
export const timestampSchema = timestamp;

/** Parses `value` or throws `invalid_input` naming the method (`what`) and every offending field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string, callId?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return path === '' ? issue.message : `${path}: ${issue.message}`;
  });
  throw new CallStoreError('invalid_input', `${what}: ${problems.join('; ')}`, callId, { cause: result.error });
}
