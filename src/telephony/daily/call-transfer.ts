/**
 * Cold transfer of a Daily call's other party (the dial-out callee, or the dial-in caller once `dialin.connected`
 * named their session) with Daily's REST API: `sipCallTransfer` (Daily stays in the call; a number or a SIP URI) or
 * `sipRefer` (a SIP URI; Daily leaves the call), per DAILY_TRANSFER_METHOD. Daily answers the REST call once it
 * accepted the transfer; the outcome comes as webhooks, so we wait (bounded) for `calltransfer.answered` (REFER:
 * `calltransfer.initiated` — Daily sends no `answered` for it). Daily documents no failure webhook: with no outcome
 * event in time the transfer counts as accepted. The party's call goes on at Daily (`movedByCarrier`): the runtime
 * then neither stops their session nor deletes the room (it expires at `exp`).
 */
import type { TransferResult } from '../carrier-adapter.ts';
import type { DailyCall } from './call-state.ts';
import type { DialEvent } from './dial-events.ts';
import { DailyApiError, type DailyRestClient } from './rest-client.ts';
import { DAILY_DEFAULTS, type DailySettings } from './settings.ts';

const SIP_URI = /^sips?:/i;

export async function transferDailyCall(
  client: DailyRestClient,
  settings: Pick<DailySettings, 'transferMethod' | 'callerId'>,
  call: DailyCall,
  destination: string,
  outcomeTimeoutMs: number = DAILY_DEFAULTS.transferOutcomeTimeoutMs,
): Promise<TransferResult> {
  const room = call.room;
  const sessionId = call.kind === 'dial-out' ? call.sessionId : call.kind === 'dial-in' ? call.callerSessionId : undefined;
  if (!room || !sessionId) {
    return { ok: false, status: 'no-session', reason: "Daily's session id of the other party is not known (no dialin.connected yet)" };
  }
  const method = settings.transferMethod ?? DAILY_DEFAULTS.transferMethod;
  const toEndPoint = destination.trim();
  const sip = SIP_URI.test(toEndPoint);
  if (method === 'sip-refer' && !sip) {
    return { ok: false, status: 'invalid', reason: 'sipRefer needs a SIP URI destination (DAILY_TRANSFER_METHOD=sip-refer)' };
  }
  const api = method === 'sip-refer' ? 'sipRefer' : 'sipCallTransfer';
  const awaited = method === 'sip-refer' ? 'calltransfer.initiated' : 'calltransfer.answered';
  let settle: (event: DialEvent | undefined) => void = () => {};
  const outcome = new Promise<DialEvent | undefined>((resolve) => (settle = resolve));
  const timer = setTimeout(() => settle(undefined), outcomeTimeoutMs);
  timer.unref(); // never holds a shutting-down server
  call.onTransferEvent = (event) => {
    if (event.sessionId && event.sessionId !== sessionId) return;
    if (event.type === awaited || event.type === 'calltransfer.completed') settle(event);
  };
  // Set before asking: the party's `dialout.stopped` may arrive before Daily's answer does.
  call.transferred = true;
  try {
    if (method === 'sip-refer') await client.sipRefer(room, { sessionId, toEndPoint });
    else
      await client.sipCallTransfer(room, { sessionId, toEndPoint, ...(!sip && settings.callerId ? { callerId: settings.callerId } : {}) });
  } catch (error) {
    clearTimeout(timer);
    call.onTransferEvent = undefined;
    call.transferred = false;
    const status =
      error instanceof DailyApiError
        ? `${error.httpStatus ?? 'no-response'}${error.providerCode ? ` ${error.providerCode}` : ''}`
        : 'error';
    return { ok: false, status, reason: error instanceof Error ? error.message : String(error) };
  }
  const event = await outcome;
  clearTimeout(timer);
  call.onTransferEvent = undefined;
  return {
    ok: true,
    status: event?.type ?? 'accepted',
    reason: event
      ? `${api} to ${toEndPoint}: ${event.type}`
      : `${api} to ${toEndPoint} accepted (no outcome webhook within ${Math.round(outcomeTimeoutMs / 1000)} s)`,
    movedByCarrier: true,
  };
}
