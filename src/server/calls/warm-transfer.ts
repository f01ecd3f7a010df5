import { handoverSummary, type TranscriptLine } from '../../agent/handover-summary.ts';
import type { TransferDestination } from '../../agent/transfer-tool.ts';
import { isFinalCallStatus } from '../../call-status.ts';
import { HttpError } from '../../errors.ts';
import type { TransferResult, WarmTransferResult } from '../../telephony/carrier-adapter.ts';
import { agentNamed, messageOf, type CallDeps } from './call-deps.ts';
import { transferCall } from './call-transfer.ts';
import type { LiveCalls } from './live-calls.ts';

/**
 * What the bot says when a warm transfer failed and the caller is back with it (`{{name}}`: the destination's
 * name, underscores as spaces).
 */
export const WARM_TRANSFER_FAILED_LINE =
  "I'm sorry, I couldn't reach the {{name}} just now. I'm still here with you. Is there anything else I can help with?";

/** How long the person's phone rings before the caller is taken back (seconds). @default 30 */
export const WARM_TRANSFER_RING_TIMEOUT_SEC = 30;

/**
 * A warm transfer (`transfer_call` to a destination with `mode: 'warm'`): the LLM writes a handover summary from
 * the call's transcript; the carrier puts the caller on hold and calls the person as a new call of ours (the
 * briefing leg, `metadata.warmTransferOf` = this call), whose session says the summary; then the carrier bridges
 * the two and our legs leave. The record gets `transfer` (`kind: 'warm'`, the summary, the briefing call's id,
 * the bridge) and `endReason: transferred`. If the person does not take the call, the caller goes back to the bot,
 * which says {@link WARM_TRANSFER_FAILED_LINE} (`transfer.resumed`). A carrier without
 * `CarrierRuntime.warmTransfer` transfers cold, with the reason in the record (`transfer.warmFallback`) and a
 * `transfer.warm-unsupported` event. If the summary fails, nothing moves: the tool gets the failure and the bot
 * tells the caller.
 */
export async function warmTransferCall(
  deps: CallDeps,
  live: LiveCalls,
  callId: string,
  destination: TransferDestination,
  reason?: string,
): Promise<TransferResult> {
  const { store, log } = deps;
  const record = store.getCallSummary(callId);
  if (!record) throw new HttpError(404, 'call_not_found', `no call ${callId}`);
  if (isFinalCallStatus(record.status)) throw new HttpError(409, 'call_not_active', `call ${callId} is already ${record.status}`);
  const carrier = deps.carriers.runtime(record.carrier);
  if (!carrier.warmTransfer) {
    const why = `${record.carrier} calls cannot be transferred warm; transferred cold`;
    store.addEvent(callId, 'transfer.warm-unsupported', { destination: destination.to, reason: why });
    log.info({ callId, destination: destination.to, carrier: record.carrier }, why);
    return transferCall(deps, live, callId, destination.to, {
      kind: 'cold',
      ...(destination.description ? { description: destination.description } : {}),
      warmFallback: why,
    });
  }
  const at = new Date().toISOString();
  store.addEvent(callId, 'carrier.transfer-requested', { destination: destination.to, kind: 'warm' });
  const agent = agentNamed(deps.agents, record.agent ?? undefined);

  const fail = (result: TransferResult, extra: Record<string, unknown> = {}): TransferResult => {
    store.addEvent(callId, 'carrier.transfer', { destination: destination.to, kind: 'warm', ...result });
    store.setTransfer(callId, {
      kind: 'warm',
      destination: destination.to,
      ...(destination.description ? { description: destination.description } : {}),
      status: 'failed',
      carrierResult: { status: result.status, reason: result.reason },
      at,
      ...extra,
    });
    log.info({ callId, destination: destination.to, ...result }, 'warm transfer failed');
    return result;
  };

  // 1. The summary, from what was said and heard so far.
  live.writer.flush();
  const transcript: TranscriptLine[] = (store.getCall(callId)?.turns ?? []).map((turn) => ({
    role: turn.role === 'user' ? 'caller' : 'agent',
    text: turn.role === 'assistant' ? (turn.heard ?? turn.text) : turn.text,
  }));
  let summary: string;
  try {
    summary = await handoverSummary(deps.services.forAgent(agent).llm, {
      callId,
      transcript,
      ...(reason ? { reason } : {}),
    });
  } catch (error) {
    return fail({ ok: false, status: 'summary-failed', reason: messageOf(error) });
  }
  store.addEvent(callId, 'transfer.summary', { summary });

  // 2. The briefing leg: a call of ours to the person, linked to this one.
  const from = (record.direction === 'inbound' ? record.to : record.from) ?? record.to;
  const briefingCall = store.createCall({
    carrier: record.carrier,
    direction: 'outbound',
    to: destination.to,
    from,
    agent: agent.name,
    metadata: { warmTransferOf: callId },
  });
  const briefingCallId = briefingCall.id;
  store.addEvent(callId, 'transfer.briefing-call', { briefingCallId });
  const briefing = live.prepareBriefing(briefingCallId, summary);
  live.prepareResume(callId, WARM_TRANSFER_FAILED_LINE.replace('{{name}}', destination.name.replace(/_/g, ' ')));

  // 3. The carrier: hold, call, brief, bridge (or bring the caller back).
  const attempt: Promise<WarmTransferResult> = carrier
    .warmTransfer(
      { callId, carrierCallId: record.carrierCallId },
      {
        destination: destination.to,
        from,
        briefingCallId,
        ringTimeoutSec: WARM_TRANSFER_RING_TIMEOUT_SEC,
        caller: { to: record.to, from: record.from ?? '' },
        briefed: () => briefing.heard,
      },
    )
    .catch((error: unknown): WarmTransferResult => ({ ok: false, status: 'error', reason: messageOf(error) }));
  live.transferring(
    callId,
    attempt.then((r) => {
      if (r.resumed) live.markResumed(callId);
      return r.ok;
    }),
  );
  const result = await attempt;
  briefing.settle(result.ok);
  if (!result.resumed) live.dropResume(callId);
  const extra = {
    summary,
    briefingCallId,
    ...(result.bridge ? { bridge: result.bridge } : {}),
    ...(result.resumed ? { resumed: true } : {}),
  };
  if (!result.ok) {
    // A briefing leg still ringing or live is of no use now.
    const leg = store.getCallSummary(briefingCallId);
    if (leg && !isFinalCallStatus(leg.status)) {
      await carrier.hangUp({ callId: briefingCallId, carrierCallId: leg.carrierCallId, answered: leg.answeredAt !== null }).catch(() => {});
      // Never answered (or never placed: the caller could not be put on hold): no carrier callback may follow.
      if (leg.answeredAt === null) store.updateStatus(briefingCallId, 'canceled', { reason: `warm transfer failed: ${result.reason}` });
    }
    return fail(result, extra);
  }
  store.addEvent(callId, 'carrier.transfer', { destination: destination.to, kind: 'warm', ...result });
  store.setTransfer(callId, {
    kind: 'warm',
    destination: destination.to,
    ...(destination.description ? { description: destination.description } : {}),
    status: 'transferred',
    carrierResult: { status: result.status, reason: result.reason, ...(result.movedByCarrier ? { movedByCarrier: true } : {}) },
    at,
    ...extra,
  });
  log.info({ callId, destination: destination.to, briefingCallId, bridge: result.bridge }, 'warm transfer: caller and person bridged');
  live.transferred(callId);
  return result;
}
