/**
 * Property-based fuzzing of every parser that takes web input (issue 10): carrier webhook forms (Twilio voice,
 * status and AMD callbacks; Plivo answer, status and AMD callbacks), the API's JSON bodies (`POST /calls`,
 * `/dialout`, `/start`), and the helpers under them (form parser, nesting check, status-callback parsers, URL
 * redaction). Properties: no throw escapes (the only errors are our typed 4xx ones), no 5xx, every 4xx says why,
 * and nothing is logged at error level.
 *
 * Inputs come from fast-check arbitraries with a fixed seed, so a failure reproduces and is shrunk to a small
 * counterexample (fast-check prints the seed and the path). `FUZZ_SEED` picks another seed, `FUZZ_SCALE`
 * multiplies the run counts. Each parser's run count is printed at the end. Carriers' REST APIs are local recording servers: a valid placement
 * "dials" nothing. Requests go through `app.inject` (Fastify's whole request path without a socket) for volume.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
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

const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
/** fast-check settings of one property: its run count, the seed, and no time-based interruption. */
const settings = (n: number, offset: number) => ({ numRuns: runs(n), seed: SEED + offset });
/** Per-test time allowance, growing with the scale (a loaded machine runs a few hundred requests a second). */
const TIME = { timeout: 60_000 * Math.max(1, SCALE) };
const counts: Record<string, number> = {};
const count = (name: string) => (counts[name] = (counts[name] ?? 0) + 1);

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

/** Text of every troublesome kind: known-bad strings and numbers, printable ASCII, any code point, mixes. */
function text(maxLength = 40): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...STRINGS),
    fc.constantFrom(...NUMBERS),
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength: Math.ceil(maxLength / 4) }),
    fc.tuple(fc.constantFrom(...STRINGS), fc.constantFrom(...NUMBERS), fc.constantFrom(...STRINGS)).map((parts) => parts.join('')),
  );
}

type Form = Record<string, string | string[]>;

