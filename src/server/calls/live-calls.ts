import { CallSession } from '../../agent/call-session.ts';
import type { TurnLatency } from '../../agent/turn-metrics.ts';
import { HttpError } from '../../errors.ts';
import type { TaskOutcome } from '../../pipeline/task.ts';
import type { MediaChannel } from '../../transports/media-channel.ts';
import { RecordWriter } from '../record-writer.ts';
import { agentNamed, messageOf, type CallDeps } from './call-deps.ts';
import { hangUpCarrierLeg } from './carrier-hangup.ts';
import { failCallMedia } from './media-failure.ts';
import { summariseLatency } from './latency-summary.ts';
import { sessionEvents } from './session-events.ts';
import type { CallRecorder } from '../../recording/call-recorder.ts';
import { RecordingMediaChannel } from '../../recording/recording-channel.ts';
import { startCallRecorder, wantsRecording, withAnnouncement } from './call-recording.ts';
import { transferCall } from './call-transfer.ts';
import { BriefingLegs, briefingAgent, resumedAgent, type BriefingLeg } from './briefing-legs.ts';
import { warmTransferCall } from './warm-transfer.ts';
import { DEFAULT_TRANSFER_MODE } from '../../agent/transfer-tool.ts';

const round3 = (value: number): number => Math.round(value * 1000) / 1000;

/** Verdicts held for calls whose media has not started yet (older ones are dropped). */
const MAX_EARLY_VERDICTS = 1000;

interface LiveCall {
  session: CallSession;
  channel: MediaChannel;
  /** A transfer under way: the carrier may end our media before it answers (Twilio stops the stream first). */
  transfer?: Promise<boolean>;
}

/** Closes a claimed media socket that has not started its session (shutdown, media-start timeout). */
export type ClaimCloser = (code: number, reason: string) => void;

/**
 * The calls whose media runs in this process: one agent session per call on its media channel, until the call
 * ends; then the record is finalised (latency summary, `completed` or `failed`) and the carrier leg hung up when
 * the agent or a failure ended it.
 */
export class LiveCalls {
  private readonly calls = new Map<string, LiveCall>();
  /**
   * Calls a media socket was accepted for whose session has not started yet (waiting for the carrier's start
   * message). Claimed when the socket is authorised, so a second socket with the same token is refused at once.
   */
  private readonly claims = new Map<string, ClaimCloser | undefined>();
  /**
   * Answering-machine verdicts that came before the call's session started (the carrier's callback can beat the
   * media socket): given to the agent when it starts. Bounded; a call that never goes live leaves its entry until
   * pushed out.
   */
  private readonly earlyVerdicts = new Map<string, { answeredBy: 'human' | 'machine' | 'unknown'; evidence: string }>();
  /** Every session's run, until it has finalised its record. */
  private readonly running = new Set<Promise<void>>();
  /** Session writes (turns, events) go through here, off the real-time path. */
  readonly writer: RecordWriter;
  /** Warm transfers' briefing legs and calls the bot may take back. */
  private readonly briefings = new BriefingLegs();

  constructor(private readonly deps: CallDeps) {
    this.writer = new RecordWriter(deps.store, deps.log);
  }

  get size(): number {
    return this.calls.size;
  }

  /** True while the call's media is claimed by a socket or its session runs here. */
  has(callId: string): boolean {
    return this.calls.has(callId) || this.claims.has(callId);
  }

  /** Reserves the call for one media socket; false when another socket or a running session already has it. */
  claim(callId: string): boolean {
    if (this.has(callId)) return false;
    this.claims.set(callId, undefined);
    return true;
  }

  /** Tells the claim how to close its socket (it is accepted after the claim is taken). */
  attachClaim(callId: string, close: ClaimCloser): void {
    if (this.claims.has(callId)) this.claims.set(callId, close);
  }

  /** Drops a claim whose socket was refused or went away before its session started. */
  release(callId: string): void {
    this.claims.delete(callId);
  }

  /**
   * Runs the agent on `channel` until the call ends, then finalises the record. A session that cannot be set up
   * or that throws fails the call with the reason (and hangs up the carrier leg) instead of leaving it in progress.
   */
  run(callId: string, channel: MediaChannel): Promise<void> {
    const running = this.runSession(callId, channel);
    const settled = running.then(
      () => {},
      () => {},
    );
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    return running;
  }

  /** Resolves once every session running now has finalised its record (shutdown waits for this, bounded). */
  async idle(): Promise<void> {
    await Promise.all([...this.running]);
  }

