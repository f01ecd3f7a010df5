import type {} from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CallManager } from '../call-manager.ts';

/**
 * The media WebSocket. Carriers connect to `/ws/<token>` (the token is in the path because Twilio forbids
 * query strings on stream URLs); the carrier is recognised from its first messages. A socket without a valid
 * per-call token is refused with 403 before the upgrade.
 */
export function registerMediaRoutes(app: FastifyInstance, manager: CallManager): void {
  const refuse = async (request: FastifyRequest, reply: FastifyReply, reason: string) => {
    request.log.warn({ route: request.url.replace(/\/ws\/.+$/, '/ws/<token>'), reason }, 'media socket rejected');
    await reply.code(403).send({ error: 'forbidden', message: reason });
  };

  app.get(
    '/ws',
    {
      websocket: true,
      preValidation: async (request, reply) => refuse(request, reply, 'media token missing from the socket URL'),
    },
    () => {},
  );

  app.get<{ Params: { token: string } }>(
    '/ws/:token',
    {
      websocket: true,
      preValidation: async (request, reply) => {
        const verdict = manager.authorizeMedia((request.params as { token?: string }).token);
        if (!verdict.ok) return refuse(request, reply, verdict.reason);
        (request as FastifyRequest & { callId?: string }).callId = verdict.callId;
      },
    },
    (socket, request) => {
      const callId = (request as FastifyRequest & { callId?: string }).callId as string;
      manager.runMediaSocket(callId, socket).catch((error: unknown) => {
        request.log.error({ callId, err: error }, 'media session failed');
      });
    },
  );
}
