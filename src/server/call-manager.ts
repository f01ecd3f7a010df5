import type { WebSocket } from 'ws';
import type { Logger } from '../log.ts';
import type { CallRecord, CallStore, CallSummary } from '../store/index.ts';
import type {
  AnswerRequest,
  AnsweredCall,
  CallControl,
  CarrierAnsweredBy,
  PlaceCallRequest,
  TransferResult,
} from '../telephony/carrier-adapter.ts';
import type { CallStatusUpdate } from '../telephony/call-status.ts';
import type { PublicUrls } from '../telephony/public-urls.ts';
import type { MediaChannel } from '../transports/media-channel.ts';
import type { AgentRegistry } from './agent-registry.ts';
import type { CallMetricsSink } from './call-metrics.ts';
import { noCallMetrics } from './call-metrics.ts';
import type { AgentServices } from './call-services.ts';
import type { CarrierSet } from './carrier-set.ts';
import { answerCall } from './calls/call-answering.ts';
import type { CallDeps } from './calls/call-deps.ts';
import { checkMetadata, placeCall } from './calls/call-placement.ts';
import { hangUpCarrierLeg } from './calls/carrier-hangup.ts';
import { transferCall } from './calls/call-transfer.ts';
import { SipLegs } from './calls/sip-legs.ts';
import { LiveCalls } from './calls/live-calls.ts';
import { authorizeMediaSocket, runMediaSocket, type MediaAuthorization } from './calls/media-socket.ts';
import { MediaTokens } from './calls/media-tokens.ts';
import { applyStatusUpdate } from './calls/status-updates.ts';

export { MAX_METADATA_BYTES } from './calls/call-placement.ts';

export interface CallManagerOptions {
  store: CallStore;
  log: Logger;
  agents: AgentRegistry;
  /** Provider stages per agent. */
  services: AgentServices;
  /** The server's carriers (live, emulated or unavailable). */
  carriers: CarrierSet;
  /** Public base URLs: `https://host` for webhooks, `wss://host` for media sockets (read per call, so they can be set after listen). */
  publicUrls: PublicUrls;
  /** Signs per-call media tokens. @default 32 random bytes (tokens don't survive a restart) */
  mediaSecret?: string;
  /** How long a media token stays valid after the markup was served. @default 900 */
  mediaTokenTtlSec?: number;
  /** @default no metrics */
  metrics?: CallMetricsSink;
}

export type PlaceCallInput = PlaceCallRequest;

/**
 * Runs the calls of one server, as the carriers and the API drive them: placement (`calls/call-placement.ts`),
 * answer markup with media tokens (`call-answering.ts`, `media-tokens.ts`), media sockets (`media-socket.ts`),
 * agent sessions and records (`live-calls.ts`, `session-events.ts`), status callbacks (`status-updates.ts`) and
 * carrier hang-ups (`carrier-hangup.ts`). This class only wires them together.
 */
export class CallManager implements CallControl {
  private readonly deps: CallDeps;
  private readonly tokens: MediaTokens;
  private readonly live: LiveCalls;
  private readonly sipLegs: SipLegs;
  private readonly publicUrls: PublicUrls;

  constructor(options: CallManagerOptions) {
    this.deps = {
      store: options.store,
      log: options.log,
      agents: options.agents,
      services: options.services,
      carriers: options.carriers,
      metrics: options.metrics ?? noCallMetrics,
    };
    this.publicUrls = options.publicUrls;
    this.tokens = new MediaTokens({
      ...(options.mediaSecret ? { secret: options.mediaSecret } : {}),
      ...(options.mediaTokenTtlSec !== undefined ? { ttlSec: options.mediaTokenTtlSec } : {}),
    });
    this.live = new LiveCalls(this.deps);
    this.sipLegs = new SipLegs(options.carriers);
  }

  get activeCalls(): number {
    return this.live.size;
  }

  checkMetadata(metadata: unknown): void {
    checkMetadata(metadata);
  }

  /** The carrier for a call request without one: the carrier that claims `to`, else `fallback`. */
  carrierFor(to: string, fallback: string): string {
    return this.deps.carriers.claiming(to) ?? fallback;
  }

  placeCall(input: PlaceCallInput): Promise<CallRecord> {
    return placeCall(this.deps, input);
  }

  answer(input: AnswerRequest): AnsweredCall {
    return answerCall(this.deps, this.tokens, this.publicUrls, input);
  }

  authorizeMedia(token: string | undefined): MediaAuthorization {
    return authorizeMediaSocket(this.deps, this.tokens, this.live, token);
  }

  runMediaSocket(callId: string, socket: WebSocket): Promise<void> {
    return runMediaSocket(this.deps, this.live, callId, socket);
  }

  runMedia(callId: string, channel: MediaChannel): Promise<void> {
    return this.live.run(callId, channel);
  }

  sipLeg(callId: string, carrier?: string): Promise<string> {
    return this.sipLegs.get(callId, carrier);
  }

  transfer(callId: string, destination: string): Promise<TransferResult> {
    return transferCall(this.deps, this.live, callId, destination);
  }

  applyStatus(update: CallStatusUpdate, callId?: string): CallSummary | undefined {
    return applyStatusUpdate(this.deps, this.live, update, callId);
  }

  carrierAnsweredBy(report: CarrierAnsweredBy): void {
    const { store } = this.deps;
    const summary = report.callId ? store.getCallSummary(report.callId) : store.findByCarrierCallId(report.carrier, report.carrierCallId);
    if (!summary) return;
    const live = this.live.carrierAnsweredBy(summary.id, report.answeredBy, report.detail);
    store.addEvent(summary.id, 'carrier.answered-by', { answeredBy: report.answeredBy, detail: report.detail, live });
  }

  /** Stops every live call (server shutdown): sessions are cancelled, carrier legs hung up. */
  async shutdown(): Promise<void> {
    const ids = this.live.cancelAll('server shutting down');
    this.live.writer.flush();
    await Promise.allSettled(ids.map((callId) => hangUpCarrierLeg(this.deps, callId, 'server shutting down')));
  }
}
