/**
 * Property-based fuzzing of every parser that takes web input (issue 10): carrier webhook forms (Twilio voice,
 * status and AMD callbacks; Plivo answer, status and AMD callbacks), the API's JSON bodies (`POST /calls`,
 * `/dialout`, `/start`), and the helpers under them (form parser, nesting check, status-callback parsers, URL
 * redaction). Properties: no throw escapes (the only errors are our typed 4xx ones), no 5xx, every 4xx says why,
 * and nothing is logged at error level.
 *
 * Inputs come from a seeded generator (below), so a failure reproduces: the seed and the input are in the
 * message. `SWITCHBOARD_FUZZ_SEED` picks another seed, `SWITCHBOARD_FUZZ_SCALE` multiplies the run counts. Each
 * parser's run count is printed at the end. Carriers' REST APIs are local recording servers: a valid placement
 * "dials" nothing. Requests go through `app.inject` (Fastify's whole request path without a socket) for volume.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { SwitchboardError } from '../../../src/errors.ts';
import { createLogger, redactUrl } from '../../../src/log.ts';
import { DEFAULT_BODY_LIMITS, jsonDepthOver, parseForm } from '../../../src/server/body-parsers.ts';
import { startSwitchboard, type RunningSwitchboard } from '../../../src/server/start.ts';
import { StatusCallbackError } from '../../../src/telephony/call-status.ts';
import { plivoSignatureHeaders } from '../../../src/telephony/plivo/emulator/signature.ts';
import { parsePlivoStatusCallback } from '../../../src/telephony/plivo/status-callback.ts';
import { parseTwilioStatusCallback } from '../../../src/telephony/twilio/status-callback.ts';
import { startRecordingServer, type RecordingServer } from '../../telephony/recording-server.ts';

const SEED = Number(process.env.SWITCHBOARD_FUZZ_SEED ?? 20261202);
const SCALE = Number(process.env.SWITCHBOARD_FUZZ_SCALE ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const counts: Record<string, number> = {};
const count = (name: string) => (counts[name] = (counts[name] ?? 0) + 1);

/** mulberry32: small, fast, and the same sequence for the same seed. */
class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

const NUMBERS = ['0', '-1', '1e308', '-1e308', '1e-320', 'NaN', 'Infinity', '9007199254740993', '0x10', '1.5', '٣', ''];
const STRINGS = [
  '',
  ' ',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  '+15550100001',
  '15550100001',
  'sip:agent@example.com',
  '%',
  '%FF%FE',
  '%E0%A4',
  '\u0000',
  '\uD800',
  '😀',
  '<Response/>',
  "'; DROP TABLE calls; --",
  '../../etc/passwd',
  'CA' + 'a'.repeat(32),
  '0f8f1f8c-6c2e-4c47-9c2a-6f3d2c1b0a99',
];
const TWILIO_STATUSES = ['queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled'];
const PLIVO_STATUSES = ['ringing', 'in-progress', 'completed', 'busy', 'failed', 'timeout', 'no-answer', 'cancel', 'early-media'];
const TWILIO_FIELDS = [
  'CallSid',
  'CallStatus',
  'From',
  'To',
  'Timestamp',
  'CallDuration',
  'SequenceNumber',
  'ErrorCode',
  'ErrorMessage',
  'SipResponseCode',
  'AnsweredBy',
  'Direction',
  'AccountSid',
];
const PLIVO_FIELDS = [
  'CallUUID',
  'CallStatus',
  'From',
  'To',
  'StartTime',
  'AnswerTime',
  'EndTime',
  'Duration',
  'HangupCause',
  'HangupCauseName',
  'HangupCauseCode',
  'Machine',
  'RequestUUID',
  'ALegRequestUUID',
  'Direction',
  'Event',
];

