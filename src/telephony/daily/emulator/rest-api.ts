/**
 * The emulator's REST surface (`/v1/…`), with Daily's error bodies: 401 `authentication-error`, 404 `not-found`,
 * 400 `invalid-request-error`, each with `info`. Bodies are validated as strictly as we know Daily does; where
 * Daily's exact wording is unknown the `info` text is ours.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, safeEqual, sendJson } from '../../../sandbox/carriers/shared/http-util.ts';
import type { DailyRoomProperties, DomainDialinConfig } from '../rest-client.ts';
import { roomJson, type EmulatedRoom } from './daily-room.ts';
import type { DailyEmulator } from './emulator.ts';
import { RoomMixer } from './room.ts';

type Json = Record<string, unknown>;

const invalid = (res: ServerResponse, info: string) => sendJson(res, 400, { error: 'invalid-request-error', info });
const notFound = (res: ServerResponse, info: string) => sendJson(res, 404, { error: 'not-found', info });

const ROOM_NAME = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_EXP_SEC = 365 * 24 * 3600;

export async function handleDailyRest(emu: DailyEmulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const path = url.pathname.replace(/^\/v1/, '').replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';

  // Sandbox-only (not Daily's API): "someone dials the Daily number".
  if (method === 'POST' && path === '/sandbox/dialin') {
    const body = await jsonBody(req, res);
    if (!body) return;
    const from = typeof body.From === 'string' ? body.From : typeof body.from === 'string' ? body.from : undefined;
    if (!from) return invalid(res, 'From is required');
    try {
      const caller = emu.placeDialIn({
        from,
        ...(typeof (body.To ?? body.to) === 'string' ? { to: (body.To ?? body.to) as string } : {}),
        ...(typeof body.room_creation_api === 'string' ? { roomCreationApi: body.room_creation_api } : {}),
        holdOnly: body.hold === true,
      });
      if (!caller.persona) return notFound(res, `no sandbox persona for ${from}`);
      return sendJson(res, 200, { callId: caller.callId, callDomain: caller.callDomain, From: caller.from, To: caller.to });
    } catch (error) {
      return invalid(res, error instanceof Error ? error.message : String(error));
    }
  }

  const auth = req.headers.authorization ?? '';
  if (!auth.startsWith('Bearer ') || !safeEqual(auth.slice(7), emu.apiKey)) {
    return sendJson(res, 401, { error: 'authentication-error', info: 'authorization header missing or API key invalid' });
  }

  if (path === '/rooms' && method === 'POST') return createRoom(emu, req, res);
  if (path === '/rooms' && method === 'GET') {
    const data = [...emu.rooms.values()].map((room) => roomJson(room, emu.domain, emu.sipHost));
    return sendJson(res, 200, { total_count: data.length, data });
  }
  const roomMatch = /^\/rooms\/([^/]+)(\/.*)?$/.exec(path);
  if (roomMatch) {
    const name = decodeURIComponent(roomMatch[1] as string);
    const room = emu.rooms.get(name);
    const sub = roomMatch[2] ?? '';
    if (!room) return notFound(res, `room ${name} not found`);
    if (sub === '' && method === 'GET') return sendJson(res, 200, roomJson(room, emu.domain, emu.sipHost));
    if (sub === '' && method === 'DELETE') {
      emu.deleteRoom(room);
      return sendJson(res, 200, { deleted: true, name });
    }
    if (method === 'POST' && sub.startsWith('/dialOut/')) return dialOut(emu, room, sub.slice('/dialOut/'.length), req, res);
    if (method === 'POST' && (sub === '/sipCallTransfer' || sub === '/sipRefer')) return transfer(emu, room, sub.slice(1), req, res);
    return notFound(res, `no route ${method} ${path}`);
  }
  if (path === '/meeting-tokens' && method === 'POST') {
    const body = await jsonBody(req, res);
    if (!body) return;
    const properties = (body.properties ?? {}) as Json;
    if (typeof properties !== 'object' || properties === null) return invalid(res, 'properties must be an object');
    if (properties.room_name !== undefined && typeof properties.room_name !== 'string') return invalid(res, 'room_name must be a string');
    const payload = Buffer.from(
      JSON.stringify({ r: properties.room_name, o: properties.is_owner === true, exp: properties.exp, iat: Math.floor(Date.now() / 1000) }),
    ).toString('base64url');
    const header = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');
    const signature = createHmac('sha256', emu.apiKey).update(`${header}.${payload}`).digest('base64url');
    return sendJson(res, 200, { token: `${header}.${payload}.${signature}` });
  }
  if (path === '/dialin/pinlessCallUpdate' && method === 'POST') {
    const body = await jsonBody(req, res);
    if (!body) return;
    const { callId, callDomain, sipUri } = body;
    if (typeof callId !== 'string' || typeof callDomain !== 'string' || typeof sipUri !== 'string') {
      return invalid(res, 'callId, callDomain and sipUri are required');
    }
    const caller = emu.held.get(callId);
    if (!caller || caller.callDomain !== callDomain) return notFound(res, `no call ${callId} on hold for domain ${callDomain}`);
    if (caller.bridgedTo) return invalid(res, `call ${callId} was already connected`);
    const user = /^(?:sips?:)?([^@;?]+)@/.exec(sipUri)?.[1];
    const room = [...emu.rooms.values()].find((r) => user !== undefined && r.endpointUsers.includes(user));
    if (!room) return notFound(res, `no room has the SIP endpoint ${sipUri}`);
    if (!caller.persona) return invalid(res, 'the caller has hung up');
    emu.bridgeHeldCaller(caller, room);
    return sendJson(res, 200, { ok: 'true' });
  }
  if (path === '/domain-dialin-config' && method === 'POST') {
    const body = await jsonBody(req, res);
    if (!body) return;
    if (body.type !== 'pinless_dialin' && body.type !== 'pin_dialin') return invalid(res, 'type must be pinless_dialin or pin_dialin');
    if (body.room_creation_api !== undefined && typeof body.room_creation_api !== 'string')
      return invalid(res, 'room_creation_api must be a URL');
    const config = {
      ...(body as unknown as DomainDialinConfig),
      hmac: typeof body.hmac === 'string' ? body.hmac : emu.pinlessHmac,
      id: randomUUID(),
    };
    emu.dialinConfigs.push(config);
    return sendJson(res, 200, config);
  }
  if (path === '/webhooks' && method === 'POST') return createWebhook(emu, req, res);
  if (path === '/webhooks' && method === 'GET')
    return sendJson(
      res,
      200,
      emu.webhooks.map((w) => ({ ...w, state: 'ACTIVE' })),
    );
  return notFound(res, `no route ${method} ${path}`);
}

async function jsonBody(req: IncomingMessage, res: ServerResponse): Promise<Json | undefined> {
  const text = await readBody(req);
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Json;
  } catch {
    // fall through
  }
  invalid(res, 'body must be a JSON object');
  return undefined;
}

async function createRoom(emu: DailyEmulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await jsonBody(req, res);
  if (!body) return;
  const name =
    typeof body.name === 'string'
      ? body.name
      : randomBytes(10)
          .toString('base64url')
          .replace(/[^A-Za-z0-9]/g, 'x');
  if (!ROOM_NAME.test(name)) return invalid(res, 'name may contain only A-Z, a-z, 0-9, - and _');
  if (emu.rooms.has(name)) return invalid(res, `a room named ${name} already exists`);
  const properties = (body.properties ?? {}) as DailyRoomProperties;
  if (typeof properties !== 'object' || properties === null) return invalid(res, 'properties must be an object');
  const sip = properties.sip;
  if (sip) {
    if (properties.exp === undefined) return invalid(res, 'rooms with sip need exp');
    if (properties.exp - Date.now() / 1000 > MAX_EXP_SEC) return invalid(res, 'exp must be within 365 days for PSTN/SIP rooms');
    const n = sip.num_endpoints ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 5) return invalid(res, 'sip.num_endpoints must be 1 to 5');
  }
  const room: EmulatedRoom = {
    id: randomUUID(),
    name,
    privacy: body.privacy === 'public' ? 'public' : 'private',
    createdAt: new Date(),
    properties,
    endpointUsers: sip ? Array.from({ length: sip.num_endpoints ?? 1 }, (_, i) => `${name}.${i}`) : [],
    mixer: new RoomMixer(emu.clock),
    deleted: false,
    sessions: new Map(),
    dialOuts: [],
    dtmfSent: [],
    transfers: [],
  };
  emu.rooms.set(name, room);
  if (typeof properties.exp === 'number') {
    const ms = properties.exp * 1000 - Date.now();
    if (ms > 0 && ms < 2 ** 31 - 1) emu.later(ms, () => emu.rooms.get(name) === room && emu.deleteRoom(room));
  }
  sendJson(res, 200, roomJson(room, emu.domain, emu.sipHost));
}

async function dialOut(emu: DailyEmulator, room: EmulatedRoom, action: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await jsonBody(req, res);
  if (!body) return;
  if (action === 'start') {
    if (!room.properties.enable_dialout) return invalid(res, 'dial-out is not enabled for this room (enable_dialout)');
    const { phoneNumber, sipUri } = body;
    if (Boolean(phoneNumber) === Boolean(sipUri)) return invalid(res, 'provide either phoneNumber or sipUri');
    if (phoneNumber !== undefined && (typeof phoneNumber !== 'string' || !/^\+[1-9]\d{6,14}$/.test(phoneNumber))) {
      return invalid(res, 'phoneNumber must be E.164');
    }
    if (sipUri !== undefined && (typeof sipUri !== 'string' || !/^sips?:[^\s@]+@[^\s]+$/.test(sipUri)))
      return invalid(res, 'sipUri must be a sip: URI');
    if (room.sessions.size >= 5) return invalid(res, 'max_sip_pstn_sessions_per_room reached');
    const sessionId = emu.startDialOut(room, {
      ...(typeof phoneNumber === 'string' ? { phoneNumber } : {}),
      ...(typeof sipUri === 'string' ? { sipUri } : {}),
    });
    return sendJson(res, 200, { ok: 'true', sessionId });
  }
  const sessionId = body.sessionId;
  if (typeof sessionId !== 'string') return invalid(res, 'sessionId is required');
  const session = room.sessions.get(sessionId);
  if (action === 'stop') {
    if (!session) return notFound(res, `no dial-out session ${sessionId}`);
    session.stop('stopped by API');
    return sendJson(res, 200, { ok: 'true' });
  }
  if (action === 'sendDTMF') {
    if (!session) return notFound(res, `no dial-out session ${sessionId}`);
    const tones = body.tones;
    if (typeof tones !== 'string' || !/^[0-9*#A-Dw]+$/.test(tones)) return invalid(res, 'tones must be digits, *, #, A-D or w');
    room.dtmfSent.push({ sessionId, tones });
    const participant = room.mixer.live.find((p) => p.origin.sessionId === sessionId);
    if (participant?.kind === 'sip') participant.channel.sendDtmf?.(tones);
    else if (participant) participant.dtmfReceived.push(...tones);
    return sendJson(res, 200, { ok: 'true' });
  }
  return notFound(res, `no route dialOut/${action}`);
}

/**
 * `POST /rooms/:name/sipCallTransfer` and `/sipRefer` (body `{sessionId, toEndPoint, callerId?, extension?,
 * waitBeforeExtensionDialSec?}` as Daily documents them). `callerId` and `extension` only with a phone number; REFER
 * only to a SIP URI and only for a SIP participant (a guess: REFER is a SIP request to the participant's peer).
 * The answer body `{ok: "true"}` is a guess (Daily documents none).
 */
