/**
 * The live dashboard: its built web app (`npm run build:dashboard` → `dist/dashboard/`), a login that turns the
 * API key into an HttpOnly session cookie, and the few JSON routes the app needs beside the server-sent events
 * (`routes/events.ts`).
 *
 * Sessions carry no server state: the cookie is `<expiry>.<HMAC-SHA256(API key, expiry)>`, so the key itself
 * never reaches the browser, and changing the key ends every session. The cookie is HttpOnly, SameSite=Strict
 * (never sent by another site's page, so no cross-site request can use it), and Secure over HTTPS. Without an
 * API key the dashboard is open, like the API.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { requireApiKey } from '../auth.ts';
import { HttpError } from '../../errors.ts';
import type { ServerOptions } from '../server.ts';

/** A number the sandbox carriers answer, listed in the dashboard's place-call form. */
export interface SandboxNumber {
  number: string;
  /** The persona's id, e.g. `cooperative`. */
  persona: string;
  description?: string;
  /** What happens when it rings: `answer`, `busy`, `no-answer`, `failed`. */
  outcome: string;
}

export interface DashboardOptions {
  /** Numbers listed in the place-call form; startSwitchboard fills this in sandbox mode only. @default [] */
  sandboxNumbers?: SandboxNumber[];
  /** Folder of the built web app. @default `dist/dashboard` in the package */
  assetsDir?: string;
  /** How long a login lasts. @default 43_200_000 (12 hours) */
  sessionTtlMs?: number;
  /** Clock for session expiry, ms since the epoch. @default Date.now */
  now?: () => number;
}

/** What the dashboard routes read from the server's options. */
export type DashboardServerOptions = Pick<ServerOptions, 'apiKey' | 'sandbox' | 'carriers' | 'defaultCarrier' | 'agents'> & {
  dashboard?: DashboardOptions | undefined;
};

export const SESSION_COOKIE = 'switchboard_session';
const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('../../../dist/dashboard/', import.meta.url));

type PreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** Stateless dashboard sessions signed with the API key. */
export class DashboardSessions {
  private readonly key: Buffer | undefined;

  constructor(
    apiKey: string | undefined,
    private readonly ttlMs: number = DEFAULT_SESSION_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.key = apiKey ? Buffer.from(apiKey) : undefined;
  }

  /** False when the server has no API key: everything is open. */
  get required(): boolean {
    return this.key !== undefined;
  }

  /** True when `given` is the API key (compared in constant time). */
  checkKey(given: string): boolean {
    if (!this.key) return true;
    const candidate = Buffer.from(given);
    return candidate.length === this.key.length && timingSafeEqual(candidate, this.key);
  }

  /** A new session token and its lifetime in seconds. */
  issue(): { token: string; maxAgeSec: number } {
    const expires = this.now() + this.ttlMs;
    return { token: `${expires}.${this.sign(expires)}`, maxAgeSec: Math.floor(this.ttlMs / 1000) };
  }

  /** True for an unexpired token this key signed. */
  verify(token: string | undefined): boolean {
    if (!this.key) return true;
    const match = token ? /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(token) : null;
    if (!match) return false;
    const expires = Number(match[1]);
    if (expires <= this.now()) return false;
    const expected = Buffer.from(this.sign(expires));
    const given = Buffer.from(match[2] as string);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** True when the request carries a valid session cookie (or no key is configured). */
  verifyRequest(request: FastifyRequest): boolean {
    return this.verify(readCookie(request.headers.cookie, SESSION_COOKIE));
  }

  private sign(expires: number): string {
    return createHmac('sha256', this.key ?? Buffer.alloc(0))
      .update(`switchboard-dashboard-session:${expires}`)
      .digest('base64url');
  }
}

/** The value of cookie `name` in a `Cookie` header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The API's auth, plus the dashboard's session cookie: `Authorization: Bearer <key>` when given (checked
 * exactly like the API), else a valid session cookie. For routes a browser opens itself (event streams, a
 * recording in an `<audio>` element), which cannot send an Authorization header.
 */
export function requireApiKeyOrSession(apiKey: string | undefined, sessions = new DashboardSessions(apiKey)): PreHandler {
  const bearer = requireApiKey(apiKey);
  return async (request, reply) => {
    if (!sessions.required) return;
    if (request.headers.authorization !== undefined) return bearer(request, reply);
    if (sessions.verifyRequest(request)) return;
    request.log.warn({ route: request.url }, 'request rejected: no API key and no valid dashboard session');
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send({ error: 'unauthorized', message: 'log in at /dashboard, or send Authorization: Bearer <SWITCHBOARD_API_KEY>' });
  };
}

const loginBody = z.strictObject({ apiKey: z.string().max(4096) });

const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/** Scripts, styles and data only from this server; no framing. Preact sets styles through the CSSOM, which this allows. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

interface Asset {
  body: Buffer;
  type: string;
}

/** The built app, read once: `index.html` and the hashed files under `assets/`. Undefined when not built. */
function loadAssets(dir: string): { index: Buffer; files: Map<string, Asset> } | undefined {
  const indexPath = join(dir, 'index.html');
  if (!existsSync(indexPath)) return undefined;
  const files = new Map<string, Asset>();
  const assetsDir = join(dir, 'assets');
  if (existsSync(assetsDir)) {
    for (const name of readdirSync(assetsDir)) {
      const path = join(assetsDir, name);
      if (!statSync(path).isFile()) continue;
      files.set(name, { body: readFileSync(path), type: MIME_TYPES[extname(name)] ?? 'application/octet-stream' });
    }
  }
  return { index: readFileSync(indexPath), files };
}

/** `/dashboard` (the app), its assets, login/logout, and its JSON routes. */
export function registerDashboardRoutes(app: FastifyInstance, options: DashboardServerOptions): void {
  const settings = options.dashboard ?? {};
  const sessions = new DashboardSessions(options.apiKey, settings.sessionTtlMs, settings.now);
  const auth = requireApiKeyOrSession(options.apiKey, sessions);
  const assetsDir = settings.assetsDir ?? DEFAULT_ASSETS_DIR;
  const assets = loadAssets(assetsDir);
  if (!assets) app.log.warn({ assetsDir }, 'dashboard not built: /dashboard answers 503 until `npm run build:dashboard` has run');

  const sendIndex = async (_request: FastifyRequest, reply: FastifyReply) => {
    if (!assets) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The dashboard is not built. Run `npm run build:dashboard` (npm install does it) and restart.');
    }
    return reply
      .type(MIME_TYPES['.html'] as string)
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(assets.index);
  };
  // The app routes on the client: every page under /dashboard is the same document.
  app.get('/dashboard', sendIndex);
  app.get('/dashboard/', sendIndex);
  app.get('/dashboard/calls/:id', sendIndex);

