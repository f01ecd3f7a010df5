/**
 * A local Twilio: REST API for calls, status callbacks, TwiML, Media Streams, with simulated callees.
 *
 * ```ts
 * const twilio = await startTwilioEmulator();
 * const client = twilioClientFor(twilio);           // the official SDK, pointed here
 * const call = await client.calls.create({ to: '+15550100001', from: '+15550009999', url: 'http://127.0.0.1:3000/twiml' });
 * await twilio.waitForCall(call.sid, 'completed');
 * await twilio.close();
 * ```
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '../../../log.ts';
import type { CalleeVoice } from '../../../sandbox/callees/callee-voice.ts';
import { parsePersona, type Persona } from '../../../sandbox/callees/persona.ts';
import { PersonaRegistry } from '../../../sandbox/callees/persona-registry.ts';
import type { SpeechSink } from '../../../sandbox/callees/simulated-callee.ts';
import type { EmulatedCallRecord } from '../../../sandbox/carriers/shared/call-record.ts';
import type { CallContext } from '../../../sandbox/carriers/shared/emulated-call.ts';
import { emulatorStats, type EmulatorStats } from '../../../sandbox/carriers/shared/emulator-stats.ts';
import { BodyTooLargeError, isHttpUrl, sendJson } from '../../../sandbox/carriers/shared/http-util.ts';
import { secretToken } from '../../../sandbox/carriers/shared/ids.ts';
import { twilioSid } from './ids.ts';
import { MediaClock } from '../../../sandbox/carriers/shared/media-clock.ts';
import { handleTwilioRest, type CreateCallParams } from './rest-api.ts';
import { twilioError } from './rest-errors.ts';
import { TwilioCall, type TwilioStatusEvent } from './twilio-call.ts';
import { ConferenceRooms } from './conference.ts';
import type { HttpMethod } from './twiml.ts';

export interface TwilioEmulatorOptions {
  /** Account SID the REST API accepts. @default a random `AC…` */
  accountSid?: string;
  /** Auth token for REST auth and webhook signatures. @default a random 32-character token */
  authToken?: string;
  /** Which persona answers which number. @default a registry with the built-in personas */
  personas?: PersonaRegistry;
  /** On `clear`, echo the marks that were still pending, as Twilio does. @default true */
  clearEchoesMarks?: boolean;
  /** Multiplies ringing, answer delays, persona pauses and ring timeouts (media stays real-time). @default 1 */
  timeScale?: number;
  /** Keep each call's audio (callee said / bot heard) for WAV export. @default true */
  recordAudio?: boolean;
  /** Voice for all simulated parties. @default each persona's eSpeak voice */
  voice?: CalleeVoice;
  /** Where callee lines are registered. @default the process-wide speech registry */
  speech?: SpeechSink;
  /** @default silent */
  logger?: Logger;
  /** Timeout of each webhook request. @default 15000 (Twilio's) */
  webhookTimeoutMs?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** The 20 ms clock (share one between emulators to serve all calls in one wake-up). @default a new clock */
  clock?: MediaClock;
}

export interface InboundCallOptions {
  /** The caller (the simulated party; its persona comes from this number unless `persona` is given). */
  from: string;
  /** Our number being called. */
  to: string;
  /** Our voice webhook. */
  voiceUrl: string;
  /** @default 'POST' */
  voiceMethod?: HttpMethod;
  statusCallback?: string;
  /** @default ['completed'] */
  statusCallbackEvents?: TwilioStatusEvent[];
  /** @default 'POST' */
  statusCallbackMethod?: HttpMethod;
  /** Persona of the caller. @default the persona registered for `from` */
  persona?: Persona;
}

export interface TwilioEmulator {
  /** Base URL (`http://127.0.0.1:<port>`); REST paths start with `/2010-04-01`. */
  readonly url: string;
  readonly accountSid: string;
  readonly authToken: string;
  /** Every call so far, by CallSid (live objects: `call.record` is the inspectable record). */
  readonly calls: ReadonlyMap<string, TwilioCall>;
  readonly personas: PersonaRegistry;
  readonly clock: MediaClock;
  /** Conference rooms (`<Dial><Conference>`): `history` has every conference with its participants. */
  readonly conferences: ConferenceRooms;
  /** A call to our number: requests `voiceUrl` and runs the TwiML it returns. */
  placeInboundCall(options: InboundCallOptions): TwilioCall;
  /** Resolves when call `sid` has reached (or passed through) `status`. */
  waitForCall(sid: string, status: string | string[], timeoutMs?: number): Promise<EmulatedCallRecord>;
  /** Calls `listener` for every new call; returns the unsubscribe function. */
  onCall(listener: (call: TwilioCall) => void): () => void;
  /** Counters over all calls so far (late frames, marks, protocol errors, failed webhooks, clock accuracy). */
  stats(): EmulatorStats;
  /** Ends every live call, waits for their callbacks, stops the clock and the server. */
  close(): Promise<void>;
}

