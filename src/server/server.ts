import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import type { Logger } from '../log.ts';
import type { CallStore } from '../store/index.ts';
import { CallStoreError } from '../store/index.ts';
import { JsonValueError } from '../store/json.ts';
import { StatusCallbackError } from '../telephony/call-status.ts';
import type { CarrierRouteContext } from '../telephony/carrier-adapter.ts';
import type { WebhookVerification } from '../telephony/webhook-verification.ts';
import type { AgentRegistry } from './agent-registry.ts';
import { requireApiKey } from './auth.ts';
import { DEFAULT_BODY_LIMITS, registerBodyParsers, requireJsonBody, type BodyLimits } from './body-parsers.ts';
import { CallManager } from './call-manager.ts';
import type { PrometheusCallMetrics } from './call-metrics.ts';
import type { AgentServices } from './call-services.ts';
import type { CarrierSet } from './carrier-set.ts';
import type { MediaLifecycleOptions } from './calls/media-lifecycle.ts';
import { HttpError } from '../errors.ts';
import type { PublicUrls } from '../telephony/public-urls.ts';
import { registerApiRoutes } from './routes/api.ts';
import { registerDashboardRoutes, type DashboardOptions } from './routes/dashboard.ts';
import { registerEventRoutes } from './routes/events.ts';
import { registerMediaRoutes } from './routes/media.ts';
import { registerRecordingRoutes } from './routes/recording.ts';
import { startRecordingRetention } from '../recording/retention.ts';

export interface ServerOptions {
  log: Logger;
  store: CallStore;
  agents: AgentRegistry;
  services: AgentServices;
  carriers: CarrierSet;
  defaultCarrier: string;
  /** Mutable: set `http`/`ws` after listening when the public URL depends on the bound port. */
  publicUrls: PublicUrls;
  apiKey?: string | undefined;
  mediaSecret?: string | undefined;
  metrics?: PrometheusCallMetrics;
  /** Shown on /healthz. */
  sandbox: boolean;
  /** Call recordings: folder, and days to keep them. @default none (calls are not recorded) */
  recordings?: { dir: string; retentionDays?: number | undefined };
  /** The live dashboard at /dashboard. @default no sandbox numbers, built assets from dist/dashboard */
  dashboard?: DashboardOptions;
  /** Request body bounds (form webhooks, JSON API). @default DEFAULT_BODY_LIMITS (see body-parsers.ts) */
  bodyLimits?: Partial<BodyLimits>;
  /** Media time limits (start, watchdog, shutdown). @default see {@link MediaLifecycleOptions} */
  media?: MediaLifecycleOptions;
}

export interface SwitchboardServer {
  app: FastifyInstance;
  manager: CallManager;
}

/** The Fastify app: public API, seed-compatible routes, carrier webhooks, media sockets, health, metrics. */
export async function createServer(options: ServerOptions): Promise<SwitchboardServer> {
  const app = Fastify({
    loggerInstance: options.log as FastifyBaseLogger,
    // Per-request lines would drown the per-call logs; calls log what matters themselves.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: DEFAULT_BODY_LIMITS.jsonBytes,
  });
  registerBodyParsers(app, { ...DEFAULT_BODY_LIMITS, ...options.bodyLimits });
  await app.register(websocket, { options: { maxPayload: 1024 * 1024 } });

  const manager = new CallManager({
    store: options.store,
    log: options.log,
    agents: options.agents,
    services: options.services,
    carriers: options.carriers,
    publicUrls: options.publicUrls,
    ...(options.mediaSecret ? { mediaSecret: options.mediaSecret } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.recordings ? { recordings: { dir: options.recordings.dir } } : {}),
    ...(options.media ? { media: options.media } : {}),
  });

  app.setErrorHandler(async (error, request, reply) => {
    if (error instanceof HttpError) {
      return reply.code(error.statusCode).send({ error: error.code, message: error.message, ...error.details });
    }
    if (error instanceof ZodError) {
      const message = error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      return reply.code(400).send({ error: 'invalid_request', message });
    }
    // Errors about the request itself carry the status to answer with (a carrier's or provider's status never does).
    if (isRequestError(error) && error.httpStatus !== null && error.httpStatus >= 400 && error.httpStatus < 500) {
      return reply.code(error.httpStatus).send({ error: error.code, message: error.message });
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply.code(status).send({ error: 'bad_request', message: (error as Error).message });
    }
    request.log.error({ err: error, route: request.url }, 'request failed');
    return reply.code(500).send({ error: 'internal_error', message: 'internal error' });
  });

  app.get('/healthz', async () => ({
    status: 'ok',
    sandbox: options.sandbox,
    activeCalls: manager.activeCalls,
    carriers: options.carriers.statuses(),
    agents: options.agents.names(),
  }));

  if (options.metrics) {
    const registry = options.metrics.registry;
    app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  }

  const apiAuth = requireApiKey(options.apiKey);
  // API routes that take a body: the key, then JSON only, both checked before the body is read.
  const apiJsonRoute = { onRequest: [apiAuth, requireJsonBody] };
  registerApiRoutes(app, {
    manager,
    store: options.store,
    defaultCarrier: options.defaultCarrier,
    auth: apiAuth,
    jsonRoute: apiJsonRoute,
  });
  // Each carrier registers its own webhooks and seed-compatible routes, live or not (unavailable ones answer 503).
  for (const adapter of options.carriers.adapters()) {
    const context: CarrierRouteContext = {
      log: options.log,
      publicUrls: options.publicUrls,
      calls: manager,
      carrier: () => options.carriers.runtime(adapter.name),
      apiAuth,
      apiJsonRoute,
      rejectWebhook: (request, reply, result) => rejectWebhook(request, reply, adapter.name, result),
    };
    adapter.registerRoutes?.(app, context);
  }
  registerMediaRoutes(app, manager);
  registerEventRoutes(app, options);
  registerDashboardRoutes(app, options);
  registerRecordingRoutes(app, { store: options.store, apiKey: options.apiKey });
  const retentionDays = options.recordings?.retentionDays;
  if (retentionDays !== undefined) {
    const retention = startRecordingRetention(options.store, retentionDays, { log: options.log });
    app.addHook('onClose', async () => retention.stop());
  }

  app.addHook('onClose', async () => {
    await manager.shutdown();
  });
  return { app, manager };
}

/** Errors that describe a bad request (their `httpStatus` is the one to answer with). */
function isRequestError(error: unknown): error is CallStoreError | StatusCallbackError | JsonValueError {
  return error instanceof CallStoreError || error instanceof StatusCallbackError || error instanceof JsonValueError;
}

/** Every carrier webhook is verified; a failure is a 403 with the reason, and a log line. */
async function rejectWebhook(
  request: FastifyRequest,
  reply: FastifyReply,
  carrier: string,
  result: WebhookVerification & { ok: false },
): Promise<void> {
  request.log.warn({ carrier, route: request.url, reason: result.reason }, 'carrier webhook rejected');
  await reply.code(403).send({ error: 'forbidden', reason: result.reason, message: result.message });
}
