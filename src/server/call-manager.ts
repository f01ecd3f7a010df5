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
import { isFinalCallStatus } from '../call-status.ts';
import { noCallMetrics } from './call-metrics.ts';
import type { AgentServices } from './call-services.ts';
import type { CarrierSet } from './carrier-set.ts';
import { answerCall } from './calls/call-answering.ts';
import type { CallDeps, RecordingSettings } from './calls/call-deps.ts';
import { checkMetadata, placeCall } from './calls/call-placement.ts';
import { hangUpCarrierLeg } from './calls/carrier-hangup.ts';
import { transferCall, type TransferDetails } from './calls/call-transfer.ts';
import { warmTransferCall } from './calls/warm-transfer.ts';
import { SipLegs } from './calls/sip-legs.ts';
import { LiveCalls } from './calls/live-calls.ts';
import { failCallMedia } from './calls/media-failure.ts';
import { DEFAULT_SHUTDOWN_HANGUP_TIMEOUT_MS, type MediaLifecycleOptions } from './calls/media-lifecycle.ts';
import { CLOSE_GOING_AWAY, CLOSE_REFUSED, authorizeMediaSocket, runMediaSocket, type MediaAuthorization } from './calls/media-socket.ts';
import { MediaStartWatchdog } from './calls/media-start-watchdog.ts';
import { MediaTokens } from './calls/media-tokens.ts';
import { systemClock } from '../util/clock.ts';
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
  /** Where call recordings go. @default none: calls are not recorded */
  recordings?: RecordingSettings;
  /** Media time limits (start, watchdog, shutdown). @default see {@link MediaLifecycleOptions} */
  media?: MediaLifecycleOptions;
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
  private readonly media: MediaLifecycleOptions;
  private readonly mediaStart: MediaStartWatchdog;

  constructor(options: CallManagerOptions) {
    this.deps = {
      store: options.store,
      log: options.log,
      agents: options.agents,
      services: options.services,
      carriers: options.carriers,
      metrics: options.metrics ?? noCallMetrics,
      ...(options.recordings ? { recordings: options.recordings } : {}),
    };
    this.publicUrls = options.publicUrls;
    this.tokens = new MediaTokens({
      ...(options.mediaSecret ? { secret: options.mediaSecret } : {}),
      ...(options.mediaTokenTtlSec !== undefined ? { ttlSec: options.mediaTokenTtlSec } : {}),
    });
    this.live = new LiveCalls(this.deps);
    this.media = options.media ?? {};
    this.mediaStart = new MediaStartWatchdog(
      (callId, reason) => {
        this.live.closeClaim(callId, CLOSE_REFUSED, reason);
        void failCallMedia(this.deps, callId, reason);
      },
      this.media.mediaStartTimeoutMs,
      this.media.clock ?? systemClock,
    );
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
    const answered = answerCall(this.deps, this.tokens, this.publicUrls, input);
    if (!this.live.has(answered.callId)) this.mediaStart.arm(answered.callId);
    return answered;
  }

  authorizeMedia(token: string | undefined): MediaAuthorization {
    return authorizeMediaSocket(this.deps, this.tokens, this.live, token);
  }

  runMediaSocket(callId: string, socket: WebSocket): Promise<void> {
    return runMediaSocket(
      this.deps,
      this.live,
      callId,
      socket,
      {
        started: (id) => this.mediaStart.disarm(id),
        refused: async (id, reason) => {
          this.mediaStart.disarm(id);
          await failCallMedia(this.deps, id, reason);
        },
      },
      {
        ...(this.media.startMessageTimeoutMs !== undefined ? { startTimeoutMs: this.media.startMessageTimeoutMs } : {}),
        ...(this.media.watchdog ? { watchdog: this.media.watchdog } : {}),
      },
    );
  }

  runMedia(callId: string, channel: MediaChannel): Promise<void> {
    this.mediaStart.disarm(callId);
    return this.live.run(callId, channel);
  }

  sipLeg(callId: string, carrier?: string): Promise<string> {
    return this.sipLegs.get(callId, carrier);
  }

  /** Cold by default; `details.kind: 'warm'` briefs the person first (see `warm-transfer.ts`). */
  transfer(callId: string, destination: string, details?: TransferDetails): Promise<TransferResult> {
    if (details?.kind === 'warm') {
      return warmTransferCall(this.deps, this.live, callId, {
        name: 'person',
        to: destination,
        description: details.description ?? '',
        mode: 'warm',
      });
    }
    return transferCall(this.deps, this.live, callId, destination, details);
  }

  applyStatus(update: CallStatusUpdate, callId?: string): CallSummary | undefined {
    return applyStatusUpdate(this.deps, this.live, update, callId);
  }

  carrierAnsweredBy(report: CarrierAnsweredBy): void {
    const { store } = this.deps;
    const summary = report.callId ? store.getCallSummary(report.callId) : store.findByCarrierCallId(report.carrier, report.carrierCallId);
    if (!summary) return;
    const given = this.live.carrierAnsweredBy(summary.id, report.answeredBy, report.detail, isFinalCallStatus(summary.status));
    store.addEvent(summary.id, 'carrier.answered-by', { answeredBy: report.answeredBy, detail: report.detail, agent: given });
  }

  /**
   * Server shutdown: live sessions are cancelled and their carrier legs hung up; calls not yet live (queued,
   * ringing, answered but media not started) are hung up and finalised (`canceled` before answer, `failed` after)
   * so none is left open. The wait for hang-ups and for cancelled sessions to finalise their records is bounded by
   * `shutdownHangUpTimeoutMs`.
   */
  async shutdown(): Promise<void> {
    const reason = 'server shutting down';
    this.mediaStart.disarmAll();
    this.live.closeAllClaims(CLOSE_GOING_AWAY, reason);
    const liveIds = this.live.cancelAll(reason);
    this.live.writer.flush();
    const hangUps = liveIds.map((callId) => hangUpCarrierLeg(this.deps, callId, reason));
    hangUps.push(...finaliseOpenCalls(this.deps, new Set(liveIds), reason));
    hangUps.push(this.live.idle()); // cancelled sessions finalise their records before the store closes
    const limitMs = this.media.shutdownHangUpTimeoutMs ?? DEFAULT_SHUTDOWN_HANGUP_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), limitMs);
    });
    const outcome = await Promise.race([Promise.allSettled(hangUps), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.deps.log.warn({ calls: hangUps.length, limitMs }, 'shutdown: carrier hang-ups still pending');
  }
}

/**
 * Every call still open in the store that has no live session here: finalised now (`canceled` if never answered,
 * `failed` if answered but its media never ran) and its carrier leg hung up. Returns the hang-ups under way.
 */
function finaliseOpenCalls(deps: CallDeps, live: ReadonlySet<string>, reason: string): Promise<void>[] {
  const { store } = deps;
  const open: CallSummary[] = [];
  for (const status of ['queued', 'ringing', 'in-progress'] as const) {
    let cursor: string | undefined;
    do {
      const page = store.listCalls({ status, limit: 500, ...(cursor ? { cursor } : {}) });
      open.push(...page.calls.filter((call) => !live.has(call.id)));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  return open.map(async (call) => {
    const answered = call.status === 'in-progress';
    store.updateStatus(call.id, answered ? 'failed' : 'canceled', {
      reason,
      ...(answered ? { error: { message: "the server stopped before the call's media started", code: 'media_failed' } } : {}),
    });
    deps.log.info({ callId: call.id, carrier: call.carrier, was: call.status }, 'call finalised at shutdown');
    await hangUpCarrierLeg(deps, call.id, reason);
  });
}
