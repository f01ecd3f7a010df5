/**
 * A local Plivo: Voice REST API for calls, ring/hangup callbacks, answer XML, audio streams, with simulated
 * callees.
 *
 * ```ts
 * const plivoEmu = await startPlivoEmulator();
 * const { client, restore } = plivoClientFor(plivoEmu);   // the official SDK, routed here
 * const { requestUuid } = await client.calls.create('15550009999', '15550100001', 'http://127.0.0.1:3000/answer');
 * const call = await plivoEmu.waitForRequest(requestUuid);
 * await plivoEmu.waitForCall(call.id, 'completed');
 * restore(); await plivoEmu.close();
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
import { secretToken, uuid } from '../../../sandbox/carriers/shared/ids.ts';
import { plivoAuthId } from './ids.ts';
import { MediaClock } from '../../../sandbox/carriers/shared/media-clock.ts';
import type { WebhookMethod } from '../../../sandbox/carriers/shared/webhook.ts';
import { SipEndpoint } from '../../sip/sip-endpoint.ts';
import { PlivoCall, type PlivoCallInit } from './plivo-call.ts';
import { handlePlivoRest, type CreatePlivoCallParams } from './rest-api.ts';

export interface PlivoEmulatorOptions {
  /** Auth id the REST API accepts. @default a random `MA…` id */
  authId?: string;
  /** Auth token for REST auth and webhook signatures. @default a random 40-character token */
  authToken?: string;
  /** Which persona answers which number. @default a registry with the built-in personas */
  personas?: PersonaRegistry;
  /** Send `{"event":"stop"}` before closing a stream (Plivo's documented protocol just closes). @default false */
  sendStopEvent?: boolean;
  /** Multiplies ringing, answer delays, persona pauses and ring timeouts (media stays real-time). @default 1 */
  timeScale?: number;
  /** Keep each call's audio for WAV export. @default true */
  recordAudio?: boolean;
  /** Voice for all simulated parties. @default each persona's eSpeak voice */
  voice?: CalleeVoice;
  /** Where callee lines are registered. @default the process-wide speech registry */
  speech?: SpeechSink;
  /** @default silent */
  logger?: Logger;
  /** Timeout of each webhook request. @default 15000 */
  webhookTimeoutMs?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** The 20 ms clock (share one between emulators). @default a new clock */
  clock?: MediaClock;
}

export interface PlivoInboundCallOptions {
  /** The caller (the simulated party). */
  from: string;
  /** Our number being called. */
  to: string;
  answerUrl: string;
  /** @default 'POST' */
  answerMethod?: WebhookMethod;
  hangupUrl?: string;
  /** @default 'POST' */
  hangupMethod?: WebhookMethod;
  /** @default the persona registered for `from` */
  persona?: Persona;
}

export interface PlivoEmulator {
  /** Base URL (`http://127.0.0.1:<port>`); REST paths start with `/v1/Account/`. */
  readonly url: string;
  readonly authId: string;
  readonly authToken: string;
  /** Every call so far, by CallUUID. */
  readonly calls: ReadonlyMap<string, PlivoCall>;
  readonly personas: PersonaRegistry;
  readonly clock: MediaClock;
  placeInboundCall(options: PlivoInboundCallOptions): PlivoCall;
  /**
   * The (first) call created by a create-call request. Takes the SDK's `requestUuid` as is (a string, or an
   * array for several destinations: the first is used).
   */
  waitForRequest(requestUuid: string | string[], timeoutMs?: number): Promise<PlivoCall>;
  /** Resolves when the call (by CallUUID or request UUID) has reached or passed `status`. */
  waitForCall(id: string | string[], status: string | string[], timeoutMs?: number): Promise<EmulatedCallRecord>;
  onCall(listener: (call: PlivoCall) => void): () => void;
  /** Counters over all calls so far (late frames, marks, protocol errors, failed webhooks, clock accuracy). */
  stats(): EmulatorStats;
  close(): Promise<void>;
}