export async function startTwilioEmulator(options: TwilioEmulatorOptions = {}): Promise<TwilioEmulator> {
  const accountSid = options.accountSid ?? twilioSid('AC');
  const authToken = options.authToken ?? secretToken(32);
  const personas = options.personas ?? new PersonaRegistry();
  const log = (options.logger ?? silentLogger()).child({ emulator: 'twilio' });
  const clock = options.clock ?? new MediaClock({ onListenerError: (error) => log.error({ err: error }, 'media tick failed') });
  const context: CallContext = {
    clock,
    log,
    timeScale: options.timeScale ?? 1,
    recordAudio: options.recordAudio ?? true,
    voice: options.voice,
    speech: options.speech,
    personas,
  };
  const calls = new Map<string, TwilioCall>();
  const listeners = new Set<(call: TwilioCall) => void>();

  const addCall = (call: TwilioCall): TwilioCall => {
    calls.set(call.id, call);
    for (const listener of listeners) listener(call);
    call.begin();
    return call;
  };

  const conferences = new ConferenceRooms();
  const common = {
    conferences,
    accountSid,
    authToken,
    clearEchoesMarks: options.clearEchoesMarks ?? true,
    webhookTimeoutMs: options.webhookTimeoutMs ?? 15_000,
  };

  const createCall = (params: CreateCallParams): TwilioCall =>
    addCall(
      new TwilioCall(context, {
        ...common,
        ...params,
        direction: 'outbound-api',
        persona: personas.lookup(params.to),
      }),
    );

  const server: Server = createServer((req, res) => {
    handleTwilioRest(
      { accountSid, authToken, createCall, getCall: (sid) => calls.get(sid), listCalls: () => [...calls.values()] },
      req,
      res,
    ).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      if (error instanceof BodyTooLargeError) return sendJson(res, 413, twilioError(413, 20001, error.message).body);
      log.error({ err: error }, 'REST request failed');
      sendJson(res, 500, twilioError(500, 20500, 'Internal Server Error').body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.address}:${address.port}`;

  return {
    url,
    accountSid,
    authToken,
    calls,
    personas,
    clock,
    conferences,
    placeInboundCall(inbound) {
      if (!isHttpUrl(inbound.voiceUrl)) throw new Error(`placeInboundCall: voiceUrl ${inbound.voiceUrl} is not an http(s) URL`);
      const persona = inbound.persona ? parsePersona(inbound.persona) : personas.lookup(inbound.from);
      return addCall(
        new TwilioCall(context, {
          ...common,
          from: inbound.from,
          to: inbound.to,
          direction: 'inbound',
          url: inbound.voiceUrl,
          method: inbound.voiceMethod ?? 'POST',
          twiml: null,
          fallbackUrl: null,
          fallbackMethod: 'POST',
          statusCallback: inbound.statusCallback ?? null,
          statusCallbackMethod: inbound.statusCallbackMethod ?? 'POST',
          statusCallbackEvents: new Set(inbound.statusCallbackEvents ?? ['completed']),
          timeoutSec: 60,
          machineDetection: false,
          asyncAmdStatusCallback: null,
          asyncAmdStatusCallbackMethod: 'POST',
          persona,
        }),
      );
    },
    waitForCall(sid, status, timeoutMs) {
      const call = calls.get(sid);
      if (!call) return Promise.reject(new Error(`waitForCall: no call ${sid}`));
      return call.waitForStatus(status, timeoutMs);
    },
    stats() {
      return emulatorStats(
        [...calls.values()].map((c) => c.record),
        clock,
      );
    },
    onCall(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      for (const call of calls.values()) call.terminate('emulator-closed');
      conferences.closeAll();
      await Promise.all([...calls.values()].map((call) => call.callbacksSettled()));
      if (!options.clock) clock.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
