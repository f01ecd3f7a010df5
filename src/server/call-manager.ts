import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Logger } from '../log.ts';
import type { AgentDefinition } from '../agent/agent-definition.ts';
import { CallSession } from '../agent/call-session.ts';
import type { TurnLatency } from '../agent/turn-metrics.ts';
import type { TaskOutcome } from '../pipeline/task.ts';
import type { CallRecord, CallStatus, CallSummary } from '../store/index.ts';
import type { CallStore } from '../store/index.ts';

import { CarrierError } from '../telephony/carrier-error.ts';
import type { CallStatusUpdate } from '../telephony/call-status.ts';
import { isFinalCallStatus } from '../call-status.ts';
import { detectMediaStream } from '../transports/detect-media-stream.ts';
import type { MediaChannel } from '../transports/media-channel.ts';
import type { AnswerRequest, AnsweredCall, CallControl, PlaceCallRequest } from '../telephony/carrier-adapter.ts';
import type { AgentServices } from './call-services.ts';
import type { CarrierSet } from './carrier-set.ts';
import { createMediaToken, verifyMediaToken } from '../telephony/media-token.ts';
import { WebSocketMediaChannel } from '../transports/websocket-media-channel.ts';
import type { AgentRegistry } from './agent-registry.ts';
import { HttpError } from '../errors.ts';
import type { CallMetricsSink } from './call-metrics.ts';
import type { PublicUrls } from '../telephony/public-urls.ts';
import { noCallMetrics } from './call-metrics.ts';
import { RecordWriter } from './record-writer.ts';

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
  metrics?: CallMetricsSink;
}

export type PlaceCallInput = PlaceCallRequest;

interface ActiveCall {
  session: CallSession;
  channel: MediaChannel;
}

/** Custom call data: any JSON object up to 64 KB (it is stored with the call and templated into prompts). */
export const MAX_METADATA_BYTES = 64 * 1024;

/**
 * Runs the calls of one server: places them through the carriers' REST clients, serves the markup that
 * points carriers at our media socket, runs a voice-agent session per media socket, and keeps the call
 * record current from carrier callbacks and the session's turns.
 */
export class CallManager implements CallControl {
  private readonly options: CallManagerOptions;
  private readonly log: Logger;
  private readonly store: CallStore;
  private readonly mediaSecret: string;
  private readonly active = new Map<string, ActiveCall>();
  private readonly metrics: CallMetricsSink;
  /** Session writes (turns, events) go through here, off the real-time path. */
  private readonly writer: RecordWriter;

  constructor(options: CallManagerOptions) {
    this.options = options;
    this.log = options.log;
    this.store = options.store;
    this.mediaSecret = options.mediaSecret ?? randomBytes(32).toString('hex');
    this.metrics = options.metrics ?? noCallMetrics;
    this.writer = new RecordWriter(options.store, options.log);
  }

  get activeCalls(): number {
    return this.active.size;
  }

  /** Throws `HttpError` 413 when custom call data is over {@link MAX_METADATA_BYTES}. */
  checkMetadata(metadata: unknown): void {
    const size = Buffer.byteLength(JSON.stringify(metadata ?? {}));
    if (size > MAX_METADATA_BYTES) {
      throw new HttpError(413, 'metadata_too_large', `call data is ${size} bytes; the limit is ${MAX_METADATA_BYTES}`);
    }
  }

