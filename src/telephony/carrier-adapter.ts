import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Logger } from '../log.ts';
import type { PersonaRegistry } from '../sandbox/callees/persona-registry.ts';
import type { MediaClock } from '../sandbox/carriers/shared/media-clock.ts';
import type { CallRecord, CallSummary } from '../store/index.ts';
import type { MediaChannel } from '../transports/media-channel.ts';
import type { MediaStreamProtocol } from '../transports/media-serializer.ts';
import type { CallStatusUpdate } from './call-status.ts';
import type { CarrierCallInfo, CarrierCallRef, PlacedCall } from './carrier.ts';
import type { PublicUrls } from './public-urls.ts';
import type { WebhookVerification } from './webhook-verification.ts';

/**
 * Everything Switchboard knows about one carrier, in one object exported from the carrier's folder
 * (`src/telephony/<carrier>/index.ts`): its name and settings, how to build its live client, its HTTP routes
 * (webhooks and seed-compatible API routes), its media-WebSocket protocol, and its sandbox emulator. The rest of
 * the code only sees adapters through the registry, so adding a carrier is one folder plus one registry line.
 *
 * Keep the adapter module light: load SDKs and emulators inside `create` and `sandbox.start` (dynamic import), so
 * a process pays only for the carriers it runs.
 */
export interface CarrierAdapter<Settings = unknown, Runtime extends CarrierRuntime = CarrierRuntime> {
  /** Lower-case id: `POST /calls {carrier}`, `DEFAULT_CARRIER`, the call record's `carrier`. */
  readonly name: string;
  /** For people: start-up lines, error messages. */
  readonly displayName: string;
  /** The carrier's environment variables (zod), merged into the configuration schema; defaults documented beside each. */
  readonly env: z.ZodRawShape;
  /** This carrier's settings from the validated environment; configuration mistakes go to `problems`, one line each. */
  settingsFromEnv(env: Record<string, unknown>, problems: string[]): Settings;
  /** Credential variables these settings lack; empty when the carrier can run live. */
  missingCredentials(settings: Settings): string[];
  /**
   * Whether the environment sets this carrier up for real use; a server where no carrier is configured (and no
   * provider has credentials) runs the sandbox. For carriers that need no account to run (a SIP endpoint).
   * @default `missingCredentials(settings)` is empty
   */
  configured?(settings: Settings): boolean;
  /** Caller id for calls that give none. */
  defaultFrom(settings: Settings): string | undefined;
  /**
   * Destinations only this carrier can reach (e.g. the sandbox's `sip:<persona>@sandbox`): `POST /calls` without
   * `carrier` uses it for them instead of DEFAULT_CARRIER. @default none
   */
  claims?(to: string): boolean;
  /** Builds the live carrier (REST client, webhook verification). Loads the carrier's SDK on demand. */
  create(settings: Settings, context: CarrierContext): Promise<Runtime>;
  /** Registers the carrier's HTTP routes. Called for every registered carrier, live or not (see {@link CarrierRouteContext.carrier}). */
  registerRoutes?(app: FastifyInstance, context: CarrierRouteContext<Runtime>): void;
  /** For carriers that stream media over our `/ws/<token>` socket. */
  readonly mediaStream?: MediaStreamProtocol;
  /** The carrier's local emulator, started in sandbox mode. */
  readonly sandbox?: CarrierSandbox<Settings>;
}

/** Whether the environment sets a carrier up for real use: its own rule ({@link CarrierAdapter.configured}), else it has its credentials. */
export function carrierConfigured<Settings>(adapter: CarrierAdapter<Settings>, settings: Settings): boolean {
  return adapter.configured ? adapter.configured(settings) : adapter.missingCredentials(settings).length === 0;
}

/** An adapter with settings given in code (`startSwitchboard({ carriers: [twilio({ accountSid, authToken })] })`). */
export interface ConfiguredCarrier<Settings = unknown> {
  readonly adapter: CarrierAdapter<Settings>;
  readonly settings: Settings;
}

