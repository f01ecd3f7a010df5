/**
 * The SIP carrier's live part: one {@link SipEndpoint} in this process. Calls we place and INVITEs we receive
 * become call records through the server's {@link CallControl} (status from SIP responses, the SIP Call-ID as the
 * carrier call id, the BYE reason), and each answered call's RTP channel runs the agent through `runMedia`.
 */
import { randomBytes } from 'node:crypto';
import type { CallStatus } from '../../call-status.ts';
import { isFinalCallStatus } from '../../call-status.ts';
import type { Logger } from '../../log.ts';
import type { CallStatusUpdate } from '../call-status.ts';
import type { CarrierContext, CarrierRuntime, OutboundCallRequest, TransferResult } from '../carrier-adapter.ts';
import { CarrierError } from '../carrier-error.ts';
import type { CarrierCallInfo, CarrierCallRef, PlacedCall } from '../carrier.ts';
import type { RtpChannel } from '../../transports/rtp/rtp-channel.ts';
import type { IncomingSipCall } from './incoming-sip-call.ts';
import { parseSipUri } from './lib/sip-codec.ts';
import { SipCallFailedError } from './outgoing-sip-call.ts';
import type { SipCall, SipCallEnd } from './sip-call.ts';
import { SipEndpoint, type SipEndpointDependencies } from './sip-endpoint.ts';
import { SIP, type SipSettings } from './settings.ts';

/** The log line each SIP call's RTP counters are written under when it ends. */
export const SIP_MEDIA_STATS_LOG = 'SIP media stats';

/** How many ended calls `getCall` still knows. */
const ENDED_CALLS_KEPT = 1000;

/** What the runtime knows of one SIP call (ours or the peer's). */
interface TrackedCall {
  call: SipCall;
  /** Our call id (set once the record exists). */
  callId: string | undefined;
  direction: 'inbound' | 'outbound';
  from: string;
  to: string;
  status: CallStatus;
  /** Last SIP status or request that moved the call (`180`, `200`, `BYE`, `486`). */
  sipStatus: string;
  /** Resolves when the agent's session on the call's media is over (answered calls). */
  media: Promise<void> | undefined;
}

export class SipRuntime implements CarrierRuntime {
  readonly name = SIP;
  readonly endpoint: SipEndpoint;
  private readonly calls = new Map<string, TrackedCall>();
  /** One-time users of {@link sipLeg}: request-URI user → our call id. */
  private readonly legs = new Map<string, string>();
  private readonly log: Logger;

  constructor(
    private readonly settings: SipSettings,
    private readonly context: CarrierContext,
    dependencies: SipEndpointDependencies = {},
  ) {
    this.log = context.log.child({ carrier: SIP });
    this.endpoint = new SipEndpoint(settings.endpoint, { logger: context.log, ...dependencies });
    this.endpoint.on('incoming', (call) => void this.onIncoming(call));
    this.endpoint.on('refused', ({ method, status, reason, source, callId }) =>
      this.log.warn({ carrierCallId: callId, method, status, reason, source: `${source.address}:${source.port}` }, 'SIP request refused'),
    );
  }

  /** Binds SIP_PORT (and registers when a registrar is configured). */
  async start(): Promise<void> {
    await this.endpoint.start();
    this.log.info({ port: this.endpoint.port, uri: this.endpoint.uri('bot') }, 'SIP carrier ready');
  }

