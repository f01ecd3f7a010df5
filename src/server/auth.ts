import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Bearer-key check for the API routes (`/calls`, `/dialout`, `/start`). Open when no key is configured.
 * Missing credentials → 401, wrong ones → 403; both say why and are logged without the key itself.
 */
export function requireApiKey(apiKey: string | undefined) {
  const expected = apiKey ? Buffer.from(apiKey) : undefined;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!expected) return;
    const header = request.headers.authorization;
    if (!header) {
      request.log.warn({ route: request.url }, 'API request rejected: no Authorization header');
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', message: 'Authorization: Bearer <SWITCHBOARD_API_KEY> is required' });
      return;
    }
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const given = match ? Buffer.from(match[1] as string) : Buffer.alloc(0);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      request.log.warn({ route: request.url }, 'API request rejected: wrong API key');
      await reply.code(403).send({ error: 'forbidden', message: 'API key is not valid' });
    }
  };
}