/** What a carrier's live part does; the server treats every carrier through this. */
export interface CarrierRuntime {
  readonly name: string;
  /** Ask the carrier to dial. Rejects with `CarrierError`. */
  placeCall(request: OutboundCallRequest): Promise<PlacedCall>;
  /** End the call. Resolves once the carrier confirmed it, or the call had already ended. Rejects with `CarrierError`. */
  hangUp(call: CarrierCallRef): Promise<void>;
  /** Current state of a call. Rejects with `CarrierError` (`httpStatus` 404 when the carrier does not know it). */
  getCall(call: CarrierCallRef): Promise<CarrierCallInfo>;
  /**
   * Hands a live call to another destination (SIP REFER, a carrier's own transfer) and reports how it went. The
   * call stays up here; on success the server ends the agent's session and hangs up. Absent: not supported.
   */
  transfer?(call: CarrierCallRef, destination: string): Promise<TransferResult>;
  /**
   * Warm transfer: puts the caller on hold (they hear hold audio), places the call to the destination as our call
   * `request.briefingCallId` (its media runs the briefing session on this server), waits for
   * `request.briefed()`, then bridges the destination with the caller and lets our legs go. When the destination
   * does not take the call, the caller goes back to the bot (`resumed`). Absent: the server transfers cold and
   * records why.
   */
  warmTransfer?(call: CarrierCallRef, request: WarmTransferRequest): Promise<WarmTransferResult>;
  /**
   * For carriers that take SIP legs: a one-time SIP URI that brings media into the existing call `callId` (placed
   * by another carrier); when a SIP leg arrives there, the agent runs on it and the leg is hung up when the session
   * ends. The call's own carrier keeps its signalling and status. Absent: this carrier cannot.
   */
  sipLeg?(callId: string): Promise<string>;
  /** Releases sockets and listeners (server shutdown). */
  close?(): Promise<void>;
}

/** How a transfer went. */
export interface TransferResult {
  /** The far end reached the destination. */
  ok: boolean;
  /** The carrier's own outcome code (SIP: the final status the transferee reported in NOTIFY, e.g. `200`, `486`). */
  status: string;
  /** For people and logs. */
  reason: string;
  /**
   * The carrier moved the call itself (Twilio `<Dial>` on the live call, Plivo's transfer API): the call goes on
   * at the carrier with the destination, so the server must not hang it up — only our media ends. @default false
   */
  movedByCarrier?: boolean;
}

/** What the server gives a carrier for a warm transfer. */
export interface WarmTransferRequest {
  /** E.164 number or SIP URI of the person. */
  destination: string;
  /** Caller id for the call to the person. */
  from: string;
  /** Our id for the call to the person (already recorded): place it with this id, like any outbound call. */
  briefingCallId: string;
  /** Seconds to let the person's phone ring. @default the carrier's default */
  ringTimeoutSec?: number;
  /** Our call details the carrier needs to bring the caller back to the bot (its numbers). */
  caller: { to: string; from: string };
  /**
   * Resolves once the person has heard the briefing (`ok`), or when their call ended without it (busy, no answer,
   * failed, hung up during the briefing: not `ok`, with the reason).
   */
  briefed(): Promise<{ ok: boolean; reason: string }>;
}

/** How a warm transfer went. */
export interface WarmTransferResult extends TransferResult {
  /** The caller was taken back to the bot after the transfer failed (a new media session on the same call). */
  resumed?: boolean;
  /** The carrier's name for the bridge (e.g. a conference room), for the record. */
  bridge?: string;
}

/** An outbound call as the server asks a carrier for it; the carrier builds its own callback URLs. */
export interface OutboundCallRequest {
  /** Our call id: carried into callback URLs, errors and logs. */
  callId: string;
  /** E.164 number or SIP URI. */
  to: string;
  /** Caller id. */
  from: string;
  /** Custom headers for carriers that send them (SIP `X-` headers). @default {} */
  headers?: Record<string, string>;
  /** Seconds to ring. @default the carrier's default */
  ringTimeoutSec?: number;
  /**
   * Ask the carrier to detect an answering machine, where it can; its verdict comes back through
   * {@link CallControl.carrierAnsweredBy}. @default false
   */
  machineDetection?: boolean;
  /**
   * How the callee's audio reaches the agent: the carrier's media stream, or a SIP leg the carrier dials (its answer
   * markup connects the callee to {@link CallControl.sipLeg}). @default 'stream'
   */
  media?: 'stream' | 'sip';
  /** Options only the named carrier understands (set by that carrier's own routes; it validates them). @default none */
  carrierOptions?: Record<string, unknown>;
}

/** What the core gives a carrier when it is created. */
export interface CarrierContext {
  log: Logger;
  /** Where carriers reach this server; read per call (the port may be known only after listening). */
  publicUrls: PublicUrls;
  calls: CallControl;
}

/** Hooks run before the body of an API request is read (see `CarrierRouteContext.apiJsonRoute`). */
export interface ApiJsonRouteOptions {
  onRequest: Array<(request: FastifyRequest, reply: FastifyReply) => Promise<void>>;
}