  async placeCall(request: OutboundCallRequest): Promise<PlacedCall> {
    let call;
    try {
      call = await this.endpoint.placeCall({
        to: request.to,
        from: request.from,
        ...(request.headers ? { headers: request.headers } : {}),
        ...(request.ringTimeoutSec !== undefined ? { ringTimeoutMs: request.ringTimeoutSec * 1000 } : {}),
      });
    } catch (error) {
      throw new CarrierError({
        carrier: SIP,
        operation: 'placeCall',
        callId: request.callId,
        httpStatus: null,
        carrierCode: null,
        carrierMessage: error instanceof Error ? error.message : String(error),
        cause: error,
      });
    }
    const tracked = this.track(call, { callId: request.callId, direction: 'outbound', from: request.from, to: request.to });
    call.on('progress', ({ type, sipCode }) => {
      if (type !== 'ringing') return;
      tracked.status = 'ringing';
      tracked.sipStatus = String(sipCode);
      this.report(tracked, 'ringing');
    });
    call.answered.then(
      (channel) => {
        tracked.status = 'in-progress';
        tracked.sipStatus = '200';
        this.report(tracked, 'in-progress', { answeredAt: call.answeredAt ?? new Date() });
        this.run(tracked, channel);
      },
      (error: unknown) => {
        const failure = error instanceof SipCallFailedError ? error : undefined;
        const sipCode = failure?.sipCode;
        tracked.status = failure?.status ?? 'failed';
        tracked.sipStatus = sipCode !== undefined ? String(sipCode) : 'error';
        this.report(tracked, tracked.status, {
          endedAt: call.endedAt ?? new Date(),
          durationSec: 0,
          hangupCause: error instanceof Error ? error.message : String(error),
          ...(sipCode !== undefined ? { errorCode: String(sipCode) } : {}),
        });
      },
    );
    return { carrier: SIP, carrierCallId: call.carrierCallId, requestId: call.carrierCallId, status: 'queued' };
  }

  async hangUp(ref: CarrierCallRef): Promise<void> {
    const tracked = ref.carrierCallId ? this.calls.get(ref.carrierCallId) : undefined;
    if (!tracked || tracked.call.isEnded) return;
    await tracked.call.hangUp('agent ended the call');
  }

  async getCall(ref: CarrierCallRef): Promise<CarrierCallInfo> {
    const tracked = ref.carrierCallId ? this.calls.get(ref.carrierCallId) : undefined;
    if (!tracked) {
      throw new CarrierError({
        carrier: SIP,
        operation: 'getCall',
        callId: ref.callId,
        httpStatus: 404,
        carrierCode: null,
        carrierMessage: `no SIP call ${ref.carrierCallId ?? '(no Call-ID)'} on this endpoint`,
      });
    }
    const { call } = tracked;
    const end = call.endedAt ?? null;
    return {
      carrier: SIP,
      carrierCallId: call.carrierCallId,
      status: tracked.status,
      carrierStatus: tracked.sipStatus,
      from: tracked.from,
      to: tracked.to,
      direction: tracked.direction,
      startedAt: call.startedAt,
      answeredAt: call.answeredAt ?? null,
      endedAt: end,
      durationSec: call.answeredAt && end ? Math.round((end.getTime() - call.answeredAt.getTime()) / 1000) : null,
    };
  }

  /**
   * Blind transfer with REFER: the peer calls `destination` (a SIP URI, or a number through SIP_TRUNK) and reports
   * the outcome in NOTIFY. The call stays up here; on success the server ends the session and hangs up.
   */
  async transfer(ref: CarrierCallRef, destination: string): Promise<TransferResult> {
    const tracked = ref.carrierCallId ? this.calls.get(ref.carrierCallId) : undefined;
    if (!tracked || tracked.call.isEnded) return { ok: false, status: '481', reason: 'no such SIP call in progress' };
    const target = this.transferTarget(destination);
    if (!target.ok) return { ok: false, status: 'invalid', reason: target.reason };
    const outcome = await tracked.call.transfer(target.uri, { hangUpOnSuccess: false });
    return { ok: outcome.ok, status: String(outcome.status), reason: outcome.reason };
  }

  /**
   * A one-time URI (`sip:leg-<128 random bits>@…`) for the media of another carrier's call (e.g. Plivo
   * `<Dial><User>`): the INVITE to it is answered and the call's agent runs on its RTP; it is hung up when the
   * session ends. Unused URIs expire after 15 minutes.
   */
  async sipLeg(callId: string): Promise<string> {
    const user = `leg-${randomBytes(16).toString('hex')}`;
    this.legs.set(user, callId);
    setTimeout(() => this.legs.delete(user), 15 * 60_000).unref();
    return this.endpoint.uri(user);
  }

