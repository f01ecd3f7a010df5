import { HttpError } from '../../errors.ts';
import { isFinalCallStatus } from '../../call-status.ts';
import type { TransferResult } from '../../telephony/carrier-adapter.ts';
import { messageOf, type CallDeps } from './call-deps.ts';
import { hangUpCarrierLeg } from './carrier-hangup.ts';
import type { LiveCalls } from './live-calls.ts';

/**
 * Transfers a live call through its carrier (`CarrierRuntime.transfer`): the request and the outcome go in the
 * record's events (`carrier.transfer-requested`, `carrier.transfer`). On success the agent's session ends with the
 * reason `transferred to <destination>` and our leg is hung up; on failure the call goes on with the agent.
 * 404 for an unknown call, 409 for one that is over, 501 when the carrier cannot transfer.
 */
export async function transferCall(deps: CallDeps, live: LiveCalls, callId: string, destination: string): Promise<TransferResult> {
  const { store, log } = deps;
  const record = store.getCallSummary(callId);
  if (!record) throw new HttpError(404, 'call_not_found', `no call ${callId}`);
  if (isFinalCallStatus(record.status)) throw new HttpError(409, 'call_not_active', `call ${callId} is already ${record.status}`);
  const carrier = deps.carriers.runtime(record.carrier);
  if (!carrier.transfer) throw new HttpError(501, 'transfer_unsupported', `${record.carrier} calls cannot be transferred`);
  store.addEvent(callId, 'carrier.transfer-requested', { destination });
  let result: TransferResult;
  try {
    result = await carrier.transfer({ callId, carrierCallId: record.carrierCallId }, destination);
  } catch (error) {
    result = { ok: false, status: 'error', reason: messageOf(error) };
  }
  store.addEvent(callId, 'carrier.transfer', { destination, ...result });
  log.info({ callId, destination, ...result }, 'transfer outcome');
  if (result.ok) {
    live.cancel(callId, `transferred to ${destination}`);
    await hangUpCarrierLeg(deps, callId, 'transferred');
  }
  return result;
}