export async function startPlivoEmulator(options: PlivoEmulatorOptions = {}): Promise<PlivoEmulator> {
  const authId = options.authId ?? plivoAuthId();
  const authToken = options.authToken ?? secretToken(40);
  const personas = options.personas ?? new PersonaRegistry();
  const log = (options.logger ?? silentLogger()).child({ emulator: 'plivo' });
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
  const calls = new Map<string, PlivoCall>();
  const byRequest = new Map<string, PlivoCall[]>();
  const listeners = new Set<(call: PlivoCall) => void>();
  // `<Dial><User>` legs leave from the emulator's own SIP user agent (started on first use).
  let sip: Promise<SipEndpoint> | undefined;
  const sipEndpoint = (): Promise<SipEndpoint> => {
    sip ??= (async () => {
      const endpoint = new SipEndpoint(
        {
          bindAddress: options.host ?? '127.0.0.1',
          port: 0,
          rtpPortMin: 0,
          rtpPortMax: 0,
          codecs: ['PCMU'],
          userAgent: 'Switchboard Plivo emulator',
        },
        { logger: log },
      );
      endpoint.on('incoming', (call) => call.reject(403, 'Forbidden'));
      await endpoint.start();
      return endpoint;
    })();
    return sip;
  };
  const common = {
    authId,
    authToken,
    sendStopEvent: options.sendStopEvent ?? false,
    webhookTimeoutMs: options.webhookTimeoutMs ?? 15_000,
    dialSip: async (uri: string, from: string, ringTimeoutMs: number) =>
      (await sipEndpoint()).placeCall({ to: uri, from: from.replace(/^\+?/, '+'), ringTimeoutMs }),
  };

  const addCall = (init: PlivoCallInit): PlivoCall => {
    const call = new PlivoCall(context, init);
    calls.set(call.id, call);
    byRequest.set(init.requestUuid, [...(byRequest.get(init.requestUuid) ?? []), call]);
    for (const listener of listeners) listener(call);
    call.begin();
    return call;
  };

  const createCalls = (params: CreatePlivoCallParams, requestUuid: string): PlivoCall[] =>
    params.to.map((to) => addCall({ ...common, ...params, to, requestUuid, direction: 'outbound', persona: personas.lookup(to) }));

  const findCall = (id: string): PlivoCall | undefined => calls.get(id) ?? byRequest.get(id)?.[0];

  const server: Server = createServer((req, res) => {
    const backend = {
      authId,
      authToken,
      createCalls,
      getCall: (id: string) => calls.get(id),
      callsByRequest: (id: string) => byRequest.get(id) ?? [],
      liveCalls: () => [...calls.values()].filter((c) => !c.ended),
    };
    handlePlivoRest(backend, req, res).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      if (error instanceof BodyTooLargeError) return sendJson(res, 413, { api_id: uuid(), error: error.message });
      log.error({ err: error }, 'REST request failed');
      sendJson(res, 500, { api_id: uuid(), error: 'internal server error' });
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

  return {
    url: `http://${address.address}:${address.port}`,
    authId,
    authToken,
    calls,
    personas,
    clock,
    placeInboundCall(inbound) {
      if (!isHttpUrl(inbound.answerUrl)) throw new Error(`placeInboundCall: answerUrl ${inbound.answerUrl} is not an http(s) URL`);
      return addCall({
        ...common,
        requestUuid: uuid(),
        from: inbound.from,
        to: inbound.to,
        direction: 'inbound',
        answerUrl: inbound.answerUrl,
        answerMethod: inbound.answerMethod ?? 'POST',
        ringUrl: null,
        ringMethod: 'POST',
        hangupUrl: inbound.hangupUrl ?? null,
        hangupMethod: inbound.hangupMethod ?? 'POST',
        fallbackUrl: null,
        fallbackMethod: 'POST',
        ringTimeoutSec: 120,
        timeLimitSec: 14_400,
        machineDetectionUrl: null,
        machineDetectionMethod: 'POST',
        persona: inbound.persona ? parsePersona(inbound.persona) : personas.lookup(inbound.from),
      });
    },
    waitForRequest(requestUuids, timeoutMs = 10_000) {
      const requestUuid = (Array.isArray(requestUuids) ? requestUuids[0] : requestUuids) ?? '';
      const existing = byRequest.get(requestUuid)?.[0];
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`waitForRequest: no call for request ${requestUuid} after ${timeoutMs} ms`));
        }, timeoutMs);
        const listener = (call: PlivoCall): void => {
          if (call.requestUuid !== requestUuid) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(call);
        };
        listeners.add(listener);
      });
    },
    waitForCall(ids, status, timeoutMs) {
      const id = (Array.isArray(ids) ? ids[0] : ids) ?? '';
      const call = findCall(id);
      if (!call) return Promise.reject(new Error(`waitForCall: no call ${id}`));
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
      await Promise.all([...calls.values()].map((call) => call.callbacksSettled()));
      if (!options.clock) clock.stop();
      if (sip) await (await sip).close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
