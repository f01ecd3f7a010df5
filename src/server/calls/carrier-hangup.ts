import { CarrierError } from '../../telephony/carrier-error.ts';
import { messageOf, type CallDeps } from './call-deps.ts';

/** Hangs up a call's carrier leg (best effort): the outcome, or why it failed, goes in the call's events. */
export async function hangUpCarrierLeg(deps: Pick<CallDeps, 'store' | 'log' | 'carriers'>, callId: string, reason: string): Promise<void> {
  const { store, log } = deps;
  const record = store.getCallSummary(callId);
  if (!record) return;
  const carrier = deps.carriers.find(record.carrier);
  if (!carrier) return;
  try {
    await carrier.hangUp({ callId, carrierCallId: record.carrierCallId, answered: record.answeredAt !== null });
    store.addEvent(callId, 'carrier.hangup', { reason });
  } catch (error) {
    const carrierCode = error instanceof CarrierError ? error.carrierCode : null;
    store.addEvent(callId, 'carrier.hangup-failed', { message: messageOf(error), carrierCode });
    log.warn({ callId, carrierCode, err: messageOf(error) }, 'carrier hang-up failed');
  }
}