  private async runSession(callId: string, channel: MediaChannel): Promise<void> {
    const { store, metrics } = this.deps;
    const log = this.deps.log.child({ callId });
    this.claims.delete(callId); // the session takes over from the socket's claim
    const record = store.getCallSummary(callId);
    if (!record) {
      channel.close('unknown call');
      throw new HttpError(404, 'call_not_found', `no call ${callId}`);
    }
    let session: CallSession;
    let recorder: CallRecorder | undefined;
    try {
      const configured = agentNamed(this.deps.agents, record.agent ?? undefined);
      const briefing = this.briefings.get(callId);
      const resumeLine = briefing ? undefined : this.briefings.takeResumeLine(callId);
      // Not recorded: a briefing leg (the person's call), nor a call taken back after a failed warm transfer (its
      // first part's recording is kept as it is).
      if (!briefing && !resumeLine && wantsRecording(store, callId, configured)) {
        if (this.deps.recordings) recorder = await startCallRecorder(this.deps.recordings, callId, record.answeredAt, log);
        if (!recorder)
          store.addEvent(callId, 'recording.unavailable', {
            reason: this.deps.recordings ? 'recorder failed to start' : 'no recordings folder',
          });
      }
      const base = briefing ? briefingAgent(configured, briefing.summary) : resumeLine ? resumedAgent(configured, resumeLine) : configured;
      if (resumeLine) store.addEvent(callId, 'transfer.resumed', { line: resumeLine });
      const agent = recorder ? withAnnouncement(base) : base;
      if (resumeLine) this.writer.flush();
      const turnsSoFar = resumeLine ? (store.getCall(callId)?.turns.length ?? 0) : 0;
      const events = sessionEvents(this.deps, this.writer, callId, recorder, turnsSoFar);
      if (briefing) {
        const onAssistantTurn = events.onAssistantTurn;
        events.onAssistantTurn = (turn) => {
          onAssistantTurn?.(turn);
          // Heard, even if the person cut in (they then talk to the caller instead of the bot).
          this.briefings.spoken(callId, {
            ok: turn.heard.trim() !== '',
            reason: turn.heard.trim() === '' ? 'the briefing was not heard' : turn.interrupted ? 'briefed (the person cut in)' : 'briefed',
          });
        };
      }
      session = new CallSession({
        callId,
        agent,
        metadata: record.metadata as Record<string, unknown>,
        direction: record.direction === 'inbound' ? 'inbound' : 'outbound',
        channel: recorder ? new RecordingMediaChannel(channel, recorder) : channel,
        services: this.deps.services.forAgent(agent),
        log,
        events,
        actions: {
          transfer: (destination) =>
            (destination.mode ?? DEFAULT_TRANSFER_MODE) === 'warm'
              ? warmTransferCall(this.deps, this, callId, destination)
              : transferCall(this.deps, this, callId, destination.to, { description: destination.description }),
        },
      });
    } catch (error) {
      channel.close('session set-up failed');
      if (recorder) await recorder.close().catch(() => {});
      await failCallMedia(this.deps, callId, `session set-up failed: ${messageOf(error)}`);
      return;
    }
    if (recorder) store.addEvent(callId, 'recording.started', { path: recorder.path });
    const live: LiveCall = { session, channel };
    this.calls.set(callId, live);
    const early = this.earlyVerdicts.get(callId);
    if (early) {
      this.earlyVerdicts.delete(callId);
      session.carrierAnsweredBy(early.answeredBy, early.evidence);
    }
    metrics.callStarted(record.carrier);
    let outcome: TaskOutcome;
    try {
      outcome = await session.run();
    } catch (error) {
      this.writer.flush();
      await failCallMedia(this.deps, callId, `session failed: ${messageOf(error)}`);
      return;
    } finally {
      this.calls.delete(callId);
      metrics.callEnded(record.carrier);
      channel.close('call ended');
    }
    const briefing = this.briefings.get(callId);
    if (briefing) this.briefings.ended(callId, 'session over');
    const transfer = live.transfer ?? briefing?.bridged;
    if (transfer && (await transfer)) session.endReason = 'transferred';
    if (recorder) {
      const saved = await recorder.close();
      store.setRecordingPath(callId, saved.path);
      store.addEvent(callId, 'recording.saved', { durationSec: round3(saved.durationSec), cutSec: round3(saved.cutSec) });
    }
    if (this.briefings.takeResumed(callId)) {
      // A failed warm transfer took the caller back to the bot: the new session on this call finishes the record.
      this.writer.flush();
      store.addEvent(callId, 'media.ended', { kind: outcome.kind, reason: 'on hold for a warm transfer; the bot took the call back' });
      return;
    }
    await this.finish(callId, session, outcome, channel);
    log.info({ outcome: outcome.kind, reason: session.endReason ?? outcome.reason, carrier: record.carrier }, 'call finished');
  }

