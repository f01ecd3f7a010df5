import type { FastifyRequest } from 'fastify';
import { formParams } from '../callback-params.ts';
import type { CarrierContext, TransferResult } from '../carrier-adapter.ts';
import { RestCarrierRuntime } from '../rest-carrier-runtime.ts';
import type { WebhookVerification } from '../webhook-verification.ts';
import { plivoDialSipXml, plivoDialXml, plivoHangupXml, plivoStreamXml } from './answer-markup.ts';
import type { CarrierCallRef } from '../carrier.ts';
import { PlivoCallClient } from './call-client.ts';
import { PLIVO, type PlivoSettings } from './settings.ts';
import { PLIVO_NONCE_HEADER, PLIVO_SIGNATURE_HEADER, verifyPlivoWebhook } from './webhook-signature.ts';

/** Live Plivo: the REST client (plivo-node's call interface), webhook verification and answer XML, for one account. */
export class PlivoRuntime extends RestCarrierRuntime {
  readonly name = PLIVO;
  declare readonly client: PlivoCallClient;
  private readonly authToken: string;
  /** See {@link PlivoSettings.sipLegCarrier}. */
  readonly sipLegCarrier: string | undefined;

  constructor(settings: Required<Pick<PlivoSettings, 'authId' | 'authToken'>> & PlivoSettings, context: CarrierContext) {
    const client = new PlivoCallClient({
      authId: settings.authId,
      authToken: settings.authToken,
      ...(settings.apiBaseUrl ? { baseUrl: settings.apiBaseUrl } : {}),
      logger: context.log,
    });
    super(client, context, { answer: '/answer', status: '/plivo/status', machineDetection: '/plivo/amd' });
    this.authToken = settings.authToken;
    this.sipLegCarrier = settings.sipLegCarrier;
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

  /**
   * Cold transfer: Plivo's transfer API points the live call at our `/plivo/transfer` XML (signed like every
   * webhook), which `<Dial>`s the destination; Plivo ends our stream and dials.
   */
  async transfer(call: CarrierCallRef, destination: string): Promise<TransferResult> {
    const url = `${this.context.publicUrls.http}/plivo/transfer?callId=${encodeURIComponent(call.callId)}&to=${encodeURIComponent(destination)}`;
    const message = await this.client.transfer(call, url);
    return { ok: true, status: message, reason: `call transferred to <Dial> ${destination}`, movedByCarrier: true };
  }

  dialMarkup(destination: string): string {
    return plivoDialXml(destination);
  }

  /** `<Dial><User>`: connect the callee to the SIP URI that carries the call's media. */
  dialSipMarkup(sipUri: string): string {
    return plivoDialSipXml({ sipUri });
  }

  hangupMarkup(): string {
    return plivoHangupXml();
  }
}
