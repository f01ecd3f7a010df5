import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CallManager } from '../call-manager.ts';
import type { PublicUrls } from '../public-urls.ts';
import { HttpError } from '../http-error.ts';
import type { CallbackParams } from '../../telephony/callback-params.ts';
import { param } from '../../telephony/callback-params.ts';
import { twilioHangupTwiml, twilioStreamTwiml } from '../../telephony/twilio/answer-markup.ts';
import { parseTwilioStatusCallback } from '../../telephony/twilio/status-callback.ts';
import { TWILIO_SIGNATURE_HEADER, verifyTwilioWebhook } from '../../telephony/twilio/webhook-signature.ts';
import { plivoHangupXml, plivoStreamXml } from '../../telephony/plivo/answer-markup.ts';
import { parsePlivoStatusCallback } from '../../telephony/plivo/status-callback.ts';
import { PLIVO_NONCE_HEADER, PLIVO_SIGNATURE_HEADER, verifyPlivoWebhook } from '../../telephony/plivo/webhook-signature.ts';
import type { WebhookVerification } from '../../telephony/webhook-verification.ts';

export interface CarrierWebhookDeps {
  manager: CallManager;
  publicUrls: PublicUrls;
  /** Auth tokens the carriers sign webhooks with; a carrier without one has no webhook routes. */
  twilioAuthToken?: string | undefined;
  plivoAuthToken?: string | undefined;
}

type Params = Record<string, string | string[]>;

function formParams(request: FastifyRequest): Params {
  const body = request.body;
  return body && typeof body === 'object' ? (body as Params) : {};
}

/** Every carrier webhook is verified; a failure is a 403 with the reason, and a log line. */
async function reject(request: FastifyRequest, reply: FastifyReply, carrier: string, result: WebhookVerification & { ok: false }) {
  request.log.warn({ carrier, route: request.url, reason: result.reason }, 'carrier webhook rejected');
  await reply.code(403).send({ error: 'forbidden', reason: result.reason, message: result.message });
}

/** Twilio and Plivo answer markup (outbound answer + inbound calls) and status callbacks. */
export function registerCarrierWebhooks(app: FastifyInstance, deps: CarrierWebhookDeps): void {
  const { manager } = deps;

  if (deps.twilioAuthToken) {
    const authToken = deps.twilioAuthToken;
    const verify = (request: FastifyRequest) =>
      verifyTwilioWebhook({
        authToken,
        signature: request.headers[TWILIO_SIGNATURE_HEADER],
        publicBaseUrl: deps.publicUrls.http,
        requestUrl: request.url,
        ...(request.method === 'POST' ? { formParams: formParams(request) } : {}),
      });

    // TwiML for an answered outbound call (`?callId=`) or an incoming call (the Twilio voice webhook).
    const twiml = async (request: FastifyRequest, reply: FastifyReply) => {
      const verified = verify(request);
      if (!verified.ok) return reject(request, reply, 'twilio', verified);
      const params: CallbackParams = request.method === 'POST' ? formParams(request) : (request.query as CallbackParams);
      const callSid = param(params, 'CallSid');
      if (!callSid) throw new HttpError(400, 'invalid_request', 'CallSid is missing');
      const callId = (request.query as { callId?: string }).callId;
      try {
        const answered = manager.answer({
          carrier: 'twilio',
          callId,
          carrierCallId: callSid,
          from: param(params, 'From') ?? 'unknown',
          to: param(params, 'To') ?? 'unknown',
        });
        const stringParams: Record<string, string> = { to_number: answered.record.to, from_number: answered.record.from ?? '' };
        return reply.type('text/xml').send(
          twilioStreamTwiml({
            streamUrl: answered.streamUrl,
            callId: answered.callId,
            parameters: stringParams,
            allowInsecure: deps.publicUrls.ws.startsWith('ws:'),
          }),
        );
      } catch (error) {
        // The carrier needs valid markup whatever happened: hang up cleanly, say why in the log.
        request.log.warn({ callId, callSid, err: error instanceof Error ? error.message : String(error) }, 'cannot answer call');
        return reply.type('text/xml').send(twilioHangupTwiml());
      }
    };
    app.post('/twiml', twiml);
    app.post('/twilio/voice', twiml);

    app.post('/twilio/status', async (request, reply) => {
      const verified = verify(request);
      if (!verified.ok) return reject(request, reply, 'twilio', verified);
      const update = parseTwilioStatusCallback(formParams(request));
      const record = manager.applyStatus(update, (request.query as { callId?: string }).callId);
      if (!record) request.log.warn({ callSid: update.carrierCallId }, 'status callback for an unknown call');
      return reply.code(204).send();
    });
  }

  if (deps.plivoAuthToken) {
    const authToken = deps.plivoAuthToken;
    const verify = (request: FastifyRequest) =>
      verifyPlivoWebhook({
        authToken,
        signature: request.headers[PLIVO_SIGNATURE_HEADER],
        nonce: request.headers[PLIVO_NONCE_HEADER],
        method: request.method === 'GET' ? 'GET' : 'POST',
        publicBaseUrl: deps.publicUrls.http,
        requestUrl: request.url,
        ...(request.method === 'POST' ? { formParams: formParams(request) } : {}),
      });

    const answer = async (request: FastifyRequest, reply: FastifyReply) => {
      const verified = verify(request);
      if (!verified.ok) return reject(request, reply, 'plivo', verified);
      const params: CallbackParams = request.method === 'POST' ? formParams(request) : (request.query as CallbackParams);
      const callUuid = param(params, 'CallUUID');
      if (!callUuid) throw new HttpError(400, 'invalid_request', 'CallUUID is missing');
      const callId = (request.query as { callId?: string }).callId;
      try {
        const answered = manager.answer({
          carrier: 'plivo',
          callId,
          carrierCallId: callUuid,
          from: param(params, 'From') ?? 'unknown',
          to: param(params, 'To') ?? 'unknown',
        });
        return reply
          .type('text/xml')
          .send(plivoStreamXml({ streamUrl: answered.streamUrl, allowInsecure: deps.publicUrls.ws.startsWith('ws:') }));
      } catch (error) {
        request.log.warn({ callId, callUuid, err: error instanceof Error ? error.message : String(error) }, 'cannot answer call');
        return reply.type('text/xml').send(plivoHangupXml());
      }
    };
    app.post('/answer', answer);
    app.post('/plivo/answer', answer);

    app.post('/plivo/status', async (request, reply) => {
      const verified = verify(request);
      if (!verified.ok) return reject(request, reply, 'plivo', verified);
      const update = parsePlivoStatusCallback(formParams(request));
      const record = manager.applyStatus(update, (request.query as { callId?: string }).callId);
      if (!record) request.log.warn({ callUuid: update.carrierCallId }, 'status callback for an unknown call');
      return reply.code(204).send();
    });
  }
}
