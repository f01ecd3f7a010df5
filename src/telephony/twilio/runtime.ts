import type { FastifyRequest } from 'fastify';
import type { CarrierContext, TransferResult } from '../carrier-adapter.ts';
import { RestCarrierRuntime } from '../rest-carrier-runtime.ts';
import type { WebhookVerification } from '../webhook-verification.ts';
import { formParams } from '../callback-params.ts';
import { twilioDialTwiml, twilioHangupTwiml, twilioStreamTwiml } from './answer-markup.ts';
import type { CarrierCallRef } from '../carrier.ts';
import { TwilioCallClient } from './call-client.ts';
import { TWILIO, type TwilioSettings } from './settings.ts';
import { TWILIO_SIGNATURE_HEADER, verifyTwilioWebhook } from './webhook-signature.ts';

/** Live Twilio: the REST client (official SDK), webhook verification and TwiML, for one account. */
export class TwilioRuntime extends RestCarrierRuntime {
  readonly name = TWILIO;
  declare readonly client: TwilioCallClient;
  private readonly authToken: string;

  constructor(settings: Required<Pick<TwilioSettings, 'accountSid' | 'authToken'>> & TwilioSettings, context: CarrierContext) {
    const client = new TwilioCallClient({
      accountSid: settings.accountSid,
      authToken: settings.authToken,
      ...(settings.apiBaseUrl ? { baseUrl: settings.apiBaseUrl } : {}),
      logger: context.log,
    });
    super(client, context, { answer: '/twiml', status: '/twilio/status', machineDetection: '/twilio/amd' });
    this.authToken = settings.authToken;
  }

  /** Checks `X-Twilio-Signature` against our public URL and the form parameters (POST) or query (GET). */
  verifyWebhook(request: FastifyRequest): WebhookVerification {
    return verifyTwilioWebhook({
      authToken: this.authToken,
      signature: request.headers[TWILIO_SIGNATURE_HEADER],
      publicBaseUrl: this.context.publicUrls.http,
      requestUrl: request.url,
      ...(request.method === 'POST' ? { formParams: formParams(request) } : {}),
    });
  }

  /** `<Connect><Stream>` to our media socket, with the call's numbers as stream parameters. */
  streamMarkup(options: { streamUrl: string; callId: string; to: string; from: string }): string {
    return twilioStreamTwiml({
      streamUrl: options.streamUrl,
      callId: options.callId,
      parameters: { to_number: options.to, from_number: options.from },
      allowInsecure: this.context.publicUrls.ws.startsWith('ws:'),
    });
  }

  /** Cold transfer: the live call is updated with `<Dial>` TwiML; Twilio ends our stream and dials the destination. */
  async transfer(call: CarrierCallRef, destination: string): Promise<TransferResult> {
    const status = await this.client.redirect(call, twilioDialTwiml(destination));
    return { ok: true, status, reason: `call updated with <Dial> to ${destination}`, movedByCarrier: true };
  }

  hangupMarkup(): string {
    return twilioHangupTwiml();
  }
}