  /** Creates the record and asks the carrier to dial. The record says `failed` (with the carrier's code) if it refuses. */
  async placeCall(input: PlaceCallInput): Promise<CallRecord> {
    const client = this.options.carriers.runtime(input.carrier);
    const agent = this.agent(input.agent);
    this.options.services.forAgent(agent); // a provider without credentials refuses the call before anyone's phone rings
    const from = input.from ?? this.options.carriers.defaultFrom(input.carrier);
    if (!from) {
      throw new HttpError(
        400,
        'invalid_request',
        `no caller id: give "from" or set the ${input.carrier.toUpperCase()}_PHONE_NUMBER setting`,
      );
    }
    const record = this.store.createCall({
      carrier: input.carrier,
      direction: 'outbound',
      to: input.to,
      from,
      agent: agent.name,
      metadata: input.metadata ?? {},
    });
    const callId = record.id;
    try {
      const placed = await client.placeCall({ callId, to: input.to, from, ...(input.headers ? { headers: input.headers } : {}) });
      if (placed.carrierCallId) this.store.setCarrierCallId(callId, placed.carrierCallId);
      this.store.addEvent(callId, 'carrier.placed', { requestId: placed.requestId, status: placed.status });
      this.log.info({ callId, carrier: input.carrier, carrierCallId: placed.carrierCallId }, 'call placed');
    } catch (error) {
      const carrierError = error instanceof CarrierError ? error : undefined;
      const message = error instanceof Error ? error.message : String(error);
      this.store.updateStatus(callId, 'failed', {
        reason: 'carrier refused the call',
        error: {
          message,
          code: 'carrier_error',
          ...(carrierError?.carrierCode != null ? { carrierErrorCode: carrierError.carrierCode } : {}),
        },
      });
      this.metrics.error('carrier');
      this.log.warn({ callId, carrier: input.carrier, carrierCode: carrierError?.carrierCode, err: message }, 'carrier refused the call');
      throw new HttpError(502, 'carrier_error', message, {
        callId,
        carrier: input.carrier,
        carrierCode: carrierError?.carrierCode ?? null,
      });
    }
    return this.store.getCall(callId) as CallRecord;
  }

  /**
   * The carrier is fetching answer markup: the callee picked up (outbound, `callId` known) or someone is
   * calling us (inbound: a record is created). Returns the call id and the media socket URL to put in the
   * markup.
   */
  answer(input: AnswerRequest): AnsweredCall {
    this.options.services.forAgent(this.agent(undefined));
    let callId = input.callId;
    if (callId) {
      const record = this.store.getCallSummary(callId);
      if (!record) throw new HttpError(404, 'call_not_found', `no call ${callId}`);
      if (record.carrier !== input.carrier) throw new HttpError(400, 'invalid_request', `call ${callId} is not a ${input.carrier} call`);
    } else {
      const existing = this.store.findByCarrierCallId(input.carrier, input.carrierCallId);
      callId =
        existing?.id ??
        this.store.createCall({
          carrier: input.carrier,
          direction: 'inbound',
          to: input.to,
          from: input.from,
          agent: this.agent(undefined).name,
          carrierCallId: input.carrierCallId,
          status: 'ringing',
          ...(input.metadata ? { metadata: input.metadata } : {}),
        }).id;
      if (!existing) this.log.info({ callId, carrier: input.carrier, from: input.from }, 'inbound call');
    }
    const record = this.store.getCallSummary(callId) as CallSummary;
    if (!record.carrierCallId) this.store.setCarrierCallId(callId, input.carrierCallId);
    this.store.updateStatus(callId, 'in-progress');
    const token = createMediaToken(callId, { secret: this.mediaSecret, ttlSec: this.options.mediaTokenTtlSec ?? 900 });
    return { callId, streamUrl: `${this.options.publicUrls.ws}/ws/${token}`, record };
  }

  /** Checks a media socket's token before the upgrade. Returns the call id or a reason to refuse (403). */
  authorizeMedia(token: string | undefined): { ok: true; callId: string } | { ok: false; reason: string } {
    if (!token) return { ok: false, reason: 'media token missing from the socket URL' };
    const verified = verifyMediaToken(token, { secret: this.mediaSecret });
    if (!verified.ok) return { ok: false, reason: `media token ${verified.reason}` };
    const record = this.store.getCallSummary(verified.callId);
    if (!record) return { ok: false, reason: `media token names an unknown call` };
    if (this.active.has(verified.callId)) return { ok: false, reason: 'a media stream is already connected for this call' };
    if (isFinalCallStatus(record.status)) {
      return { ok: false, reason: `call already ${record.status}` };
    }
    return { ok: true, callId: verified.callId };
  }

