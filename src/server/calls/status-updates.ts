import { isFinalCallStatus } from '../../call-status.ts';
import type { CallSummary } from '../../store/index.ts';
import type { CallStatusUpdate } from '../../telephony/call-status.ts';
import type { CallDeps } from './call-deps.ts';
import type { LiveCalls } from './live-calls.ts';

/**
 * A verified, parsed carrier status callback: recorded as an event and applied to the record (status only moves
 * forward; the store ignores late or repeated ones). A final status for a call whose media is still live here
 * stops its session (the caller hung up before the stream noticed).
 */
export function applyStatusUpdate(
  deps: Pick<CallDeps, 'store'>,
  live: LiveCalls,
  update: CallStatusUpdate,
  callId: string | undefined,
): CallSummary | undefined {
  const { store } = deps;
  const summary = callId ? store.getCallSummary(callId) : store.findByCarrierCallId(update.carrier, update.carrierCallId);
  if (!summary) return undefined;
  const id = summary.id;
  if (!summary.carrierCallId) store.setCarrierCallId(id, update.carrierCallId);
  store.addEvent(id, 'carrier.status', {
    status: update.status,
    carrierStatus: update.carrierStatus,
    ...(update.hangupCause ? { hangupCause: update.hangupCause } : {}),
    ...(update.sequenceNumber !== null ? { sequenceNumber: update.sequenceNumber } : {}),
  });
  const at = update.timestamp ?? update.endedAt ?? update.answeredAt ?? undefined;
  store.updateStatus(id, update.status, {
    ...(at ? { at } : {}),
    ...(update.durationSec !== null ? { durationSec: update.durationSec } : {}),
    ...(update.hangupCause && update.status !== 'completed' ? { reason: update.hangupCause } : {}),
    ...(update.errorCode && update.status === 'failed'
      ? { error: { message: update.hangupCause ?? 'carrier reported failure', carrierErrorCode: update.errorCode } }
      : {}),
  });
  if (isFinalCallStatus(update.status)) {
    live.cancel(id, `carrier reported ${update.status}`);
    live.legEnded(id, update.status);
  }
  return summary;
}
