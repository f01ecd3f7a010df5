export { CallStore, DATABASE_FILE, SERVER_STOPPED_REASON } from './call-store.ts';
export type { CallStoreOptions } from './call-store.ts';
export { CallStoreError } from './errors.ts';
export type { CallStoreErrorCode } from './errors.ts';
export type { CreateCallInput, JsonObjectInput, ListCallsOptions, StatusUpdateOptions, Timestamp, TurnInput, TurnPatch } from './inputs.ts';
export { JsonValueError } from './json.ts';
export { SCHEMA_VERSION } from './schema.ts';
export { computeDurationSec, decideTransition } from './status.ts';
export type { TransitionDecision } from './status.ts';
export { CALL_DIRECTIONS, CALL_STATUSES, CARRIER_NAME, FINAL_CALL_STATUSES, isFinalCallStatus, STORE_EVENTS, TURN_ROLES } from './types.ts';
export type {
  AnsweredByRecord,
  TransferRecord,
  CallDirection,
  CallError,
  CallEvent,
  CallPage,
  CallRecord,
  CallStatus,
  CallSummary,
  CallTurn,
  Carrier,
  IgnoredTransitionReason,
  JsonObject,
  JsonValue,
  StatusUpdateResult,
  TurnRole,
} from './types.ts';
