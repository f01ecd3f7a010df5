import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { formParams, param, type CallbackParams } from '../callback-params.ts';
import type { CarrierRouteContext } from '../carrier-adapter.ts';
import { phoneNumberOrSipUri } from '../phone-number.ts';
import { HttpError } from '../../errors.ts';
import type { PlivoRuntime } from './runtime.ts';
import { PLIVO } from './settings.ts';
import { parsePlivoStatusCallback } from './status-callback.ts';

const startBody = z.object({
  phone_number: phoneNumberOrSipUri,
  from_number: phoneNumberOrSipUri.optional(),
  body: z.unknown().optional(),
});

/**
 * Plivo's routes: answer XML for outbound (`/answer?callId=`) and inbound calls (`/plivo/answer`), ring/hangup
 * callbacks, and Pipecat's seed route `POST /start {phone_number, body}` whose `body` reaches the bot.
 */
export function registerPlivoRoutes(app: FastifyInstance, context: CarrierRouteContext<PlivoRuntime>): void {
  const { calls } = context;

  const answer = async (request: FastifyRequest, reply: FastifyReply) => {
    const plivo = context.carrier();
    const verified = plivo.verifyWebhook(request);
    if (!verified.ok) return context.rejectWebhook(request, reply, verified);
    const params: CallbackParams = request.method === 'POST' ? formParams(request) : (request.query as CallbackParams);
    const callUuid = param(params, 'CallUUID');
    if (!callUuid) return reply.code(400).send({ error: 'invalid_request', message: 'CallUUID is missing' });
    const callId = (request.query as { callId?: string }).callId;
    try {
      const answered = calls.answer({
        carrier: PLIVO,
        callId,
        carrierCallId: callUuid,
        from: param(params, 'From') ?? 'unknown',
        to: param(params, 'To') ?? 'unknown',
      });
      // Plivo → SIP (`POST /outbound-call`): the media goes over a SIP leg whose URI is looked up here by our call
      // id (from the signed answer URL), never taken from the request.
      if (callId && (request.query as { media?: string }).media === 'sip') {
        const sipUri = await calls.sipLeg(answered.callId, plivo.sipLegCarrier);
        return reply.type('text/xml').send(plivo.dialSipMarkup(sipUri));
      }
      return reply.type('text/xml').send(plivo.streamMarkup(answered.streamUrl));
    } catch (error) {
      request.log.warn({ callId, callUuid, err: error instanceof Error ? error.message : String(error) }, 'cannot answer call');
      return reply.type('text/xml').send(plivo.hangupMarkup());
    }
  };
  for (const path of ['/answer', '/plivo/answer']) {
    app.post(path, answer);
    app.get(path, answer);
  }

  // A transfer's XML (see PlivoRuntime.transfer): `<Dial>` the destination named in the signed URL.
  app.post('/plivo/transfer', async (request, reply) => {
    const plivo = context.carrier();
    const verified = plivo.verifyWebhook(request);
    if (!verified.ok) return context.rejectWebhook(request, reply, verified);
    const parsed = phoneNumberOrSipUri.safeParse((request.query as { to?: string }).to);
    if (!parsed.success) return reply.code(400).send({ error: 'invalid_request', message: 'to must be a phone number or SIP URI' });
    return reply.type('text/xml').send(plivo.dialMarkup(parsed.data));
  });

  app.post('/plivo/status', async (request, reply) => {
    const plivo = context.carrier();
    const verified = plivo.verifyWebhook(request);
    if (!verified.ok) return context.rejectWebhook(request, reply, verified);
    const update = parsePlivoStatusCallback(formParams(request));
    const record = calls.applyStatus(update, (request.query as { callId?: string }).callId);
    if (!record) request.log.warn({ callUuid: update.carrierCallId }, 'status callback for an unknown call');
    return reply.code(204).send();
  });

  // Answering-machine detection (`machine_detection=true`): `Machine` is `true` or `false`.
  app.post('/plivo/amd', async (request, reply) => {
    const plivo = context.carrier();
    const verified = plivo.verifyWebhook(request);
    if (!verified.ok) return context.rejectWebhook(request, reply, verified);
    const params = formParams(request);
    const callUuid = param(params, 'CallUUID');
    const machine = param(params, 'Machine');
    if (!callUuid || !machine) return reply.code(400).send({ error: 'invalid_request', message: 'CallUUID and Machine are required' });
    calls.carrierAnsweredBy({
      carrier: PLIVO,
      carrierCallId: callUuid,
      callId: (request.query as { callId?: string }).callId,
      answeredBy: machine === 'true' ? 'machine' : machine === 'false' ? 'human' : 'unknown',
      detail: `Machine=${machine}`,
    });
    return reply.code(204).send();
  });

  /**
   * The seed-compatible Plivo routes: `{phone_number, from_number?, body?}`; `body` is any JSON object and reaches
   * the bot as the call's metadata. Answers with our id and Plivo's request id, as the seeds expect.
   */
  const placeSeedCall = async (requestBody: unknown, media?: 'sip') => {
    context.carrier();
    const parsed = startBody.parse(requestBody);
    const data = parsed.body ?? {};
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new HttpError(400, 'invalid_request', 'body must be a JSON object');
    }
    calls.checkMetadata(data);
    const record = await calls.placeCall({
      carrier: PLIVO,
      to: parsed.phone_number,
      from: parsed.from_number,
      metadata: data as Record<string, unknown>,
      ...(media ? { media } : {}),
    });
    const placed = record.events.find((e) => e.type === 'carrier.placed')?.data as { requestId?: string } | undefined;
    return { id: record.id, request_uuid: placed?.requestId ?? null, status: record.status, phone_number: parsed.phone_number };
  };

  // Pipecat's Plivo → SIP example: the callee is bridged to a SIP URI that reaches the bot (our own SIP endpoint,
  // or a room of another carrier: PLIVO_SIP_LEG_CARRIER).
  app.post('/outbound-call', context.apiJsonRoute, async (request) => placeSeedCall(request.body, 'sip'));

  // Pipecat's Plivo outbound example: the callee is streamed to the bot.
  app.post('/start', context.apiJsonRoute, async (request) => placeSeedCall(request.body));
}
