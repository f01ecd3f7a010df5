import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiJsonRouteOptions } from '../../telephony/carrier-adapter.ts';
import { z } from 'zod';
import type { CallManager } from '../call-manager.ts';
import type { CallStore } from '../../store/index.ts';
import { HttpError } from '../../errors.ts';
import { phoneNumberOrSipUri } from '../../telephony/phone-number.ts';
import { CALL_STATUSES } from '../../call-status.ts';

const metadataObject = z.record(z.string(), z.unknown());

/** Custom headers for carriers that send them (SIP `X-` headers): `X-` names, one-line values. */
const customHeaders = z
  .record(
    z.string().regex(/^X-[A-Za-z0-9-]{1,64}$/i, 'header names look like X-Customer-Id'),
    z
      .string()
      .max(1024)
      .refine((v) => !/[\r\n\0]/.test(v), 'header values are one line'),
  )
  .refine((headers) => Object.keys(headers).length <= 32, 'at most 32 headers');

const transferBody = z.strictObject({ to: phoneNumberOrSipUri, mode: z.enum(['cold', 'warm']).optional() });

const placeCallBody = z.strictObject({
  to: phoneNumberOrSipUri,
  from: phoneNumberOrSipUri.optional(),
  carrier: z.string().min(1).optional(),
  agent: z.string().min(1).optional(),
  metadata: metadataObject.optional(),
  headers: customHeaders.optional(),
  record: z.boolean().optional(),
});

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().optional(),
  status: z.enum(CALL_STATUSES).optional(),
  direction: z.enum(['inbound', 'outbound']).optional(),
});

/** The public API: unified `/calls` (carriers register their own seed-compatible routes). */
export function registerApiRoutes(
  app: FastifyInstance,
  deps: {
    manager: CallManager;
    store: CallStore;
    defaultCarrier: string;
    auth: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** Route options of API routes that take a JSON body (key check and JSON-only, before the body is read). */
    jsonRoute: ApiJsonRouteOptions;
  },
): void {
  const { manager, store } = deps;
  const preHandler = deps.auth;

  app.post('/calls', deps.jsonRoute, async (request, reply) => {
    const body = placeCallBody.parse(request.body);
    manager.checkMetadata(body.metadata);
    const record = await manager.placeCall({
      carrier: body.carrier ?? manager.carrierFor(body.to, deps.defaultCarrier),
      to: body.to,
      from: body.from,
      agent: body.agent,
      metadata: body.metadata,
      headers: body.headers,
      record: body.record,
    });
    return reply.code(201).send({ id: record.id, carrier: record.carrier, status: record.status, carrierCallId: record.carrierCallId });
  });

  // Hands a live call to another number or SIP URI through its carrier; answers with the outcome.
  app.post<{ Params: { id: string } }>('/calls/:id/transfer', { preHandler }, async (request) => {
    const body = transferBody.parse(request.body);
    return manager.transfer(request.params.id, body.to, body.mode === 'warm' ? { kind: 'warm' } : {});
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
}
