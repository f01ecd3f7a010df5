/**
 * The dashboard's server side: the built app with its security headers, login to an HttpOnly SameSite=Strict
 * cookie that is not the key, session expiry, the sandbox numbers, and placing a call through the API with
 * the session.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentRegistry } from '../../../src/server/agent-registry.ts';
import { requireApiKey } from '../../../src/server/auth.ts';
import { registerDashboardRoutes, SESSION_COOKIE, type DashboardOptions } from '../../../src/server/routes/dashboard.ts';
import type { CarrierRuntime } from '../../../src/telephony/carrier-adapter.ts';
import { builtinCarriers } from '../../../src/telephony/registry.ts';
import { CarrierSet } from '../../../src/server/carrier-set.ts';

const API_KEY = 'dashboard-test-key-0123456789';
const SANDBOX_NUMBERS = [{ number: '+15550100001', persona: 'cooperative', description: 'Answers.', outcome: 'answer' }];

let assetsDir: string;
let app: FastifyInstance;
let logText: string;
let clock: number;
let placed: Array<{ body: unknown }>;

beforeAll(() => {
  assetsDir = mkdtempSync(join(tmpdir(), 'switchboard-dashboard-'));
  mkdirSync(join(assetsDir, 'assets'));
  writeFileSync(join(assetsDir, 'index.html'), '<!doctype html><script type="module" src="/dashboard/assets/index-abc123.js"></script>');
  writeFileSync(join(assetsDir, 'assets', 'index-abc123.js'), 'console.log("app")');
  writeFileSync(join(assetsDir, 'assets', 'index-abc123.css'), 'body{}');
});
afterAll(() => rmSync(assetsDir, { recursive: true, force: true }));
afterEach(() => app.close());

async function startApp(apiKey: string | undefined, options: { sandbox?: boolean; dashboard?: DashboardOptions } = {}) {
  logText = '';
  clock = Date.parse('2026-03-01T12:00:00Z');
  placed = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logText += chunk.toString();
      done();
    },
  });
  app = Fastify({ loggerInstance: pino({ level: 'info' }, sink) as FastifyBaseLogger });
  // Stands in for the API's POST /calls (routes/api.ts): same auth, answers what it was given.
  app.post('/calls', { preHandler: requireApiKey(apiKey) }, async (request, reply) => {
    placed.push({ body: request.body });
    return reply.code(201).send({ id: 'call_1', status: 'queued' });
  });
  registerDashboardRoutes(app, {
    apiKey,
    sandbox: options.sandbox ?? true,
    carriers: new CarrierSet(
      builtinCarriers.map((adapter) => ({ adapter, settings: {}, mode: 'emulated' as const, missing: [], runtime: {} as CarrierRuntime })),
    ),
    defaultCarrier: 'twilio',
    agents: new AgentRegistry(),
    dashboard: { assetsDir, sandboxNumbers: SANDBOX_NUMBERS, now: () => clock, ...options.dashboard },
  });
  await app.ready();
}

async function login(key: string) {
  return app.inject({ method: 'POST', url: '/dashboard/login', payload: { apiKey: key } });
}

function sessionCookieOf(response: { headers: Record<string, unknown> }): string {
  const header = String(response.headers['set-cookie']);
  return header.split(';')[0] as string;
}

describe('dashboard app', () => {
  it('serves the built page with a strict content security policy, and its hashed assets', async () => {
    await startApp(API_KEY);
    for (const url of ['/dashboard', '/dashboard/', '/dashboard/calls/call_123']) {
      const page = await app.inject(url);
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.body).toContain('/dashboard/assets/index-abc123.js');
      expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
      expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    }
    const script = await app.inject('/dashboard/assets/index-abc123.js');
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['cache-control']).toContain('immutable');
    expect((await app.inject('/dashboard/assets/index-abc123.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await app.inject('/dashboard/assets/nope.js')).statusCode).toBe(404);
    expect((await app.inject('/dashboard/assets/..%2F..%2Fpackage.json')).statusCode).toBe(404);
  });

  it('says how to build it when it is not built', async () => {
    await startApp(API_KEY, { dashboard: { assetsDir: join(assetsDir, 'missing') } });
    const page = await app.inject('/dashboard');
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain('npm run build:dashboard');
    expect(logText).toContain('dashboard not built');
  });
});

describe('dashboard login', () => {
  it('turns the right key into an HttpOnly SameSite=Strict session cookie that is not the key', async () => {
    await startApp(API_KEY);
    expect((await app.inject('/dashboard/api/session')).json()).toEqual({ authRequired: true, authenticated: false });

    const wrong = await login('not-the-key');
    expect(wrong.statusCode).toBe(403);
    expect(wrong.headers['set-cookie']).toBeUndefined();

    const ok = await login(API_KEY);
    expect(ok.statusCode).toBe(200);
    const setCookie = String(ok.headers['set-cookie']);
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=\\d+\\.[A-Za-z0-9_-]{43}; `));
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).toContain('Max-Age=43200');
    expect(setCookie).not.toContain(API_KEY);
    const cookie = sessionCookieOf(ok);
    expect((await app.inject({ url: '/dashboard/api/session', headers: { cookie } })).json()).toEqual({
      authRequired: true,
      authenticated: true,
    });

    // Twelve hours later the session has expired.
    clock += 12 * 60 * 60 * 1000 + 1;
    expect((await app.inject({ url: '/dashboard/api/session', headers: { cookie } })).json()).toMatchObject({ authenticated: false });
    expect(logText).toContain('dashboard login rejected: wrong API key');
    expect(logText).not.toContain(API_KEY);
    expect(logText).not.toContain(cookie.split('=')[1]);
  });

  it('logout clears the cookie', async () => {
    await startApp(API_KEY);
    const out = await app.inject({ method: 'POST', url: '/dashboard/logout' });
    expect(String(out.headers['set-cookie'])).toMatch(new RegExp(`^${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict`));
  });

  it('rejects a malformed login body with 4xx', async () => {
    await startApp(API_KEY);
    const response = await app.inject({ method: 'POST', url: '/dashboard/login', payload: { key: 'x' } });
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
  });
});

describe('dashboard JSON routes', () => {
  it('need the session: config lists the sandbox numbers, and calls are placed through the API with the key', async () => {
    await startApp(API_KEY);
    expect((await app.inject('/dashboard/api/config')).statusCode).toBe(401);
    const cookie = sessionCookieOf(await login(API_KEY));
    const config = await app.inject({ url: '/dashboard/api/config', headers: { cookie } });
    expect(config.json()).toEqual({
      sandbox: true,
      carriers: builtinCarriers.map((adapter) => adapter.name),
      defaultCarrier: 'twilio',
      agents: ['appointment-reminder'],
      sandboxNumbers: SANDBOX_NUMBERS,
    });

    const body = { to: '+15550100001', carrier: 'plivo', metadata: { name: 'Ada' } };
    expect((await app.inject({ method: 'POST', url: '/dashboard/api/calls', payload: body })).statusCode).toBe(401);
    const call = await app.inject({ method: 'POST', url: '/dashboard/api/calls', headers: { cookie }, payload: body });
    expect(call.statusCode).toBe(201);
    expect(call.json()).toEqual({ id: 'call_1', status: 'queued' });
    expect(placed).toEqual([{ body }]);

    // A cross-site form post cannot send JSON; anything else is refused before it reaches the API.
    const form = await app.inject({
      method: 'POST',
      url: '/dashboard/api/calls',
      headers: { cookie, 'content-type': 'text/plain' },
      payload: JSON.stringify(body),
    });
    expect(form.statusCode).toBe(415);
    expect(placed.length).toBe(1);
  });

  it('list no sandbox numbers outside sandbox mode', async () => {
    await startApp(API_KEY, { sandbox: false });
    const cookie = sessionCookieOf(await login(API_KEY));
    expect((await app.inject({ url: '/dashboard/api/config', headers: { cookie } })).json()).toMatchObject({
      sandbox: false,
      sandboxNumbers: [],
    });
  });

  it('are open without an API key, like the API', async () => {
    await startApp(undefined);
    expect((await app.inject('/dashboard/api/session')).json()).toEqual({ authRequired: false, authenticated: true });
    expect((await app.inject('/dashboard/api/config')).statusCode).toBe(200);
    const call = await app.inject({ method: 'POST', url: '/dashboard/api/calls', payload: { to: '+15550100002' } });
    expect(call.statusCode).toBe(201);
  });
});
