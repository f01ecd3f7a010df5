import { HttpError } from '../../errors.ts';
import type { CallRecord } from '../../store/index.ts';
import type { PlaceCallRequest } from '../../telephony/carrier-adapter.ts';
import { CarrierError } from '../../telephony/carrier-error.ts';
import { agentNamed, messageOf, type CallDeps } from './call-deps.ts';
import { RECORDING_REQUESTED_EVENT } from './call-recording.ts';

/** Custom call data: any JSON object up to 64 KB (it is stored with the call and templated into prompts). */
export const MAX_METADATA_BYTES = 64 * 1024;

/** Throws `HttpError` 413 when custom call data is over {@link MAX_METADATA_BYTES}. */
export function checkMetadata(metadata: unknown): void {
  const size = Buffer.byteLength(JSON.stringify(metadata ?? {}));
  if (size > MAX_METADATA_BYTES) {
    throw new HttpError(413, 'metadata_too_large', `call data is ${size} bytes; the limit is ${MAX_METADATA_BYTES}`);
  }
}

/**
 * Creates the record and asks the carrier to dial. Refuses before anything rings when the carrier or a provider
 * is unavailable (503) or the request is incomplete (400); if the carrier refuses, the record says `failed` with
 * the carrier's code and the caller gets a 502.
 */
export async function placeCall(deps: CallDeps, input: PlaceCallRequest): Promise<CallRecord> {
  const { store, log, carriers } = deps;
  const carrier = carriers.runtime(input.carrier);
  const agent = agentNamed(deps.agents, input.agent);
  deps.services.forAgent(agent);
  const from = input.from ?? carriers.defaultFrom(input.carrier);
  if (!from) {
    throw new HttpError(400, 'invalid_request', `no caller id: give "from" or set the ${input.carrier.toUpperCase()}_PHONE_NUMBER setting`);
  }
  const record = store.createCall({
    carrier: input.carrier,
    direction: 'outbound',
    to: input.to,
    from,
    agent: agent.name,
    metadata: input.metadata ?? {},
  });
  const callId = record.id;
  if (input.record !== undefined) store.addEvent(callId, RECORDING_REQUESTED_EVENT, { record: input.record });
  try {
    const machineDetection = agent.voicemail !== undefined && agent.voicemail.detect !== false;
    const placed = await carrier.placeCall({
      callId,
      to: input.to,
      from,
      ...(input.headers ? { headers: input.headers } : {}),
      ...(machineDetection ? { machineDetection } : {}),
      ...(input.media ? { media: input.media } : {}),
      ...(input.carrierOptions ? { carrierOptions: input.carrierOptions } : {}),
    });
    if (placed.carrierCallId) store.setCarrierCallId(callId, placed.carrierCallId);
    store.addEvent(callId, 'carrier.placed', { requestId: placed.requestId, status: placed.status });
    log.info({ callId, carrier: input.carrier, carrierCallId: placed.carrierCallId }, 'call placed');
  } catch (error) {
    const carrierCode = error instanceof CarrierError ? error.carrierCode : null;
    const message = messageOf(error);
    store.updateStatus(callId, 'failed', {
      reason: 'carrier refused the call',
      error: { message, code: 'carrier_error', ...(carrierCode != null ? { carrierErrorCode: carrierCode } : {}) },
    });
    deps.metrics.error('carrier');
    log.warn({ callId, carrier: input.carrier, carrierCode, err: message }, 'carrier refused the call');
    throw new HttpError(502, 'carrier_error', message, { callId, carrier: input.carrier, carrierCode });
  }
  return store.getCall(callId) as CallRecord;
}
