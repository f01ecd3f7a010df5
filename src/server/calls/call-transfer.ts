import { HttpError } from '../../errors.ts';
import { isFinalCallStatus } from '../../call-status.ts';
import type { TransferResult } from '../../telephony/carrier-adapter.ts';
import { messageOf, type CallDeps } from './call-deps.ts';
import { hangUpCarrierLeg } from './carrier-hangup.ts';
import type { LiveCalls } from './live-calls.ts';

/** How the transfer was asked for (the agent's `transfer_call`, or `POST /calls/:id/transfer`). */
export interface TransferDetails {
  /** @default 'cold' */
  kind?: 'cold' | 'warm';
  /** The description of the destination the model saw. */
  description?: string;
  /** A warm transfer done cold, and why (the carrier cannot transfer warm). */
  warmFallback?: string;
}

/**
 * Transfers a live call through its carrier (`CarrierRuntime.transfer`): the request and the outcome go in the
 * record's events (`carrier.transfer-requested`, `carrier.transfer`) and its `transfer`. On success the agent's
 * session ends with the reason `transferred` and — unless the carrier moved the call itself (Twilio, Plivo) — our
 * leg is hung up; on failure the call goes on with the agent. 404 for an unknown call, 409 for one that is over,
 * 501 when the carrier cannot transfer.
 */
export async function transferCall(
  deps: CallDeps,
  live: LiveCalls,
  callId: string,
  destination: string,
  details: TransferDetails = {},
): Promise<TransferResult> {
  const { store, log } = deps;
  const record = store.getCallSummary(callId);
  if (!record) throw new HttpError(404, 'call_not_found', `no call ${callId}`);
  if (isFinalCallStatus(record.status)) throw new HttpError(409, 'call_not_active', `call ${callId} is already ${record.status}`);
  const carrier = deps.carriers.runtime(record.carrier);
  if (!carrier.transfer) throw new HttpError(501, 'transfer_unsupported', `${record.carrier} calls cannot be transferred`);
  const at = new Date().toISOString();
  store.addEvent(callId, 'carrier.transfer-requested', { destination });
  const attempt = carrier
    .transfer({ callId, carrierCallId: record.carrierCallId }, destination)
    .catch((error: unknown): TransferResult => ({ ok: false, status: 'error', reason: messageOf(error) }));
  live.transferring(
    callId,
    attempt.then((r) => r.ok),
  );
  const result = await attempt;
  store.addEvent(callId, 'carrier.transfer', { destination, ...result });
  store.setTransfer(callId, {
    kind: details.kind ?? 'cold',
    destination,
    ...(details.description ? { description: details.description } : {}),
    ...(details.warmFallback ? { warmFallback: details.warmFallback } : {}),
    status: result.ok ? 'transferred' : 'failed',
    carrierResult: { status: result.status, reason: result.reason, ...(result.movedByCarrier ? { movedByCarrier: true } : {}) },
    at,
  });
  log.info({ callId, destination, ...result }, 'transfer outcome');
  if (result.ok) {
    live.transferred(callId);
    if (!result.movedByCarrier) await hangUpCarrierLeg(deps, callId, 'transferred');
  }
  return result;
}
