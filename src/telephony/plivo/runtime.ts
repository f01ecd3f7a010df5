import type { FastifyRequest } from 'fastify';
import { formParams } from '../callback-params.ts';
import type { CarrierContext, CarrierRuntime, OutboundCallRequest } from '../carrier-adapter.ts';
import type { CarrierCallInfo, CarrierCallRef, PlacedCall } from '../carrier.ts';
import type { WebhookVerification } from '../webhook-verification.ts';
import { plivoHangupXml, plivoStreamXml } from './answer-markup.ts';
import { PlivoCallClient } from './call-client.ts';
import { PLIVO, type PlivoSettings } from './settings.ts';
import { PLIVO_NONCE_HEADER, PLIVO_SIGNATURE_HEADER, verifyPlivoWebhook } from './webhook-signature.ts';

/** Live Plivo: the REST client (plivo-node's call interface), webhook verification and answer XML, for one account. */
export class PlivoRuntime implements CarrierRuntime {
  readonly name = PLIVO;
  readonly client: PlivoCallClient;
  private readonly authToken: string;
  private readonly context: CarrierContext;

  constructor(settings: Required<Pick<PlivoSettings, 'authId' | 'authToken'>> & PlivoSettings, context: CarrierContext) {
    this.authToken = settings.authToken;
    this.context = context;
    this.client = new PlivoCallClient({
      authId: settings.authId,
      authToken: settings.authToken,
      ...(settings.apiBaseUrl ? { baseUrl: settings.apiBaseUrl } : {}),
      logger: context.log,
    });
  }

  placeCall(request: OutboundCallRequest): Promise<PlacedCall> {
    const base = this.context.publicUrls.http;
    return this.client.placeCall({
      callId: request.callId,
      to: request.to,
      from: request.from,
      answerUrl: `${base}/answer?callId=${request.callId}`,
      statusCallbackUrl: `${base}/plivo/status?callId=${request.callId}`,
      ...(request.ringTimeoutSec !== undefined ? { ringTimeoutSec: request.ringTimeoutSec } : {}),
    });
  }

  hangUp(call: CarrierCallRef): Promise<void> {
    return this.client.hangUp(call);
  }

  getCall(call: CarrierCallRef): Promise<CarrierCallInfo> {
    return this.client.getCall(call);
  }

  /** Checks `X-Plivo-Signature-V3` (with its nonce) against our public URL and the parameters. */
  verifyWebhook(request: FastifyRequest): WebhookVerification {
    return verifyPlivoWebhook({
      authToken: this.authToken,
      signature: request.headers[PLIVO_SIGNATURE_HEADER],
      nonce: request.headers[PLIVO_NONCE_HEADER],
      method: request.method === 'GET' ? 'GET' : 'POST',
      publicBaseUrl: this.context.publicUrls.http,
      requestUrl: request.url,
      ...(request.method === 'POST' ? { formParams: formParams(request) } : {}),
    });
  }

  /** Bidirectional `<Stream>` to our media socket. */
  streamMarkup(streamUrl: string): string {
    return plivoStreamXml({ streamUrl, allowInsecure: this.context.publicUrls.ws.startsWith('ws:') });
  }

  hangupMarkup(): string {
    return plivoHangupXml();
  }
}