function randomText(r: Random, maxLength = 40): string {
  switch (r.int(5)) {
    case 0:
      return r.pick(STRINGS);
    case 1:
      return r.pick(NUMBERS);
    case 2: {
      let s = '';
      const n = r.int(maxLength);
      for (let i = 0; i < n; i++) s += String.fromCharCode(32 + r.int(95));
      return s;
    }
    case 3: {
      let s = '';
      const n = r.int(maxLength / 4);
      for (let i = 0; i < n; i++) s += String.fromCodePoint(r.chance(0.1) ? 0x1f600 + r.int(50) : r.int(0xd7ff));
      return s;
    }
    default:
      return r.pick(STRINGS) + r.pick(NUMBERS) + r.pick(STRINGS);
  }
}

type Form = Record<string, string | string[]>;

/** A callback form: mostly the carrier's own fields with good or bad values, sometimes repeated, plus junk fields. */
function randomForm(r: Random, fields: readonly string[], statuses: readonly string[]): Form {
  const form: Form = {};
  for (const field of fields) {
    if (r.chance(0.3)) continue;
    const value = field === 'CallStatus' && r.chance(0.6) ? r.pick(statuses) : r.chance(0.3) ? r.pick(STRINGS) : randomText(r);
    form[field] = r.chance(0.05) ? [value, randomText(r)] : value;
  }
  const junk = r.chance(0.2) ? r.int(150) : r.int(4);
  for (let i = 0; i < junk; i++) form[randomText(r, 12) || `k${i}`] = randomText(r);
  return form;
}

function formBody(form: Form): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  return params.toString();
}

/** Any JSON value, nested up to `depth`. */
function randomJson(r: Random, depth: number): unknown {
  const kind = depth <= 0 ? r.int(4) : r.int(7);
  switch (kind) {
    case 0:
      return randomText(r);
    case 1:
      return r.pick([0, -0, 1.5, -1, 1e308, -1e308, 2 ** 53 + 1, 5e-324]);
    case 2:
      return r.pick([true, false, null]);
    case 3:
      return r.pick(STRINGS);
    case 4:
      return Array.from({ length: r.int(5) }, () => randomJson(r, depth - 1));
    case 5: {
      // Deep chains, past the nesting limit now and then.
      let value: unknown = randomJson(r, 0);
      const levels = r.chance(0.5) ? r.int(40) : r.int(3000);
      for (let i = 0; i < levels; i++) value = r.chance(0.5) ? { a: value } : [value];
      return value;
    }
    default: {
      const object: Record<string, unknown> = {};
      for (let i = r.int(5); i > 0; i--) object[r.chance(0.2) ? r.pick(STRINGS) : randomText(r, 10)] = randomJson(r, depth - 1);
      return object;
    }
  }
}

/** An API body: the route's own fields with good or bad values, sometimes junk, sometimes not an object at all. */
function randomApiBody(r: Random, fields: readonly string[]): string {
  if (r.chance(0.05)) return randomText(r, 200); // not JSON
  if (r.chance(0.05)) return JSON.stringify(randomJson(r, 3));
  const body: Record<string, unknown> = {};
  for (const field of fields) {
    if (r.chance(0.25)) continue;
    body[field] = r.chance(0.5) ? r.pick(['+15550100001', '+442071838750', 'sip:bob@example.com', '15550100001']) : randomJson(r, 3);
  }
  if (r.chance(0.1)) body[r.pick(['__proto__', 'constructor', 'extra', 'carrier'])] = randomJson(r, 2);
  if (r.chance(0.05)) body.metadata = { blob: 'x'.repeat(r.int(80_000)) };
  let text = JSON.stringify(body);
  if (r.chance(0.05)) text = text.slice(0, r.int(text.length)); // truncated
  return text;
}

/** Errors a parser may throw on bad input: our own typed ones, with a 4xx to answer. */
function isTypedRequestError(error: unknown): boolean {
  return error instanceof SwitchboardError && error.httpStatus !== null && error.httpStatus >= 400 && error.httpStatus < 500;
}