  app.get<{ Params: { file: string } }>('/dashboard/assets/:file', async (request, reply) => {
    const asset = assets?.files.get(request.params.file);
    if (!asset) return reply.code(404).send({ error: 'not_found', message: 'no such dashboard asset' });
    // Built file names carry a content hash, so they never change.
    return reply
      .type(asset.type)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .send(asset.body);
  });

  app.get('/dashboard/api/session', async (request) => ({
    authRequired: sessions.required,
    authenticated: sessions.verifyRequest(request),
  }));

  app.post('/dashboard/login', async (request, reply) => {
    const body = loginBody.safeParse(request.body);
    if (!body.success) throw new HttpError(400, 'invalid_request', 'send {"apiKey": "<SWITCHBOARD_API_KEY>"}');
    const { apiKey } = body.data;
    if (!sessions.required) return { authRequired: false, authenticated: true };
    if (!sessions.checkKey(apiKey)) {
      request.log.warn({ route: request.url }, 'dashboard login rejected: wrong API key');
      return reply.code(403).send({ error: 'forbidden', message: 'API key is not valid' });
    }
    const { token, maxAgeSec } = sessions.issue();
    return reply
      .header('set-cookie', sessionCookie(token, maxAgeSec, request.protocol === 'https'))
      .header('cache-control', 'no-store')
      .send({ authRequired: true, authenticated: true });
  });

  app.post('/dashboard/logout', async (request, reply) =>
    reply.header('set-cookie', sessionCookie('', 0, request.protocol === 'https')).send({ authenticated: false }),
  );

  /** What the app shows beside the calls: sandbox mode, carriers and agents to choose from, sandbox numbers. */
  app.get('/dashboard/api/config', { preHandler: auth }, async () => ({
    sandbox: options.sandbox,
    carriers: options.carriers.statuses().flatMap((carrier) => (carrier.mode === 'unavailable' ? [] : [carrier.name])),
    defaultCarrier: options.defaultCarrier,
    agents: options.agents.names(),
    sandboxNumbers: options.sandbox ? (settings.sandboxNumbers ?? []) : [],
  }));

  // Placing and paging calls goes through the public API itself (same validation, same answers), with the
  // key the session stands for: a browser cannot send the Authorization header the API asks for.
  const forward = async (request: FastifyRequest, reply: FastifyReply, method: 'GET' | 'POST', url: string) => {
    const response = await app.inject({
      method,
      url,
      headers: {
        ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
        ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
      },
      ...(method === 'POST' ? { payload: JSON.stringify(request.body ?? {}) } : {}),
    });
    return reply.code(response.statusCode).type('application/json; charset=utf-8').send(response.body);
  };
  app.get('/dashboard/api/calls', { preHandler: auth }, async (request, reply) => {
    const queryAt = request.url.indexOf('?');
    return forward(request, reply, 'GET', `/calls${queryAt >= 0 ? request.url.slice(queryAt) : ''}`);
  });
  app.post('/dashboard/api/calls', { preHandler: [requireJson, auth] }, async (request, reply) =>
    forward(request, reply, 'POST', '/calls'),
  );
}

/** Cookie-authenticated writes take JSON only: a cross-site page cannot send that without a CORS preflight. */
async function requireJson(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
    await reply.code(415).send({ error: 'unsupported_media_type', message: 'send JSON (content-type: application/json)' });
  }
}

function sessionCookie(token: string, maxAgeSec: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${maxAgeSec}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
