import type { FastifyInstance } from 'fastify';
import { HttpError } from '../../errors.ts';
import type { CarrierRouteContext } from '../carrier-adapter.ts';
import { dailyEventEnvelope, dialEventOf } from './dial-events.ts';
import type { DailyRoomPropertiesInput } from './room-properties.ts';
import type { DailyRuntime } from './runtime.ts';
import { DAILY } from './settings.ts';
import { customData, dailyStartBody, isTestPing, pinlessWebhookBody } from './start-request.ts';

/**
 * Daily's routes: the signed pinless room-creation webhook (`POST /daily/dialin`), the signed `dialin.*`/`dialout.*`
 * event webhook (`POST /daily/events`), and Pipecat Cloud's start body (`POST /daily/start`) for dial-in and
 * dial-out. Every route that starts a call answers with its id.
 */
export function registerDailyRoutes(app: FastifyInstance, context: CarrierRouteContext<DailyRuntime>): void {
  const { calls } = context;

  const startDialIn = (
    daily: DailyRuntime,
    input: {
      callId: string;
      callDomain: string;
      from: string;
      to: string;
      metadata: Record<string, unknown>;
      roomProperties?: DailyRoomPropertiesInput | undefined;
    },
  ) => {
    calls.checkMetadata(input.metadata);
    const answered = calls.answer({
      carrier: DAILY,
      carrierCallId: input.callId,
      from: input.from,
      to: input.to,
      metadata: input.metadata,
    });
    void daily.startDialIn({
      callId: answered.callId,
      dailyCallId: input.callId,
      callDomain: input.callDomain,
      from: input.from,
      to: input.to,
      ...(input.roomProperties ? { roomProperties: input.roomProperties } : {}),
    });
    return { id: answered.callId, status: answered.record.status, callId: input.callId };
  };

  // Signed webhooks need the raw body: JSON is parsed here, after the signature check. Daily's webhooks are a
  // few hundred bytes (SIP headers included); 32 KB bounds what a forged one costs before it is refused.
  void app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 32 * 1024 }, (_request, body, done) => done(null, body));

    scope.post('/daily/dialin', async (request, reply) => {
      const daily = context.carrier();
      const raw = typeof request.body === 'string' ? request.body : '';
      const verified = daily.verifyPinless(request, raw);
      if (!verified.ok) return context.rejectWebhook(request, reply, verified);
      const json = parseJson(raw);
      if (isTestPing(json)) return reply.code(200).send({ ok: true });
      const body = pinlessWebhookBody.parse(json);
      return startDialIn(daily, {
        callId: body.callId,
        callDomain: body.callDomain,
        from: body.From,
        to: body.To,
        metadata: { from: body.From, to: body.To, ...(body.sipHeaders ? { sipHeaders: body.sipHeaders } : {}) },
      });
    });

    scope.post('/daily/events', async (request, reply) => {
      const daily = context.carrier();
      const raw = typeof request.body === 'string' ? request.body : '';
      const verified = daily.verifyEvent(request, raw);
      if (!verified.ok) return context.rejectWebhook(request, reply, verified);
      const json = parseJson(raw);
      if (isTestPing(json)) return reply.code(200).send({ ok: true });
      const event = dialEventOf(dailyEventEnvelope.parse(json));
      const callId = event ? daily.onDialEvent(event) : undefined;
      if (event && !callId) request.log.info({ type: event.type, room: event.room }, 'Daily event for no call of ours');
      return { ok: true, ...(callId ? { id: callId } : {}) };
    });
  });

  // Pipecat Cloud's start body: dial-in (a call Daily is holding) or dial-out (one call per target).
  app.post('/daily/start', context.apiJsonRoute, async (request, reply) => {
    const daily = context.carrier();
    const parsed = dailyStartBody.parse(request.body);
    const data = customData(parsed.body);
    const dialin = parsed.body.dialin_settings;
    if (dialin) {
      return startDialIn(daily, {
        callId: dialin.callId,
        callDomain: dialin.callDomain,
        from: dialin.from,
        to: dialin.to,
        metadata: { ...data, from: dialin.from, to: dialin.to, ...(dialin.sipHeaders ? { sipHeaders: dialin.sipHeaders } : {}) },
        roomProperties: parsed.dailyRoomProperties,
      });
    }
    const targets = [parsed.body.dialout_settings ?? []].flat();
    calls.checkMetadata(data);
    const placed = [];
    for (const target of targets) {
      const record = await calls.placeCall({
        carrier: DAILY,
        to: target.to,
        from: target.callerId,
        metadata: data,
        ...(parsed.dailyRoomProperties ? { carrierOptions: { roomProperties: parsed.dailyRoomProperties } } : {}),
      });
      placed.push({ id: record.id, status: record.status, to: target.to, room: record.carrierCallId });
    }
    const first = placed[0];
    if (!first) throw new HttpError(400, 'invalid_request', 'dialout_settings is empty');
    return reply.code(200).send({ ...first, calls: placed });
  });
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new HttpError(400, 'invalid_request', 'body is not JSON');
  }
}
