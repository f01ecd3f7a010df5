import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CallbackParams } from '../callback-params.ts';
import { formParams, param } from '../callback-params.ts';
import type { CarrierRouteContext } from '../carrier-adapter.ts';
import { phoneNumberOrSipUri } from '../phone-number.ts';
import type { TwilioRuntime } from './runtime.ts';
import { TWILIO } from './settings.ts';
import { parseTwilioStatusCallback } from './status-callback.ts';

const dialoutBody = z.object({ to_number: phoneNumberOrSipUri, from_number: phoneNumberOrSipUri.optional() });

/**
 * Twilio's routes: answer TwiML for outbound (`/twiml?callId=`) and inbound calls (`/twilio/voice`, POST or GET as
 * Twilio allows either for voice webhooks), status callbacks (POST or GET), and Pipecat's seed route `POST /dialout`.
 */
export function registerTwilioRoutes(app: FastifyInstance, context: CarrierRouteContext<TwilioRuntime>): void {
  const { calls } = context;

  const twiml = async (request: FastifyRequest, reply: FastifyReply) => {
    const twilio = context.carrier();
    const verified = twilio.verifyWebhook(request);
    if (!verified.ok) return context.rejectWebhook(request, reply, verified);
    const params: CallbackParams = request.method === 'POST' ? formParams(request) : (request.query as CallbackParams);
    const callSid = param(params, 'CallSid');
    if (!callSid) return reply.code(400).send({ error: 'invalid_request', message: 'CallSid is missing' });
    const callId = (request.query as { callId?: string }).callId;
    try {
      const answered = calls.answer({
        carrier: TWILIO,
        callId,
        carrierCallId: callSid,
        from: param(params, 'From') ?? 'unknown',
        to: param(params, 'To') ?? 'unknown',
      });
      return reply.type('text/xml').send(
        twilio.streamMarkup({
          streamUrl: answered.streamUrl,
          callId: answered.callId,
          to: answered.record.to,
          from: answered.record.from ?? '',
        }),
      );
    } catch (error) {
      // Twilio needs valid TwiML whatever happened: hang up cleanly, say why in the log.
      request.log.warn({ callId, callSid, err: error instanceof Error ? error.message : String(error) }, 'cannot answer call');
      return reply.type('text/xml').send(twilio.hangupMarkup());
    }
  };
  for (const path of ['/twiml', '/twilio/voice']) {
    app.post(path, twiml);
    app.get(path, twiml);
  }

  // Status callbacks: POST, or GET when a number's StatusCallbackMethod says so (the parameters are then in the query).
  const status = async (request: FastifyRequest, reply: FastifyReply) => {
    const twilio = context.carrier();
    const verified = twilio.verifyWebhook(request);
    if (!verified.ok) return context.rejectWebhook(request, reply, verified);
    const params: CallbackParams = request.method === 'POST' ? formParams(request) : (request.query as CallbackParams);
    const update = parseTwilioStatusCallback(params);
    const record = calls.applyStatus(update, (request.query as { callId?: string }).callId);
    if (!record) request.log.warn({ callSid: update.carrierCallId }, 'status callback for an unknown call');
    return reply.code(204).send();
  };
  app.post('/twilio/status', status);
  app.get('/twilio/status', status);

  // Asynchronous answering-machine detection: `AnsweredBy` is human, machine_start/machine_end_*, fax or unknown.
  app.post('/twilio/amd', async (request, reply) => {
    const twilio = context.carrier();
    const verified = twilio.verifyWebhook(request);
    if (!verified.ok) return context.rejectWebhook(request, reply, verified);
    const params = formParams(request);
    const callSid = param(params, 'CallSid');
    const answeredBy = param(params, 'AnsweredBy');
    if (!callSid || !answeredBy) return reply.code(400).send({ error: 'invalid_request', message: 'CallSid and AnsweredBy are required' });
    calls.carrierAnsweredBy({
      carrier: TWILIO,
      carrierCallId: callSid,
      callId: (request.query as { callId?: string }).callId,
      answeredBy: answeredBy === 'human' ? 'human' : answeredBy.startsWith('machine') || answeredBy === 'fax' ? 'machine' : 'unknown',
      detail: answeredBy,
    });
    return reply.code(204).send();
  });

  // Seed-compatible (Pipecat's Twilio outbound example): {to_number, from_number}.
  app.post('/dialout', context.apiJsonRoute, async (request) => {
    context.carrier();
    const body = dialoutBody.parse(request.body);
    const record = await calls.placeCall({
      carrier: TWILIO,
      to: body.to_number,
      from: body.from_number,
      metadata: { to_number: body.to_number, ...(body.from_number ? { from_number: body.from_number } : {}) },
    });
    return { id: record.id, call_sid: record.carrierCallId, status: record.status, to_number: body.to_number, from_number: record.from };
  });
}