  /**
   * Gives the call's agent the carrier's answering-machine verdict: now when its session runs here (`'live'`), or
   * when it starts (`'held'`, the verdict beat the media); `'ended'` when the call is over.
   */
  carrierAnsweredBy(
    callId: string,
    answeredBy: 'human' | 'machine' | 'unknown',
    evidence: string,
    final: boolean,
  ): 'live' | 'held' | 'ended' {
    const call = this.calls.get(callId);
    if (call) {
      call.session.carrierAnsweredBy(answeredBy, evidence);
      return 'live';
    }
    if (final) return 'ended';
    this.earlyVerdicts.set(callId, { answeredBy, evidence });
    if (this.earlyVerdicts.size > MAX_EARLY_VERDICTS) this.earlyVerdicts.delete(this.earlyVerdicts.keys().next().value as string);
    return 'held';
  }

  /** A warm transfer's briefing leg `callId` (a call of ours to the person): its session says `summary`. */
  prepareBriefing(callId: string, summary: string): BriefingLeg {
    return this.briefings.prepare(callId, summary);
  }

  /** While a warm transfer of `callId` runs: a new media session on it (the caller taken back) opens with `line`. */
  prepareResume(callId: string, line: string): void {
    this.briefings.prepareResume(callId, line);
  }

  dropResume(callId: string): void {
    this.briefings.dropResume(callId);
  }

  /** The carrier took the caller of `callId` back to the bot (a new session finishes the record). */
  markResumed(callId: string): void {
    this.briefings.markResumed(callId);
  }

  /** The carrier reported a final status for `callId`: a briefing waiting on it is over. */
  legEnded(callId: string, status: string): void {
    this.briefings.ended(callId, status);
  }

  /** A transfer of a live call started; `done` tells whether it went through. */
  transferring(callId: string, done: Promise<boolean>): void {
    const call = this.calls.get(callId);
    if (call) call.transfer = done;
  }

  /** The call was handed to a person: its session ends now, with the reason `transferred`. */
  transferred(callId: string): void {
    const call = this.calls.get(callId);
    if (!call) return;
    call.session.endReason = 'transferred';
    call.session.cancel('transferred');
  }

  /** Stops a live call's session at once (the carrier ended the call, shutdown). No-op for calls not live here. */
  cancel(callId: string, reason: string): void {
    this.calls.get(callId)?.session.cancel(reason);
  }

  /** Cancels every live call; returns their ids. */
  cancelAll(reason: string): string[] {
    const ids = [...this.calls.keys()];
    for (const id of ids) this.cancel(id, reason);
    return ids;
  }

  /** Closes a claimed socket whose session has not started (1001 at shutdown, 1008 when refused). */
  closeClaim(callId: string, code: number, reason: string): void {
    const close = this.claims.get(callId);
    this.claims.delete(callId);
    close?.(code, reason);
  }

  /** Closes every claimed socket whose session has not started; returns their call ids. */
  closeAllClaims(code: number, reason: string): string[] {
    const ids = [...this.claims.keys()];
    for (const id of ids) this.closeClaim(id, code, reason);
    return ids;
  }

  private async finish(callId: string, session: CallSession, outcome: TaskOutcome, channel: MediaChannel): Promise<void> {
    const { store } = this.deps;
    this.writer.flush(); // the session's last turns and events, before the record is read and closed
    const reason = session.endReason ?? outcome.reason;
    // Media that broke under the call (lost peer, socket error) fails it, as a fatal pipeline error does.
    const mediaFailure = channel.failure;
    const failed = outcome.failure !== undefined || mediaFailure !== undefined;
    store.addEvent(callId, 'media.ended', {
      kind: outcome.kind,
      reason: outcome.reason,
      ...(channel.inboundStats ? { inbound: channel.inboundStats() } : {}),
    });
    // The agent (or a failure) ended the call: hang up the carrier leg too, not just the media stream.
    if (outcome.kind === 'ended' || failed) await hangUpCarrierLeg(this.deps, callId, reason);
    if (session.answeredBy) {
      const { answeredBy, how, decidedAfterMs, evidence } = session.answeredBy;
      store.setAnsweredBy(callId, { answeredBy, how, decidedAfterMs, ...(evidence ? { evidence } : {}) });
    }
    const latencies = store.getCall(callId)?.turns.flatMap((t) => (t.latency ? [t.latency as unknown as TurnLatency] : [])) ?? [];
    if (latencies.length > 0) store.setLatencySummary(callId, summariseLatency(latencies));
    store.updateStatus(callId, failed ? 'failed' : 'completed', {
      reason,
      ...(outcome.failure !== undefined
        ? { error: { message: outcome.reason, code: 'pipeline_failed' } }
        : mediaFailure !== undefined
          ? { error: { message: mediaFailure, code: 'media_lost' } }
          : {}),
    });
  }
}