/** A callback form: the carrier's own fields (any subset) with good or bad values, sometimes repeated, plus junk fields. */
function formArb(fields: readonly string[], statuses: readonly string[]): fc.Arbitrary<Form> {
  const value = (field: string): fc.Arbitrary<string | string[]> => {
    const one = field === 'CallStatus' ? fc.oneof(fc.constantFrom(...statuses), text()) : text();
    return fc.oneof({ weight: 19, arbitrary: one }, { weight: 1, arbitrary: fc.tuple(one, text()).map(([a, b]) => [a, b]) });
  };
  const own = fc.record(Object.fromEntries(fields.map((field) => [field, value(field)])), { requiredKeys: [] });
  const junk = fc.oneof(
    { weight: 4, arbitrary: fc.dictionary(text(12), text(), { maxKeys: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(text(12), text(), { maxKeys: 150 }) },
  );
  return fc.tuple(own, junk).map(([o, j]) => ({ ...j, ...o }) as Form);
}

function formBody(form: Form): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  return params.toString();
}

/** A chain of single-key objects and arrays around a leaf, up to `maxLevels` deep. */
function deepChain(maxLevels: number): fc.Arbitrary<unknown> {
  return fc.tuple(fc.nat(maxLevels), fc.jsonValue({ maxDepth: 1 }), fc.boolean()).map(([levels, leaf, arrays]) => {
    let value: unknown = leaf;
    for (let i = 0; i < levels; i++) value = arrays && i % 2 === 0 ? [value] : { a: value };
    return value;
  });
}

/** An API body: the route's own fields with good or bad values, sometimes junk, sometimes not an object, not JSON. */
function apiBodyArb(fields: readonly string[], valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string> {
  const fieldValue = fc.oneof(
    fc.constantFrom('+15550100001', '+442071838750', 'sip:bob@example.com', '15550100001'),
    fc.jsonValue({ maxDepth: 3 }),
    deepChain(40),
    deepChain(3000),
    text(),
  );
  const object = fc
    .tuple(
      fc.record(Object.fromEntries(fields.map((field) => [field, fieldValue])), { requiredKeys: [] }),
      fc.option(fc.tuple(fc.constantFrom('__proto__', 'constructor', 'extra', 'carrier'), fc.jsonValue({ maxDepth: 2 }))),
      fc.option(fc.nat(80_000), { freq: 20 }),
    )
    .map(([fieldsBody, extra, blob]) => {
      const body: Record<string, unknown> = { ...fieldsBody };
      // defineProperty: a `__proto__` key stays a key (and reaches the wire) instead of setting the prototype.
      if (extra) Object.defineProperty(body, extra[0], { value: extra[1], enumerable: true, writable: true, configurable: true });
      if (blob !== null) body.metadata = { blob: 'x'.repeat(blob) };
      return JSON.stringify(body);
    });
  return fc.oneof(
    { weight: 4, arbitrary: valid.map((body) => JSON.stringify(body)) },
    { weight: 14, arbitrary: object },
    { weight: 1, arbitrary: text(200) }, // not JSON
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: fc.tuple(object, fc.nat()).map(([json, cut]) => json.slice(0, cut % (json.length + 1))) }, // truncated
  );
}

/** Errors a parser may throw on bad input: our own typed ones, with a 4xx to answer. */
function isTypedRequestError(error: unknown): boolean {
  return error instanceof SwitchboardError && error.httpStatus !== null && error.httpStatus >= 400 && error.httpStatus < 500;
}

describe('parsers, fuzzed directly', () => {
  it('parseForm: any bytes → parameters, or a 413 for too many; never anything else', TIME, () => {
    const piece = fc.tuple(fc.constantFrom('&', '=', '%', '+', '%2', '%FF', '%C3%A9', '&&', '=='), text(8)).map(([a, b]) => a + b);
    const body = fc.oneof(
      { weight: 9, arbitrary: fc.array(piece, { maxLength: 20 }) },
      { weight: 1, arbitrary: fc.array(piece, { maxLength: 400 }) },
    );
    fc.assert(
      fc.property(body, (pieces) => {
        count('parseForm');
        try {
          const params = parseForm(pieces.join(''));
          expect(Object.keys(params).length).toBeLessThanOrEqual(DEFAULT_BODY_LIMITS.formParameters);
        } catch (error) {
          expect(isTypedRequestError(error)).toBe(true);
        }
      }),
      settings(5000, 0),
    );
  });

  it('jsonDepthOver agrees with a recursive depth count on any JSON value', TIME, () => {
    const depthOf = (value: unknown): number =>
      typeof value === 'object' && value !== null ? 1 + Math.max(0, ...Object.values(value).map(depthOf)) : 0;
    const value = fc.tuple(fc.jsonValue({ maxDepth: 4 }), fc.nat(60)).map(([inner, levels]) => {
      let v: unknown = inner;
      for (let i = 0; i < levels; i++) v = { x: v };
      return v;
    });
    fc.assert(
      fc.property(value, (v) => {
        count('jsonDepthOver');
        expect(jsonDepthOver(v, 32)).toBe(depthOf(v) > 32);
      }),
      settings(3000, 1),
    );
  });

  for (const [name, parse, fields, statuses, offset] of [
    ['parseTwilioStatusCallback', parseTwilioStatusCallback, TWILIO_FIELDS, TWILIO_STATUSES, 2],
    ['parsePlivoStatusCallback', parsePlivoStatusCallback, PLIVO_FIELDS, PLIVO_STATUSES, 3],
  ] as const) {
    it(`${name}: a normalised update, or a StatusCallbackError (400); never a crash`, TIME, () => {
      fc.assert(
        fc.property(formArb(fields, statuses), (form) => {
          count(name);
          try {
            const update = parse(form);
            expect(typeof update.carrierCallId).toBe('string');
            for (const date of [update.timestamp, update.startedAt, update.answeredAt, update.endedAt]) {
              if (date !== null) expect(Number.isNaN(date.getTime())).toBe(false);
            }
            if (update.durationSec !== null) expect(Number.isFinite(update.durationSec)).toBe(true);
          } catch (error) {
            expect(error).toBeInstanceOf(StatusCallbackError);
          }
        }),
        settings(5000, offset),
      );
    });
  }

  it('redactUrl: never throws, and no query value but callId survives', TIME, () => {
    const clean = (t: string) => t.replace(/[&=#%+?]/g, '');
    const url = fc.record({
      path: fc.constantFrom('/calls', '/ws', '/ws/abc.def', '/twilio/status', ''),
      noise: fc.option(fc.tuple(text(6), text()).map(([k, v]) => `${clean(k)}=${clean(v)}&`)),
      key: fc.oneof(fc.constantFrom('token', 'api_key', 'key', 'callId', 'x'), text(6).map(clean)),
      secret: fc.stringMatching(/^[A-Za-z0-9]{12,20}$/).map((s) => `S3CR3T${s}`),
      fragment: fc.boolean(),
    });
    fc.assert(
      fc.property(url, ({ path, noise, key, secret, fragment }) => {
        count('redactUrl');
        const redacted = redactUrl(`${path}?${noise ?? ''}${key}=${secret}${fragment ? '#frag' : ''}`) as string;
        if (key !== 'callId') expect(redacted).not.toContain(secret);
        expect(redacted).not.toContain('abc.def');
      }),
      settings(5000, 4),
    );
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
  function check(response: { statusCode: number; body: string }): void {
    expect(response.statusCode).toBeLessThan(500);
    if (response.statusCode >= 400) {
      const answer = JSON.parse(response.body) as { error?: string; message?: string; reason?: string };
      expect(answer.error).toEqual(expect.any(String));
      expect(answer.message ?? answer.reason).toEqual(expect.any(String));
    }
  }

  const WEBHOOKS = [
    { path: '/twilio/status', carrier: 'twilio', fields: TWILIO_FIELDS, statuses: TWILIO_STATUSES },
    { path: '/twilio/voice', carrier: 'twilio', fields: TWILIO_FIELDS, statuses: TWILIO_STATUSES },
    { path: '/twiml?callId=call_000000000000000000000000', carrier: 'twilio', fields: TWILIO_FIELDS, statuses: TWILIO_STATUSES },
    { path: '/twilio/amd', carrier: 'twilio', fields: TWILIO_FIELDS, statuses: TWILIO_STATUSES },
    { path: '/plivo/status', carrier: 'plivo', fields: PLIVO_FIELDS, statuses: PLIVO_STATUSES },
    { path: '/answer', carrier: 'plivo', fields: PLIVO_FIELDS, statuses: PLIVO_STATUSES },
    { path: '/plivo/answer', carrier: 'plivo', fields: PLIVO_FIELDS, statuses: PLIVO_STATUSES },
    { path: '/plivo/amd', carrier: 'plivo', fields: PLIVO_FIELDS, statuses: PLIVO_STATUSES },
  ] as const;

  it('carrier webhooks: random forms, signed and forged, never a 5xx', TIME, async () => {
    let signed = 0;
    let pastSignature = 0;
    const input = fc.record({
      route: fc.constantFrom(...WEBHOOKS),
      twilioForm: formArb(TWILIO_FIELDS, TWILIO_STATUSES),
      plivoForm: formArb(PLIVO_FIELDS, PLIVO_STATUSES),
      raw: fc.option(text(300), { freq: 20 }),
      signing: fc.constantFrom('signed', 'signed', 'signed', 'forged', 'none'),
      forged: fc.tuple(text(), text(), text()),
    });
    await fc.assert(
      fc.asyncProperty(input, async ({ route, twilioForm, plivoForm, raw, signing, forged }) => {
        count(`POST ${route.path.split('?')[0]}`);
        const body = raw ?? formBody(route.carrier === 'twilio' ? twilioForm : plivoForm);
        const url = `${server.publicUrl}${route.path}`;
        const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
        if (signing === 'signed') {
          signed++;
          const params = parseFormOrEmpty(body);
          if (route.carrier === 'twilio') headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, url, params);
          else Object.assign(headers, plivoSignatureHeaders('POST', url, params, PLIVO_TOKEN));
        } else if (signing === 'forged') {
          [headers['x-twilio-signature'], headers['x-plivo-signature-v3'], headers['x-plivo-signature-v3-nonce']] = forged;
        }
        const response = await server.app.inject({ method: 'POST', url: route.path, headers, payload: body });
        check(response);
        if (signing === 'signed' && response.statusCode !== 403) pastSignature++;
      }),
      settings(1200, 5),
    );
    // Most signed forms got past the signature check, so the parsers behind it were exercised.
    expect(pastSignature / signed).toBeGreaterThan(0.5);
    counts['  (webhooks past the signature check)'] = pastSignature;
  });

  it('GET webhooks: random queries, signed, never a 5xx', TIME, async () => {
    const input = fc.record({
      route: fc.constantFrom(
        { path: '/twilio/voice', carrier: 'twilio' },
        { path: '/twilio/status', carrier: 'twilio' },
        { path: '/plivo/answer', carrier: 'plivo' },
      ),
      twilioForm: formArb(TWILIO_FIELDS, TWILIO_STATUSES),
      plivoForm: formArb(PLIVO_FIELDS, PLIVO_STATUSES),
    });
    await fc.assert(
      fc.asyncProperty(input, async ({ route, twilioForm, plivoForm }) => {
        count(`GET ${route.path}`);
        const target = `${route.path}?${formBody(route.carrier === 'twilio' ? twilioForm : plivoForm)}`;
        const url = `${server.publicUrl}${target}`;
        const headers: Record<string, string> =
          route.carrier === 'twilio'
            ? { 'x-twilio-signature': twilio.getExpectedTwilioSignature(TWILIO_TOKEN, url, {}) }
            : plivoSignatureHeaders('GET', url, {}, PLIVO_TOKEN);
        check(await server.app.inject({ method: 'GET', url: target, headers }));
      }),
      settings(450, 6),
    );
  });

  it('API bodies: random JSON (and not JSON) to POST /calls, /dialout, /start, never a 5xx', TIME, async () => {
    const statuses: Record<number, number> = {};
    const route = (path: string, fields: readonly string[], valid: fc.Arbitrary<Record<string, unknown>>) =>
      fc.record({ path: fc.constant(path), body: apiBodyArb(fields, valid) });
    const number = fc.constantFrom('+15550100001', '+442071838750', 'sip:bob@example.com');
    const data = fc.dictionary(text(10), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 });
    const input = fc.record({
      request: fc.oneof(
        route(
          '/calls',
          ['to', 'from', 'carrier', 'agent', 'metadata'],
          fc.record({ to: number, carrier: fc.constantFrom('twilio', 'plivo'), metadata: data }, { requiredKeys: ['to'] }),
        ),
        route('/dialout', ['to_number', 'from_number'], fc.record({ to_number: number })),
        route(
          '/start',
          ['phone_number', 'from_number', 'body'],
          fc.record({ phone_number: number, body: data }, { requiredKeys: ['phone_number'] }),
        ),
      ),
      type: fc.oneof(
        { weight: 9, arbitrary: fc.constant('application/json') },
        { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8') },
      ),
    });
    await fc.assert(
      fc.asyncProperty(input, async ({ request, type }) => {
        count(`POST ${request.path}`);
        const response = await server.app.inject({
          method: 'POST',
          url: request.path,
          headers: { 'content-type': type },
          payload: request.body,
        });
        statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
        check(response);
      }),
      settings(750, 7),
    );
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