async function transfer(emu: DailyEmulator, room: EmulatedRoom, kind: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await jsonBody(req, res);
  if (!body) return;
  const { sessionId, toEndPoint, callerId, extension, waitBeforeExtensionDialSec } = body;
  if (typeof sessionId !== 'string' || typeof toEndPoint !== 'string') return invalid(res, 'sessionId and toEndPoint are required');
  const sip = /^sips?:[^\s@]+@[^\s]+$/.test(toEndPoint);
  const phone = /^\+[1-9]\d{6,14}$/.test(toEndPoint);
  if (!sip && !phone) return invalid(res, 'toEndPoint must be a sip: URI or an E.164 phone number');
  if (kind === 'sipRefer' && !sip) return invalid(res, 'sipRefer needs a sip: URI toEndPoint');
  if (callerId !== undefined && (typeof callerId !== 'string' || !phone))
    return invalid(res, 'callerId is only valid with a phone number toEndPoint');
  if (extension !== undefined && (typeof extension !== 'string' || extension.length > 20 || !phone)) {
    return invalid(res, 'extension (at most 20 characters) is only valid with a phone number toEndPoint');
  }
  if (waitBeforeExtensionDialSec !== undefined && typeof waitBeforeExtensionDialSec !== 'number') {
    return invalid(res, 'waitBeforeExtensionDialSec must be a number');
  }
  const participant = room.mixer.live.find((p) => p.origin.sessionId === sessionId);
  if (!participant) return notFound(res, `no session ${sessionId} in room ${room.name}`);
  if (kind === 'sipRefer' && participant.kind !== 'sip') return invalid(res, 'sipRefer needs a SIP participant');
  emu.transfer(room, participant, {
    kind: kind === 'sipRefer' ? 'sipRefer' : 'sipCallTransfer',
    toEndPoint,
    callerId: typeof callerId === 'string' ? callerId : null,
  });
  return sendJson(res, 200, { ok: 'true' });
}

async function createWebhook(emu: DailyEmulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await jsonBody(req, res);
  if (!body) return;
  if (typeof body.url !== 'string' || !/^https?:\/\//.test(body.url)) return invalid(res, 'url must be an http(s) URL');
  const hmac = typeof body.hmac === 'string' ? body.hmac : randomBytes(32).toString('base64');
  const eventTypes = Array.isArray(body.eventTypes) ? body.eventTypes.filter((t): t is string => typeof t === 'string') : undefined;
  // Daily checks a new webhook's URL with a test request and wants a 200.
  const testBody = JSON.stringify({ test: 'test' });
  const { dailySignature } = await import('../webhook-signature.ts');
  const status = await emu.post('webhook.test', body.url, testBody, (ts) => ({
    'x-webhook-timestamp': ts,
    'x-webhook-signature': dailySignature(hmac, ts, testBody),
  }));
  if (status !== 200) return invalid(res, `the webhook URL answered ${status ?? 'nothing'} to the test request (200 needed)`);
  const webhook = { uuid: randomUUID(), url: body.url, hmac, eventTypes };
  emu.webhooks.push(webhook);
  return sendJson(res, 200, { ...webhook, state: 'ACTIVE' });
}