/** What a carrier's routes get. */
export interface CarrierRouteContext<Runtime extends CarrierRuntime = CarrierRuntime> {
  log: Logger;
  publicUrls: PublicUrls;
  calls: CallControl;
  /**
   * The live carrier. Throws an `HttpError` (503 `carrier_unavailable`, naming the missing variables) when the
   * carrier has no credentials and is not emulated, so its routes answer with a clear reason.
   */
  carrier(): Runtime;
  /** Pre-handler for public API routes (`SWITCHBOARD_API_KEY`). */
  apiAuth(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /**
   * Route options for public API routes that take a JSON body (seed routes such as `POST /dialout`): the API key,
   * then `application/json` only (415 otherwise), both before the body is read.
   */
  apiJsonRoute: ApiJsonRouteOptions;
  /** Answers a webhook that failed verification: 403 with the reason, and a log line. */
  rejectWebhook(request: FastifyRequest, reply: FastifyReply, result: WebhookVerification & { ok: false }): Promise<void>;
}

/** The server's side of a call, as carriers drive it from their webhooks, signalling and seed routes. */
export interface CallControl {
  /**
   * A carrier is fetching answer markup: the callee picked up (outbound, `callId` known) or someone is calling us
   * (inbound: a record is created). Returns the call id and the media socket URL (with its token) for the markup.
   */
  answer(request: AnswerRequest): AnsweredCall;
  /** A verified, parsed status callback. Returns the call it applied to, if any. */
  applyStatus(update: CallStatusUpdate, callId?: string): CallSummary | undefined;
  /** Places a call through the common path (record, agent, carrier), as `POST /calls` does. */
  placeCall(request: PlaceCallRequest): Promise<CallRecord>;
  /** Runs the agent on a media channel the carrier produced itself (e.g. an RTP leg); resolves when the call ends. */
  runMedia(callId: string, channel: MediaChannel): Promise<void>;
  /**
   * Transfers a live call through its carrier's {@link CarrierRuntime.transfer}; the outcome goes in the record's
   * events, and on success the session ends (reason `transferred to …`) and the carrier leg is hung up.
   */
  transfer(callId: string, destination: string): Promise<TransferResult>;
  /**
   * The SIP URI whose leg carries this call's media (prepared once per call, by `carrier` or else the first
   * registered carrier that takes SIP legs). Throws `HttpError` 503 when no carrier can.
   */
  sipLeg(callId: string, carrier?: string): Promise<string>;
  /** Checks custom call data (size limit); throws `HttpError` 413 when too large. */
  checkMetadata(metadata: unknown): void;
  /** The carrier's answering-machine verdict for a call (recorded, and given to the call's live agent). */
  carrierAnsweredBy(report: CarrierAnsweredBy): void;
}

/** A carrier's answering-machine detection result. */
export interface CarrierAnsweredBy {
  carrier: string;
  carrierCallId: string;
  /** Our call id when the callback carried it. */
  callId?: string | undefined;
  answeredBy: 'human' | 'machine' | 'unknown';
  /** The carrier's own words (Twilio `machine_start`, Plivo `Machine=true`). */
  detail: string;
}

export interface AnswerRequest {
  carrier: string;
  /** Our call id from the answer URL (outbound); absent for inbound calls. */
  callId?: string | undefined;
  carrierCallId: string;
  from: string;
  to: string;
  /** Custom data of an inbound call (e.g. SIP `X-` headers). @default {} */
  metadata?: Record<string, unknown>;
  /**
   * Agents the carrier's routing chose for an inbound call (e.g. by the dialled number), best first; the first one
   * the server knows runs the call, else the default agent. @default [] (the default agent)
   */
  agentCandidates?: string[];
}

export interface AnsweredCall {
  callId: string;
  /** `wss://host/ws/<media token>` */
  streamUrl: string;
  record: CallSummary;
}

export interface PlaceCallRequest {
  carrier: string;
  to: string;
  from?: string | undefined;
  agent?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  headers?: Record<string, string> | undefined;
  /** Record this call (wins over the agent's `record`). @default the agent's setting */
  record?: boolean | undefined;
  /** See {@link OutboundCallRequest.media}. @default 'stream' */
  media?: 'stream' | 'sip' | undefined;
  /** See {@link OutboundCallRequest.carrierOptions}. @default none */
  carrierOptions?: Record<string, unknown> | undefined;
}

/** A carrier's emulator, loaded only in sandbox mode. */
export interface CarrierSandbox<Settings> {
  /** Starts the emulator; the returned settings point the real client at it. */
  start(context: CarrierEmulatorContext<Settings>): Promise<StartedCarrierEmulator<Settings>>;
}

export interface CarrierEmulatorContext<Settings> {
  log: Logger;
  /** Which simulated callee answers which number. */
  personas: PersonaRegistry;
  /** One 20 ms clock for all emulated calls. */
  clock: MediaClock;
  /** Scales ringing and answer delays (media stays real-time). */
  timeScale: number;
  /** The settings from the environment (e.g. a configured caller id to keep). */
  settings: Settings;
  /** Caller id of sandbox calls when the settings have none. */
  callerId: string;
}

export interface StartedCarrierEmulator<Settings> {
  settings: Settings;
  /** The emulator itself, for tests and tools (e.g. its call log); its type is the carrier's own. */
  emulator: unknown;
  close(): Promise<void>;
}
