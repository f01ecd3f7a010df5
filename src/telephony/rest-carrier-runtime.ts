import type { CarrierContext, CarrierRuntime, OutboundCallRequest } from './carrier-adapter.ts';
import type { CarrierCallClient, CarrierCallInfo, CarrierCallRef, PlacedCall } from './carrier.ts';

/** Where a webhook carrier fetches answer markup and posts call progress, relative to our public URL. */
export interface WebhookPaths {
  /** e.g. `/twiml` */
  answer: string;
  /** e.g. `/twilio/status` */
  status: string;
  /** Where the carrier posts its answering-machine verdict, e.g. `/twilio/amd`. */
  machineDetection: string;
}

/**
 * The live part of a carrier driven by a REST API plus webhooks: placement asks the carrier to fetch our answer
 * markup and report progress at this server's public URLs (with the call id), the rest goes to its REST client.
 */
export abstract class RestCarrierRuntime implements CarrierRuntime {
  abstract readonly name: string;

  protected constructor(
    readonly client: CarrierCallClient,
    protected readonly context: CarrierContext,
    private readonly paths: WebhookPaths,
  ) {}

  placeCall(request: OutboundCallRequest): Promise<PlacedCall> {
    const base = this.context.publicUrls.http;
    return this.client.placeCall({
      callId: request.callId,
      to: request.to,
      from: request.from,
      answerUrl: `${base}${this.paths.answer}?callId=${request.callId}${request.media === 'sip' ? '&media=sip' : ''}`,
      statusCallbackUrl: `${base}${this.paths.status}?callId=${request.callId}`,
      ...(request.ringTimeoutSec !== undefined ? { ringTimeoutSec: request.ringTimeoutSec } : {}),
      ...(request.machineDetection ? { machineDetectionUrl: `${base}${this.paths.machineDetection}?callId=${request.callId}` } : {}),
    });
  }

  hangUp(call: CarrierCallRef): Promise<void> {
    return this.client.hangUp(call);
  }

  getCall(call: CarrierCallRef): Promise<CarrierCallInfo> {
    return this.client.getCall(call);
  }
}