  async close(): Promise<void> {
    await this.endpoint.close();
  }

  private async onMediaLeg(call: IncomingSipCall, callId: string): Promise<void> {
    let channel: RtpChannel;
    try {
      channel = await call.accept();
    } catch (error) {
      this.log.warn(
        { callId, carrierCallId: call.carrierCallId, err: error instanceof Error ? error.message : String(error) },
        'media leg not answered',
      );
      return;
    }
    this.log.info({ callId, carrierCallId: call.carrierCallId }, 'media leg connected');
    await this.context.calls.runMedia(callId, channel).catch((error: unknown) => {
      this.log.warn({ callId, err: error instanceof Error ? error.message : String(error) }, 'agent session on a media leg failed');
    });
    if (!call.isEnded) await call.hangUp('session ended').catch(() => {});
  }

  private async onIncoming(call: IncomingSipCall): Promise<void> {
    const legOf = call.requestUser ? this.legs.get(call.requestUser) : undefined;
    if (legOf && call.requestUser) {
      this.legs.delete(call.requestUser);
      return this.onMediaLeg(call, legOf);
    }
    const metadata: Record<string, unknown> = { ...call.headers };
    try {
      this.context.calls.checkMetadata(metadata);
    } catch (error) {
      this.log.warn({ carrierCallId: call.carrierCallId, err: error instanceof Error ? error.message : String(error) }, 'INVITE refused');
      call.reject(413, 'X- headers too large');
      return;
    }
    const user = call.requestUser;
    const routed = user ? this.settings.agentRoutes[user] : undefined;
    const agentCandidates = [routed, user].filter((name): name is string => Boolean(name));
    let channel: RtpChannel;
    try {
      channel = await call.accept();
    } catch (error) {
      // accept() answered the INVITE itself (488 for an unusable offer) or the caller cancelled meanwhile.
      this.log.warn(
        { carrierCallId: call.carrierCallId, err: error instanceof Error ? error.message : String(error) },
        'inbound SIP call not answered',
      );
      return;
    }
    const from = call.from.uri;
    const to = call.to.uri;
    let callId: string;
    try {
      callId = this.context.calls.answer({ carrier: SIP, carrierCallId: call.carrierCallId, from, to, metadata, agentCandidates }).callId;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.log.warn({ carrierCallId: call.carrierCallId, err: reason }, 'inbound SIP call has no agent; hanging up');
      await call.hangUp(`cannot answer: ${reason}`.slice(0, 120), 'error');
      return;
    }
    const tracked = this.track(call, { callId, direction: 'inbound', from, to });
    tracked.status = 'in-progress';
    tracked.sipStatus = '200';
    this.run(tracked, channel);
  }

