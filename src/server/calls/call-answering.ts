import { HttpError } from '../../errors.ts';
import type { CallSummary } from '../../store/index.ts';
import type { AnswerRequest, AnsweredCall } from '../../telephony/carrier-adapter.ts';
import type { PublicUrls } from '../../telephony/public-urls.ts';
import { agentNamed, type CallDeps } from './call-deps.ts';
import type { MediaTokens } from './media-tokens.ts';

/**
 * A carrier is fetching answer markup: the callee picked up (outbound, `callId` known) or someone is calling us
 * (inbound: a record is created, once per carrier call id). Marks the call in progress and returns the media socket
 * URL with a fresh token for the markup.
 */
export function answerCall(deps: CallDeps, tokens: MediaTokens, publicUrls: PublicUrls, input: AnswerRequest): AnsweredCall {
  const { store, log } = deps;
  const routed = input.agentCandidates?.map((name) => deps.agents.get(name)).find((agent) => agent !== undefined);
  const defaultAgent = routed ?? agentNamed(deps.agents, undefined);
  deps.services.forAgent(defaultAgent);
  let callId = input.callId;
  if (callId) {
    const record = store.getCallSummary(callId);
    if (!record) throw new HttpError(404, 'call_not_found', `no call ${callId}`);
    if (record.carrier !== input.carrier) throw new HttpError(400, 'invalid_request', `call ${callId} is not a ${input.carrier} call`);
  } else {
    const existing = store.findByCarrierCallId(input.carrier, input.carrierCallId);
    callId =
      existing?.id ??
      store.createCall({
        carrier: input.carrier,
        direction: 'inbound',
        to: input.to,
        from: input.from,
        agent: defaultAgent.name,
        carrierCallId: input.carrierCallId,
        status: 'ringing',
        ...(input.metadata ? { metadata: input.metadata } : {}),
      }).id;
    if (!existing) log.info({ callId, carrier: input.carrier, from: input.from }, 'inbound call');
  }
  const record = store.getCallSummary(callId) as CallSummary;
  if (!record.carrierCallId) store.setCarrierCallId(callId, input.carrierCallId);
  store.updateStatus(callId, 'in-progress');
  return { callId, streamUrl: `${publicUrls.ws}/ws/${tokens.issue(callId)}`, record };
}
