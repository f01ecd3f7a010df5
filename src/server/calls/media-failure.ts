import { isFinalCallStatus } from '../../call-status.ts';
import type { CallDeps } from './call-deps.ts';
import { hangUpCarrierLeg } from './carrier-hangup.ts';

/**
 * Ends a call whose media could not run (no socket, a refused start message, a session that would not set up):
 * `failed` with the reason, an event, a log line, and the carrier leg hung up so the callee is not left on a
 * silent line. No-op for calls already over. Resolves once the hang-up was tried.
 */
export async function failCallMedia(deps: Pick<CallDeps, 'store' | 'log' | 'carriers'>, callId: string, reason: string): Promise<void> {
  const { store } = deps;
  const record = store.getCallSummary(callId);
  if (!record || isFinalCallStatus(record.status)) return;
  store.addEvent(callId, 'media.failed', { reason });
  store.updateStatus(callId, 'failed', { reason, error: { message: reason, code: 'media_failed' } });
  deps.log.warn({ callId, carrier: record.carrier, reason }, 'call failed: media did not run');
  await hangUpCarrierLeg(deps, callId, reason);
}