  /** Runs the voice agent on an accepted media socket until the call ends. */
  async runMediaSocket(callId: string, socket: WebSocket): Promise<void> {
    const log = this.log.child({ callId });
    let detected;
    try {
      detected = await detectMediaStream(socket, this.options.carriers.mediaProtocols());
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'media socket closed: no carrier start message');
      this.store.addEvent(callId, 'media.rejected', { reason: error instanceof Error ? error.message : String(error) });
      socket.close(1008, 'no recognisable start message');
      return;
    }
    const record = this.store.getCallSummary(callId) as CallSummary;
    if (detected.carrier !== record.carrier) {
      log.warn({ detected: detected.carrier, expected: record.carrier }, 'media socket from the wrong carrier');
      socket.close(1008, 'carrier mismatch');
      return;
    }
    const channel = new WebSocketMediaChannel(socket, detected, { callId, logger: log });
    this.store.addEvent(callId, 'media.connected', { streamId: detected.streamId, carrierCallId: detected.carrierCallId });
    log.info({ carrier: detected.carrier, streamId: detected.streamId }, 'media stream connected');
    await this.runMedia(callId, channel);
  }

  /** Runs the voice agent on a call's media channel until the call ends, then finalises the record. */
  async runMedia(callId: string, channel: MediaChannel): Promise<void> {
    const log = this.log.child({ callId });
    const record = this.store.getCallSummary(callId);
    if (!record) throw new HttpError(404, 'call_not_found', `no call ${callId}`);
    const agent = this.agent(record.agent ?? undefined);
    const session = this.createSession(callId, record, agent, channel, log);
    this.active.set(callId, { session, channel });
    this.metrics.callStarted(record.carrier);
    let outcome;
    try {
      outcome = await session.run();
    } finally {
      this.active.delete(callId);
      this.metrics.callEnded(record.carrier);
      channel.close('call ended');
    }
    await this.finishCall(callId, record, session, outcome, log);
  }

  /** Carrier status callback, already verified and parsed. */
  applyStatus(update: CallStatusUpdate, callId: string | undefined): CallSummary | undefined {
    const summary = callId ? this.store.getCallSummary(callId) : this.store.findByCarrierCallId(update.carrier, update.carrierCallId);
    if (!summary) return undefined;
    const id = summary.id;
    if (!summary.carrierCallId) this.store.setCarrierCallId(id, update.carrierCallId);
    this.store.addEvent(id, 'carrier.status', {
      status: update.status,
      carrierStatus: update.carrierStatus,
      ...(update.hangupCause ? { hangupCause: update.hangupCause } : {}),
      ...(update.sequenceNumber !== null ? { sequenceNumber: update.sequenceNumber } : {}),
    });
    const at = update.timestamp ?? update.endedAt ?? update.answeredAt ?? undefined;
    this.store.updateStatus(id, update.status as CallStatus, {
      ...(at ? { at } : {}),
      ...(update.durationSec !== null ? { durationSec: update.durationSec } : {}),
      ...(update.hangupCause && update.status !== 'completed' ? { reason: update.hangupCause } : {}),
      ...(update.errorCode && update.status === 'failed'
        ? { error: { message: update.hangupCause ?? 'carrier reported failure', carrierErrorCode: update.errorCode } }
        : {}),
    });
    // The carrier ended a call whose media socket is still open (e.g. hung up before the stream noticed).
    if (isFinalCallStatus(update.status)) {
      this.active.get(id)?.session.cancel(`carrier reported ${update.status}`);
    }
    return summary;
  }

  /** Stops every live call (server shutdown): sessions are cancelled, carrier legs hung up. */
  async shutdown(): Promise<void> {
    const calls = [...this.active.entries()];
    for (const [, call] of calls) call.session.cancel('server shutting down');
    this.writer.flush();
    await Promise.allSettled(calls.map(([callId]) => this.hangUp(callId, 'server shutting down')));
  }

  private createSession(callId: string, record: CallSummary, agent: AgentDefinition, channel: MediaChannel, log: Logger): CallSession {
    let turnIndex = 0; // turns are numbered in the order they are reported
    const recordEvent = (type: string, data: unknown): void => {
      const at = Date.now(); // when it happened, not when the write lands
      this.writer.write(() => this.store.addEvent(callId, type, data, at));
    };
    return new CallSession({
      callId,
      agent,
      metadata: record.metadata as Record<string, unknown>,
      direction: record.direction === 'inbound' ? 'inbound' : 'outbound',
      channel,
      services: this.options.services.forAgent(agent),
      log,
      events: {
        onUserTurn: (turn) => {
          const index = turnIndex++;
          this.writer.write(() =>
            this.store.addTurn(callId, {
              index,
              role: 'user',
              text: turn.text,
              startedAt: toEpoch(turn.startedAtMs),
              endedAt: toEpoch(turn.endedAtMs),
            }),
          );
        },
        onAssistantTurn: (turn) => {
          const index = turnIndex++;
          this.writer.write(() =>
            this.store.addTurn(callId, {
              index,
              role: 'assistant',
              text: turn.text,
              heard: turn.heard,
              interrupted: turn.interrupted,
              ...(turn.latency ? { latency: { ...turn.latency } } : {}),
              ...(turn.startedAtMs !== undefined ? { startedAt: toEpoch(turn.startedAtMs) } : {}),
              endedAt: toEpoch(turn.endedAtMs),
            }),
          );
          if (turn.latency) this.metrics.turnLatency(turn.latency);
        },
        onEvent: recordEvent,
        onBargeInLatency: (ms) => {
          this.metrics.bargeIn(ms);
          recordEvent('barge-in.clear-sent', { afterOnsetMs: Math.round(ms) });
        },
        onProviderTtfb: (processor, ms) => this.metrics.providerTtfb(processor, ms),
        onError: (error) => {
          this.metrics.error(error.processor);
          recordEvent('error', { processor: error.processor, message: error.message, fatal: error.fatal });
        },
      },
    });
  }

  private async finishCall(callId: string, record: CallSummary, session: CallSession, outcome: TaskOutcome, log: Logger): Promise<void> {
    this.writer.flush(); // the session's last turns and events, before the record is read and closed
    const reason = session.endReason ?? outcome.reason;
    const failed = outcome.failure !== undefined;
    this.store.addEvent(callId, 'media.ended', { kind: outcome.kind, reason: outcome.reason });
    // The agent (or a failure) ended the call: hang up the carrier leg too, not just the media stream.
    if (outcome.kind === 'ended' || failed) await this.hangUp(callId, reason);
    const latencies = this.store.getCall(callId)?.turns.flatMap((t) => (t.latency ? [t.latency as unknown as TurnLatency] : [])) ?? [];
    if (latencies.length > 0) this.store.setLatencySummary(callId, summarise(latencies));
    this.store.updateStatus(callId, failed ? 'failed' : 'completed', {
      reason,
      ...(failed ? { error: { message: outcome.reason, code: 'pipeline_failed' } } : {}),
    });
    log.info({ outcome: outcome.kind, reason, carrier: record.carrier }, 'call finished');
  }

  private async hangUp(callId: string, reason: string): Promise<void> {
    const record = this.store.getCallSummary(callId);
    if (!record) return;
    const client = this.options.carriers.find(record.carrier);
    if (!client) return;
    try {
      await client.hangUp({ callId, carrierCallId: record.carrierCallId, answered: record.answeredAt !== null });
      this.store.addEvent(callId, 'carrier.hangup', { reason });
    } catch (error) {
      const carrierCode = error instanceof CarrierError ? error.carrierCode : null;
      this.store.addEvent(callId, 'carrier.hangup-failed', {
        message: error instanceof Error ? error.message : String(error),
        carrierCode,
      });
      this.log.warn({ callId, carrierCode, err: error instanceof Error ? error.message : String(error) }, 'carrier hang-up failed');
    }
  }

  private agent(name: string | undefined): AgentDefinition {
    const agent = this.options.agents.get(name);
    if (!agent) {
      throw new HttpError(400, 'unknown_agent', `unknown agent "${name}"; known: ${this.options.agents.names().join(', ')}`);
    }
    return agent;
  }
}

/** `performance.now()` ms → epoch ms. */
function toEpoch(perfMs: number): number {
  return Math.round(performance.timeOrigin + perfMs);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

function summarise(latencies: TurnLatency[]): Record<string, unknown> {
  const v2v = latencies.map((l) => l.voiceToVoiceMs);
  const overhead = latencies.map((l) => l.overheadMs);
  return {
    turns: latencies.length,
    voiceToVoiceMs: { p50: percentile(v2v, 50), p95: percentile(v2v, 95), max: Math.max(...v2v) },
    overheadMs: { p50: percentile(overhead, 50), p95: percentile(overhead, 95), max: Math.max(...overhead) },
  };
}
