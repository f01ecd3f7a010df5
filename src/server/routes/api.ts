import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CallManager } from '../call-manager.ts';
import type { CallStore } from '../../store/index.ts';
import { HttpError } from '../http-error.ts';

/** E.164 number, or a SIP URI where the carrier can dial one. */
const phoneNumber = z
  .string()
  .trim()
  .refine(
    (v) => /^\+[1-9]\d{6,14}$/.test(v) || /^sips?:[^\s@]+@[^\s]+$/.test(v),
    'must be an E.164 number like +15551230000 or a sip: URI',
  );

/** Custom call data: any JSON object up to 64 KB (it is stored with the call and templated into prompts). */
const MAX_METADATA_BYTES = 64 * 1024;
const metadataObject = z.record(z.string(), z.unknown());

function checkMetadataSize(metadata: unknown): void {
  const size = Buffer.byteLength(JSON.stringify(metadata ?? {}));
  if (size > MAX_METADATA_BYTES) {
    throw new HttpError(413, 'metadata_too_large', `call data is ${size} bytes; the limit is ${MAX_METADATA_BYTES}`);
  }
}

const placeCallBody = z.strictObject({
  to: phoneNumber,
  from: phoneNumber.optional(),
  carrier: z.enum(['twilio', 'plivo']).optional(),
  agent: z.string().min(1).optional(),
  metadata: metadataObject.optional(),
});

const dialoutBody = z.object({ to_number: phoneNumber, from_number: phoneNumber.optional() });
const plivoStartBody = z.object({
  phone_number: phoneNumber,
  from_number: phoneNumber.optional(),
  body: z.unknown().optional(),
});

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().optional(),
  status: z.enum(['queued', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled']).optional(),
  direction: z.enum(['inbound', 'outbound']).optional(),
});

/** The public API: unified `/calls`, and the seed-compatible `/dialout` (Twilio) and `/start` (Plivo). */
export function registerApiRoutes(
  app: FastifyInstance,
  deps: {
    manager: CallManager;
    store: CallStore;
    defaultCarrier: 'twilio' | 'plivo';
    auth: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  },
): void {
  const { manager, store } = deps;
  const preHandler = deps.auth;

  app.post('/calls', { preHandler }, async (request, reply) => {
    const body = placeCallBody.parse(request.body);
    checkMetadataSize(body.metadata);
    const record = await manager.placeCall({
      carrier: body.carrier ?? deps.defaultCarrier,
      to: body.to,
      from: body.from,
      agent: body.agent,
      metadata: body.metadata,
    });
    return reply.code(201).send({ id: record.id, carrier: record.carrier, status: record.status, carrierCallId: record.carrierCallId });
  });

  app.get('/calls', { preHandler }, async (request) => {
    const query = listQuery.parse(request.query);
    return store.listCalls({
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
      ...(query.status !== undefined ? { status: query.status } : {}),
      ...(query.direction !== undefined ? { direction: query.direction } : {}),
    });
  });

  app.get<{ Params: { id: string } }>('/calls/:id', { preHandler }, async (request) => {
    const record = store.getCall(request.params.id);
    if (!record) throw new HttpError(404, 'call_not_found', `no call ${request.params.id}`);
    return record;
  });

  // Seed-compatible (Pipecat's Twilio outbound example): {to_number, from_number}.
  app.post('/dialout', { preHandler }, async (request) => {
    const body = dialoutBody.parse(request.body);
    const record = await manager.placeCall({
      carrier: 'twilio',
      to: body.to_number,
      from: body.from_number,
      metadata: { to_number: body.to_number, ...(body.from_number ? { from_number: body.from_number } : {}) },
    });
    return { id: record.id, call_sid: record.carrierCallId, status: record.status, to_number: body.to_number, from_number: record.from };
  });

  // Seed-compatible (Pipecat's Plivo outbound example): {phone_number, body}; `body` is any JSON and reaches the bot.
  app.post('/start', { preHandler }, async (request) => {
    const parsed = plivoStartBody.parse(request.body);
    const data = parsed.body ?? {};
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new HttpError(400, 'invalid_request', 'body must be a JSON object');
    }
    checkMetadataSize(data);
    const record = await manager.placeCall({
      carrier: 'plivo',
      to: parsed.phone_number,
      from: parsed.from_number,
      metadata: data as Record<string, unknown>,
    });
    const placed = record.events.find((e) => e.type === 'carrier.placed')?.data as { requestId?: string } | undefined;
    return { id: record.id, request_uuid: placed?.requestId ?? null, status: record.status, phone_number: parsed.phone_number };
  });
}