describe('parsers, fuzzed directly', () => {
  it('parseForm: any bytes → parameters, or a 413 for too many; never anything else', () => {
    const r = new Random(SEED);
    for (let i = 0; i < runs(5000); i++) {
      count('parseForm');
      let body = '';
      const pieces = r.int(r.chance(0.1) ? 400 : 20);
      for (let j = 0; j < pieces; j++) body += r.pick(['&', '=', '%', '+', '%2', '%FF', '%C3%A9', '&&', '==']) + randomText(r, 8);
      try {
        const params = parseForm(body);
        expect(Object.keys(params).length).toBeLessThanOrEqual(DEFAULT_BODY_LIMITS.formParameters);
      } catch (error) {
        expect(isTypedRequestError(error), `seed ${SEED} input ${JSON.stringify(body)}`).toBe(true);
      }
    }
  });

  it('jsonDepthOver agrees with a recursive depth count on any JSON value', () => {
    const r = new Random(SEED + 1);
    const depthOf = (value: unknown): number =>
      typeof value === 'object' && value !== null ? 1 + Math.max(0, ...Object.values(value).map(depthOf)) : 0;
    for (let i = 0; i < runs(3000); i++) {
      count('jsonDepthOver');
      let value = randomJson(r, 4);
      if (r.chance(0.3)) for (let j = r.int(60); j > 0; j--) value = { x: value };
      const depth = depthOf(value);
      expect(jsonDepthOver(value, 32), `seed ${SEED + 1}`).toBe(depth > 32);
    }
  });

  it('status-callback parsers: a normalised update, or a StatusCallbackError (400); never a crash', () => {
    const r = new Random(SEED + 2);
    for (let i = 0; i < runs(5000); i++) {
      for (const [name, parse, fields, statuses] of [
        ['parseTwilioStatusCallback', parseTwilioStatusCallback, TWILIO_FIELDS, TWILIO_STATUSES],
        ['parsePlivoStatusCallback', parsePlivoStatusCallback, PLIVO_FIELDS, PLIVO_STATUSES],
      ] as const) {
        count(name);
        const form = randomForm(r, fields, statuses);
        try {
          const update = parse(form);
          expect(typeof update.carrierCallId).toBe('string');
          for (const date of [update.timestamp, update.startedAt, update.answeredAt, update.endedAt]) {
            if (date !== null) expect(Number.isNaN(date.getTime())).toBe(false);
          }
          if (update.durationSec !== null) expect(Number.isFinite(update.durationSec)).toBe(true);
        } catch (error) {
          expect(error, `${name} seed ${SEED + 2} input ${JSON.stringify(form)}`).toBeInstanceOf(StatusCallbackError);
        }
      }
    }
  });

  it('redactUrl: never throws, and no query value but callId survives', () => {
    const r = new Random(SEED + 3);
    for (let i = 0; i < runs(5000); i++) {
      count('redactUrl');
      const secret = `S3CR3T${i}x`;
      const key = r.pick(['token', 'api_key', 'key', 'callId', 'x', randomText(r, 6)]).replace(/[&=#%+]/g, '');
      const noise = r.chance(0.5) ? `${randomText(r, 6)}=${randomText(r)}&`.replace(/[&#]/g, '') + '&' : '';
      const url = `${r.pick(['/calls', '/ws', '/ws/abc.def', '/twilio/status', ''])}?${noise}${key}=${secret}${r.chance(0.3) ? '#frag' : ''}`;
      const redacted = redactUrl(url) as string;
      if (key !== 'callId') expect(redacted, url).not.toContain(secret);
      expect(redacted).not.toContain('abc.def');
    }
  });
});

describe('the HTTP surface, fuzzed', () => {
  const TWILIO_TOKEN = 'fuzz-twilio-token';
  const PLIVO_TOKEN = 'fuzz-plivo-token';
  let server: RunningSwitchboard;
  let carrierApi: RecordingServer;
  let dataDir: string;
  const errorLines: string[] = [];

  beforeAll(async () => {
    // Both carriers' REST APIs: every placement is accepted, nothing is dialled.
    let placed = 0;
    carrierApi = await startRecordingServer((request) => {
      const id = (++placed).toString(16).padStart(32, '0');
      return request.url.includes('/Accounts/')
        ? { status: 201, body: { sid: `CA${id}`, status: 'queued', to: '+15550100001', from: '+15550009999' } }
        : {
            status: 201,
            body: { api_id: 'a', message: 'call fired', request_uuid: `${id.slice(0, 8)}-${id.slice(8, 12)}-4000-8000-${id.slice(20)}` },
          };
    });
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-fuzz-'));
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          if ((JSON.parse(line) as { level: number }).level >= 50) errorLines.push(line);
        }
        done();
      },
    });
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      SWITCHBOARD_DATA_DIR: dataDir,
      TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
      TWILIO_PHONE_NUMBER: '+15550009999',
      TWILIO_API_BASE_URL: carrierApi.baseUrl,
      PLIVO_AUTH_ID: `MA${'A'.repeat(18)}`,
      PLIVO_AUTH_TOKEN: PLIVO_TOKEN,
      PLIVO_PHONE_NUMBER: '15550009998',
      PLIVO_API_BASE_URL: carrierApi.baseUrl,
      // Providers are configured but never reached: no call gets media here.
      DEEPGRAM_API_KEY: 'fuzz',
      DEEPGRAM_BASE_URL: 'http://127.0.0.1:9',
      GOOGLE_API_KEY: 'fuzz',
      GEMINI_BASE_URL: 'http://127.0.0.1:9',
      CARTESIA_API_KEY: 'fuzz',
      CARTESIA_BASE_URL: 'http://127.0.0.1:9',
    });
    server = await startSwitchboard({ config, log: createLogger({ level: 'info', destination }) });
  });

  afterAll(async () => {
    await server?.close();
    await carrierApi?.close();
    rmSync(dataDir, { recursive: true, force: true });
    process.stdout.write(
      `\nfuzz run counts (seed ${SEED}):\n${Object.entries(counts)
        .map(([name, n]) => `  ${name.padEnd(34)} ${n}`)
        .join('\n')}\n`,
    );
  });

  /** The properties every answer must have. */
  function check(label: string, response: { statusCode: number; body: string }, input: string): void {
    const where = `${label} seed ${SEED} input ${input.slice(0, 300)}`;
    expect(response.statusCode, where).toBeLessThan(500);
    if (response.statusCode >= 400) {
      const answer = JSON.parse(response.body) as { error?: string; message?: string; reason?: string };
      expect(answer.error, where).toEqual(expect.any(String));
      expect(answer.message ?? answer.reason, where).toEqual(expect.any(String));
    }
  }

  it('carrier webhooks: random forms, signed and forged, never a 5xx', async () => {
    const r = new Random(SEED + 4);
    const routes = [
      { path: '/twilio/status', carrier: 'twilio', fields: TWILIO_FIELDS, statuses: TWILIO_STATUSES },
      { path: '/twilio/voice', carrier: 'twilio', fields: TWILIO_FIELDS, statuses: TWILIO_STATUSES },
      { path: '/twiml?callId=call_000000000000000000000000', carrier: 'twilio', fields: TWILIO_FIELDS, statuses: TWILIO_STATUSES },
      { path: '/twilio/amd', carrier: 'twilio', fields: [...TWILIO_FIELDS, 'AnsweredBy'], statuses: TWILIO_STATUSES },
      { path: '/plivo/status', carrier: 'plivo', fields: PLIVO_FIELDS, statuses: PLIVO_STATUSES },
      { path: '/answer', carrier: 'plivo', fields: PLIVO_FIELDS, statuses: PLIVO_STATUSES },
      { path: '/plivo/answer', carrier: 'plivo', fields: PLIVO_FIELDS, statuses: PLIVO_STATUSES },
      { path: '/plivo/amd', carrier: 'plivo', fields: PLIVO_FIELDS, statuses: PLIVO_STATUSES },
    ] as const;
    let pastSignature = 0;
    let signed = 0;
    for (let i = 0; i < runs(150); i++) {
      for (const route of routes) {
        count(`POST ${route.path.split('?')[0]}`);
        const form = randomForm(r, route.fields, route.statuses);
        const body = r.chance(0.05) ? randomText(r, 300) : formBody(form);
        const sign = r.chance(0.7);
        const url = `${server.publicUrl}${route.path}`;
        const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
        if (sign) {
          signed++;
          const params = parseFormOrEmpty(body);
          if (route.carrier === 'twilio') headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, url, params);
          else Object.assign(headers, plivoSignatureHeaders('POST', url, params, PLIVO_TOKEN));
        } else if (r.chance(0.5)) {
          headers['x-twilio-signature'] = randomText(r);
          headers['x-plivo-signature-v3'] = randomText(r);
          headers['x-plivo-signature-v3-nonce'] = randomText(r);
        }
        const response = await server.app.inject({ method: 'POST', url: route.path, headers, payload: body });
        check(`POST ${route.path}`, response, body);
        if (sign && response.statusCode !== 403) pastSignature++;
      }
    }
    // Most signed forms got past the signature check, so the parsers behind it were exercised.
    expect(pastSignature / signed).toBeGreaterThan(0.5);
    counts['  (webhooks past the signature check)'] = pastSignature;
  });

  it('GET webhooks: random queries, signed, never a 5xx', async () => {
    const r = new Random(SEED + 5);
    for (let i = 0; i < runs(150); i++) {
      for (const [path, carrier, fields, statuses] of [
        ['/twilio/voice', 'twilio', TWILIO_FIELDS, TWILIO_STATUSES],
        ['/twilio/status', 'twilio', TWILIO_FIELDS, TWILIO_STATUSES],
        ['/plivo/answer', 'plivo', PLIVO_FIELDS, PLIVO_STATUSES],
      ] as const) {
        count(`GET ${path}`);
        const target = `${path}?${formBody(randomForm(r, fields, statuses))}`;
        const url = `${server.publicUrl}${target}`;
        const headers: Record<string, string> =
          carrier === 'twilio'
            ? { 'x-twilio-signature': twilio.getExpectedTwilioSignature(TWILIO_TOKEN, url, {}) }
            : plivoSignatureHeaders('GET', url, {}, PLIVO_TOKEN);
        check(`GET ${path}`, await server.app.inject({ method: 'GET', url: target, headers }), target);
      }
    }
  });

  it('API bodies: random JSON (and not JSON) to POST /calls, /dialout, /start, never a 5xx', async () => {
    const r = new Random(SEED + 6);
    const routes = [
      ['/calls', ['to', 'from', 'carrier', 'agent', 'metadata']],
      ['/dialout', ['to_number', 'from_number']],
      ['/start', ['phone_number', 'from_number', 'body']],
    ] as const;
    const statuses: Record<number, number> = {};
    for (let i = 0; i < runs(250); i++) {
      for (const [path, fields] of routes) {
        count(`POST ${path}`);
        const body = randomApiBody(r, fields);
        const type = r.chance(0.9)
          ? 'application/json'
          : r.pick(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8']);
        const response = await server.app.inject({ method: 'POST', url: path, headers: { 'content-type': type }, payload: body });
        statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
        check(`POST ${path}`, response, body);
      }
    }
    // Valid placements went through (to the recording carrier API), so the whole path ran, not just validation.
    expect(statuses[201] ?? 0).toBeGreaterThan(0);
    expect((statuses[200] ?? 0) + (statuses[201] ?? 0)).toBeGreaterThan(0);
  });

  it('nothing was logged at error level', () => {
    expect(errorLines).toEqual([]);
  });
});

function parseFormOrEmpty(body: string): Form {
  try {
    return { ...parseForm(body) };
  } catch {
    return {};
  }
}