  /** Runs the agent on an answered call's media; the record's end follows the SIP call's (BYE reason). */
  private run(tracked: TrackedCall, channel: RtpChannel): void {
    const { call } = tracked;
    const callId = tracked.callId as string;
    tracked.media = this.context.calls.runMedia(callId, channel).catch((error: unknown) => {
      this.log.warn(
        { callId, carrierCallId: call.carrierCallId, err: error instanceof Error ? error.message : String(error) },
        'agent session failed',
      );
      void call.hangUp('agent session failed', 'error');
    });
    const ended = (end: SipCallEnd) => {
      tracked.status = end.status;
      tracked.sipStatus =
        end.sipCode !== undefined ? String(end.sipCode) : end.by === 'remote' ? 'BYE' : end.by === 'local' ? 'BYE sent' : 'error';
      const update = {
        endedAt: call.endedAt ?? new Date(),
        durationSec: call.answeredAt ? Math.round(((call.endedAt ?? new Date()).getTime() - call.answeredAt.getTime()) / 1000) : 0,
        hangupCause: end.reason,
        ...(end.sipCode !== undefined ? { errorCode: String(end.sipCode) } : {}),
      };
      // The session hears a BYE or a media failure through the channel and finishes the record with its reason; when we
      // ended the call (the agent hung up, a transfer, shutdown) the session was already ending. The carrier's word
      // (BYE reason, SIP code) is added once the record is final, so it never pre-empts the session's reason.
      void tracked.media?.then(() => this.report(tracked, end.status, update));
      // The final counters: a media thread reports them once the channel has closed there.
      void channel.closedStats.then((stats) => {
        const { packetsSent, packetsReceived, audioFramesSent, lateFrames, skippedSlots, invalidPackets, foreignPackets, jitter } = stats;
        this.log.info(
          {
            callId,
            carrierCallId: call.carrierCallId,
            packetsSent,
            packetsReceived,
            audioFramesSent,
            lateFrames,
            skippedSlots,
            invalidPackets,
            foreignPackets,
            jitterLate: jitter.late,
            jitterLost: jitter.lost,
            jitterConcealed: jitter.concealed,
          },
          SIP_MEDIA_STATS_LOG,
        );
      });
    };
    if (call.isEnded && call.endInfo) ended(call.endInfo);
    else call.once('ended', ended);
  }

  private track(call: SipCall, info: Pick<TrackedCall, 'callId' | 'direction' | 'from' | 'to'>): TrackedCall {
    const tracked: TrackedCall = { call, ...info, status: 'queued', sipStatus: 'INVITE', media: undefined };
    this.calls.set(call.carrierCallId, tracked);
    if (this.calls.size > ENDED_CALLS_KEPT) {
      for (const [key, old] of this.calls) {
        if (this.calls.size <= ENDED_CALLS_KEPT) break;
        if (isFinalCallStatus(old.status)) this.calls.delete(key);
      }
    }
    return tracked;
  }

  /** Applies a status to the call's record, like a webhook carrier's status callback. */
  private report(tracked: TrackedCall, status: CallStatus, extra: Partial<CallStatusUpdate> = {}): void {
    if (!tracked.callId) return;
    const update: CallStatusUpdate = {
      carrier: SIP,
      carrierCallId: tracked.call.carrierCallId,
      requestId: tracked.call.carrierCallId,
      status,
      carrierStatus: tracked.sipStatus,
      timestamp: new Date(),
      startedAt: tracked.call.startedAt,
      answeredAt: tracked.call.answeredAt ?? null,
      endedAt: null,
      durationSec: null,
      sequenceNumber: null,
      errorCode: null,
      hangupCause: null,
      answeredBy: null,
      from: tracked.from,
      to: tracked.to,
      direction: tracked.direction,
      ...extra,
    };
    try {
      this.context.calls.applyStatus(update, tracked.callId);
    } catch (error) {
      this.log.warn(
        { callId: tracked.callId, err: error instanceof Error ? error.message : String(error) },
        'cannot record SIP call status',
      );
    }
  }

  private transferTarget(destination: string): { ok: true; uri: string } | { ok: false; reason: string } {
    const to = destination.trim();
    if (/^sips?:/i.test(to)) return parseSipUri(to) ? { ok: true, uri: to } : { ok: false, reason: `invalid SIP URI: ${to}` };
    const number = to.replace(/[\s().-]/g, '');
    if (!/^\+?[0-9*#]+$/.test(number)) return { ok: false, reason: `not a phone number or SIP URI: ${to}` };
    const trunk = this.settings.endpoint.trunk;
    if (!trunk) return { ok: false, reason: `cannot transfer to ${to}: no SIP trunk configured (SIP_TRUNK)` };
    const host = parseSipUri(/^sips?:/i.test(trunk) ? trunk : `sip:${trunk}`);
    if (!host) return { ok: false, reason: `invalid SIP trunk: ${trunk}` };
    return { ok: true, uri: `sip:${number}@${host.host}${host.port ? `:${host.port}` : ''}` };
  }
}
