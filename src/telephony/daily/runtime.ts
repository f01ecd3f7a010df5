import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { CallStatus } from '../call-status.ts';
import type { CarrierContext, CarrierRuntime, OutboundCallRequest, TransferResult } from '../carrier-adapter.ts';
import { CarrierError } from '../carrier-error.ts';
import type { CarrierCallInfo, CarrierCallRef, PlacedCall } from '../carrier.ts';
import type { WebhookVerification } from '../webhook-verification.ts';
import { BotLegs, type BotLeg } from './bot-legs.ts';
import { dailyStatusUpdate, type DailyCall } from './call-state.ts';
import { dialOutFailure, statusForDialEvent, type DialEvent } from './dial-events.ts';
import { DailyApiError, DailyRestClient, roomSipEndpoints, type DailyRoom, type DialOutSettings } from './rest-client.ts';
import { transferDailyCall } from './call-transfer.ts';
import { RoomMediaChannel } from './room-channel.ts';
import { dailyRoomPropertiesSchema, mergeRoomProperties, type DailyRoomPropertiesInput } from './room-properties.ts';
import { DAILY, DAILY_DEFAULTS, type DailySettings } from './settings.ts';
import {
  PINLESS_SIGNATURE_HEADER,
  PINLESS_TIMESTAMP_HEADER,
  verifyDailyWebhook,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from './webhook-signature.ts';

/** Codecs we ask Daily for on every SIP leg (Daily's pages disagree on defaults, so we always say). */
const ROOM_CODECS = { audio: ['PCMU', 'PCMA'] };
/** Longest wait for one dial-out attempt's outcome event before it counts as unanswered. */
const DIAL_OUT_OUTCOME_TIMEOUT_MS = 120_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface DialInRequest {
  /** Our call id (record created by the route). */
  callId: string;
  /** Daily's held call. */
  dailyCallId: string;
  callDomain: string;
  from: string;
  to: string;
  /** The start body's `dailyRoomProperties` (validated). @default none */
  roomProperties?: DailyRoomPropertiesInput;
}

/** What `POST /daily/start` passes to {@link DailyRuntime.placeCall} in `OutboundCallRequest.carrierOptions`. */
export interface DailyCarrierOptions {
  roomProperties?: DailyRoomPropertiesInput;
}

type AttemptOutcome = { kind: 'answered' } | { kind: 'failed'; status: CallStatus; cause: string; retry: boolean };

/**
 * Live Daily: rooms over REST, the bot's SIP leg into each room (our SIP endpoint), pinless dial-in (bridge the
 * held caller with `pinlessCallUpdate`, then the bot greets) and dial-out (`dialOut/start` with retries; the agent
 * starts once the callee answered and waits for their first words). Rooms are deleted when calls end.
 */
export class DailyRuntime implements CarrierRuntime {
  readonly name = DAILY;
  readonly client: DailyRestClient;
  readonly legs: BotLegs;
  private readonly calls = new Map<string, DailyCall>();
  private readonly byRoom = new Map<string, DailyCall>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private webhookHmac: string | undefined;
  private setup: Promise<void> | undefined;

  constructor(
    private readonly settings: DailySettings & { apiKey: string },
    private readonly context: CarrierContext,
  ) {
    this.client = new DailyRestClient({ apiKey: settings.apiKey, ...(settings.apiUrl ? { apiUrl: settings.apiUrl } : {}) });
    this.webhookHmac = settings.webhookHmac;
    this.legs = new BotLegs(
      {
        port: settings.sipPort ?? DAILY_DEFAULTS.sipPort,
        bindAddress: settings.sipBindAddress ?? DAILY_DEFAULTS.sipBindAddress,
        ...(settings.sipPublicAddress ? { publicAddress: settings.sipPublicAddress } : {}),
        ...(settings.rtpPortMin !== undefined ? { rtpPortMin: settings.rtpPortMin } : {}),
        ...(settings.rtpPortMax !== undefined ? { rtpPortMax: settings.rtpPortMax } : {}),
        codecs: ['PCMU', 'PCMA'],
        userAgent: 'Switchboard (Daily bot leg)',
      },
      context.log.child({ carrier: DAILY }),
    );
  }

  private get botLegMode() {
    return this.settings.botLeg ?? DAILY_DEFAULTS.botLeg;
  }

  /** Checks the pinless dial-in webhook's `X-Pinless-Signature`. */
  verifyPinless(request: FastifyRequest, rawBody: string): WebhookVerification {
    return verifyDailyWebhook({
      secret: this.settings.pinlessHmac,
      timestamp: request.headers[PINLESS_TIMESTAMP_HEADER],
      signature: request.headers[PINLESS_SIGNATURE_HEADER],
      rawBody,
      nowMs: Date.now(),
      maxAgeSec: this.settings.webhookMaxAgeSec ?? DAILY_DEFAULTS.webhookMaxAgeSec,
      names: { timestamp: 'X-Pinless-Timestamp', signature: 'X-Pinless-Signature' },
    });
  }

  /** Checks a `dialin.*`/`dialout.*` webhook's `X-Webhook-Signature`. */
  verifyEvent(request: FastifyRequest, rawBody: string): WebhookVerification {
    return verifyDailyWebhook({
      secret: this.webhookHmac,
      timestamp: request.headers[WEBHOOK_TIMESTAMP_HEADER],
      signature: request.headers[WEBHOOK_SIGNATURE_HEADER],
      rawBody,
      nowMs: Date.now(),
      maxAgeSec: this.settings.webhookMaxAgeSec ?? DAILY_DEFAULTS.webhookMaxAgeSec,
      names: { timestamp: 'X-Webhook-Timestamp', signature: 'X-Webhook-Signature' },
    });
  }

  /** Sandbox: points the domain's webhook at `/daily/events` (once, on first use, when the public URL is known). */
  private ensureSetup(): Promise<void> {
    if (!this.settings.registerWebhook) return Promise.resolve();
    if (!this.setup) {
      // Our own secret, known before Daily's test request to the URL arrives.
      const hmac = randomBytes(32).toString('base64');
      const previous = this.webhookHmac;
      this.webhookHmac = hmac;
      this.setup = this.client.createWebhook({ url: `${this.context.publicUrls.http}/daily/events`, hmac }).then(
        () => {},
        (error: unknown) => {
          this.webhookHmac = previous;
          this.setup = undefined;
          throw error;
        },
      );
    }
    return this.setup;
  }

  // ---- dial-in ----------------------------------------------------------------------------------------------

  /**
   * Pinless dial-in: a room with a SIP endpoint, the bot's leg in it, then `pinlessCallUpdate` bridges the held
   * caller, and the agent runs (it greets first: the record is inbound). Failures end the record as `failed`.
   */
  async startDialIn(request: DialInRequest): Promise<void> {
    const call = this.track({
      callId: request.callId,
      kind: 'dial-in',
      from: request.from,
      to: request.to,
      dialin: { callId: request.dailyCallId, callDomain: request.callDomain },
      ...(request.roomProperties ? { roomProperties: request.roomProperties } : {}),
    });
    try {
      await this.ensureSetup();
      const room = await this.createRoom(call, true);
      const leg = await this.bringBotIn(call, room, 1);
      const sipUri = roomSipEndpoints(room)[0];
      if (!sipUri) throw new DailyApiError('createRoom', 200, null, 'the room has no sip_uri endpoint');
      call.bridging = true;
      await this.client.pinlessCallUpdate({ callId: request.dailyCallId, callDomain: request.callDomain, sipUri });
      if (call.ended) return;
      call.answered = true;
      call.answeredAt = new Date();
      this.runAgent(call, leg);
    } catch (error) {
      await this.finish(call, 'failed', messageOf(error));
    }
  }

  // ---- a room for another carrier's call ---------------------------------------------------------------------

  /**
   * The seed's Plivo → Daily design: a room with a SIP endpoint, the bot's leg in it and the agent running on that
   * leg; the other carrier dials the returned endpoint and the room mixes the two. The call's own carrier keeps its
   * status; the room is deleted when the session ends.
   */
  async sipLeg(callId: string): Promise<string> {
    const call = this.track({ callId, kind: 'leg', from: '', to: '' });
    try {
      await this.ensureSetup();
      const room = await this.createRoom(call, true);
      const leg = await this.bringBotIn(call, room, 1);
      const sipUri = roomSipEndpoints(room)[0];
      if (!sipUri) throw new DailyApiError('createRoom', 200, null, 'the room has no sip_uri endpoint');
      call.answered = true;
      call.answeredAt = new Date();
      this.runAgent(call, leg);
      return sipUri;
    } catch (error) {
      call.ended = true;
      await this.cleanUp(call);
      throw error;
    }
  }

  // ---- dial-out ---------------------------------------------------------------------------------------------

  async placeCall(request: OutboundCallRequest): Promise<PlacedCall> {
    const options = dailyCarrierOptions(request.carrierOptions);
    const call = this.track({
      callId: request.callId,
      kind: 'dial-out',
      from: request.from,
      to: request.to,
      ...(options.roomProperties ? { roomProperties: options.roomProperties } : {}),
    });
    let room: DailyRoom;
    try {
      await this.ensureSetup();
      room = await this.createRoom(call, false);
    } catch (error) {
      this.forget(call);
      throw carrierError(request.callId, 'placeCall', error);
    }
    const target: DialOutSettings = request.to.startsWith('sip')
      ? { sipUri: withHeaders(request.to, request.headers ?? {}) }
      : {
          phoneNumber: request.to,
          // Daily's callerId is the purchased number's id (a UUID); a phone number in `from` is only recorded.
          ...(UUID.test(request.from) ? { callerId: request.from } : this.settings.callerId ? { callerId: this.settings.callerId } : {}),
          codecs: { audio: ROOM_CODECS.audio },
        };
    void this.runDialOut(call, room, target);
    return { carrier: DAILY, carrierCallId: room.name, requestId: room.name, status: 'queued' };
  }

  private async runDialOut(call: DailyCall, room: DailyRoom, target: DialOutSettings): Promise<void> {
    try {
      const leg = await this.bringBotIn(call, room, 0);
      const retries = this.settings.dialoutRetries ?? DAILY_DEFAULTS.dialoutRetries;
      for (let attempt = 0; ; attempt++) {
        if (call.ended) return;
        const outcome = await this.attemptDialOut(call, room.name, target);
        if (call.ended) return;
        if (outcome.kind === 'answered') {
          call.answered = true;
          call.answeredAt = new Date();
          this.apply(call, 'in-progress', 'dialout.answered');
          this.runAgent(call, leg);
          return;
        }
        if (!outcome.retry || attempt >= retries) {
          await this.finish(call, outcome.status, `${outcome.cause} (after ${attempt + 1} attempt${attempt === 0 ? '' : 's'})`);
          return;
        }
        const delayMs = retryDelayMs(attempt, this.settings.dialoutRetryDelayMs ?? DAILY_DEFAULTS.dialoutRetryDelayMs);
        this.apply(
          call,
          'ringing',
          `dialout.error: ${outcome.status}; attempt ${attempt + 2} of ${retries + 1} in ${delayMs} ms`,
          outcome.cause,
        );
        await this.sleep(delayMs);
      }
    } catch (error) {
      await this.finish(call, 'failed', messageOf(error));
    }
  }

  /** One `dialOut/start` and its outcome event (answered, error, or stopped before an answer). */
  private async attemptDialOut(call: DailyCall, room: string, target: DialOutSettings): Promise<AttemptOutcome> {
    call.attempts += 1;
    call.sessionId = undefined;
    // The bot's leg holds what it hears until the agent attaches (the callee's "Hello?" said as they answer may come
    // before our `dialout.answered` webhook); the room's silence before this attempt rings is of no use to it.
    call.botLeg?.channel.discardEarlyAudio();
    const outcome = new Promise<AttemptOutcome>((resolve) => {
      const timer = setTimeout(
        () => resolve({ kind: 'failed', status: 'no-answer', cause: 'no dial-out outcome event', retry: true }),
        DIAL_OUT_OUTCOME_TIMEOUT_MS,
      );
      this.timers.add(timer);
      call.onDialEvent = (event) => {
        if (event.type === 'dialout.connected') return this.apply(call, 'ringing', event.type);
        if (event.type === 'dialout.warning') return;
        clearTimeout(timer);
        this.timers.delete(timer);
        call.onDialEvent = undefined;
        if (event.type === 'dialout.answered') return resolve({ kind: 'answered' });
        const status = event.type === 'dialout.error' ? dialOutFailure(event.payload) : 'no-answer';
        resolve({ kind: 'failed', status, cause: describeEvent(event), retry: true });
      };
    });
    try {
      const { sessionId } = await this.client.startDialOut(room, target);
      call.sessionId = sessionId;
    } catch (error) {
      call.onDialEvent = undefined;
      // Errors returned by dialOut/start never come as events (Pipecat issue #2418): decide here.
      const retry = error instanceof DailyApiError && error.retryable;
      return { kind: 'failed', status: 'failed', cause: messageOf(error), retry };
    }
    if (call.ended) return { kind: 'failed', status: 'canceled', cause: 'call ended', retry: false };
    return outcome;
  }

  // ---- events -----------------------------------------------------------------------------------------------

  /** A verified `dialin.*` / `dialout.*` event. Returns our call id when it belonged to a call. */
  onDialEvent(event: DialEvent): string | undefined {
    const call = event.room ? this.byRoom.get(event.room) : undefined;
    if (!call || call.ended) return call?.callId;
    if (event.sessionId && event.sessionId === call.botSessionId) {
      // The room's dial-out to the bot: only its end matters (the agent's channel notices it too).
      return call.callId;
    }
    if (event.type.startsWith('calltransfer.')) {
      this.context.log.info({ callId: call.callId, type: event.type, to: event.payload.to_endpoint }, 'Daily transfer event');
      call.onTransferEvent?.(event);
      return call.callId;
    }
    if (event.type === 'dialin.connected' && call.bridging && !call.callerSessionId) call.callerSessionId = event.sessionId;
    if (call.transferred && (event.type === 'dialout.stopped' || event.type === 'dialin.stopped')) {
      return call.callId; // the transferred party left the room; the session ends with the transfer
    }
    if (call.onDialEvent && event.type.startsWith('dialout.')) {
      call.onDialEvent(event);
      return call.callId;
    }
    const status = statusForDialEvent(event.type, call.answered);
    if (status === 'completed' || status === 'canceled' || status === 'failed') void this.finish(call, status, describeEvent(event));
    return call.callId;
  }

  // ---- rooms and the bot's leg ------------------------------------------------------------------------------

  private async createRoom(call: DailyCall, dialIn: boolean): Promise<DailyRoom> {
    const mode = this.botLegMode;
    const exp = Math.floor(Date.now() / 1000) + (this.settings.roomExpirySec ?? DAILY_DEFAULTS.roomExpirySec);
    const endpoints = (dialIn ? 1 : 0) + (mode === 'dial-room' ? 1 : 0);
    const { properties, overridden } = mergeRoomProperties(call.roomProperties, {
      exp,
      eject_at_room_exp: true,
      enable_dialout: !dialIn || mode === 'dial-bot',
      ...(endpoints > 0
        ? {
            sip: {
              display_name: dialIn ? call.from : 'Switchboard',
              video: false,
              sip_mode: 'dial-in',
              num_endpoints: endpoints,
              codecs: ROOM_CODECS,
            },
          }
        : {}),
    });
    if (overridden.length > 0) {
      this.context.log.info({ callId: call.callId, overridden }, 'dailyRoomProperties: the flow needs its own values for these');
    }
    const room = await this.client.createRoom({
      name: `sb-${call.callId.replace(/[^A-Za-z0-9-]/g, '').slice(0, 40)}-${randomBytes(3).toString('hex')}`,
      privacy: 'private',
      properties,
    });
    call.room = room.name;
    this.byRoom.set(room.name, call);
    return room;
  }

  /** Brings the bot's SIP leg into the room; `endpointIndex` is the room endpoint `dial-room` uses. */
  private async bringBotIn(call: DailyCall, room: DailyRoom, endpointIndex: number): Promise<BotLeg> {
    let leg: BotLeg;
    if (this.botLegMode === 'dial-room') {
      const uri = roomSipEndpoints(room)[endpointIndex];
      if (!uri) throw new DailyApiError('createRoom', 200, null, `the room has no SIP endpoint #${endpointIndex}`);
      leg = await this.legs.dial(call.callId, uri, { 'X-Switchboard-Call': call.callId }, DAILY_DEFAULTS.botLegTimeoutMs);
    } else {
      const expected = await this.legs.expect(call.callId);
      call.botUri = expected.uri;
      expected.leg.catch(() => {}); // handled below; the REST call may fail first
      const { sessionId } = await this.client.startDialOut(room.name, {
        sipUri: `${expected.uri}?x-daily_display_name=Switchboard`,
        displayName: 'Switchboard',
        video: false,
        codecs: { audio: ROOM_CODECS.audio },
      });
      call.botSessionId = sessionId;
      leg = await expected.leg;
      call.botUri = undefined;
    }
    call.botLeg = leg;
    leg.call.once('ended', (end) => {
      if (!call.ended && !call.answered)
        void this.finish(call, 'failed', `the bot's leg ended before the call was answered: ${end.reason}`);
    });
    if (call.ended) await leg.call.hangUp('call ended');
    return leg;
  }

  private runAgent(call: DailyCall, leg: BotLeg): void {
    const dtmf =
      call.kind === 'dial-out'
        ? (digits: string) => {
            if (!call.room || !call.sessionId) return;
            this.client.sendDtmf(call.room, call.sessionId, digits).catch((error: unknown) => {
              this.context.log.warn({ callId: call.callId, err: messageOf(error) }, 'Daily sendDTMF failed');
            });
          }
        : undefined;
    const channel = new RoomMediaChannel(leg.channel, dtmf);
    this.context.calls
      .runMedia(call.callId, channel)
      .catch((error: unknown) => this.context.log.error({ callId: call.callId, err: messageOf(error) }, 'Daily call media failed'))
      .finally(() => {
        call.ended = true;
        call.endedAt ??= new Date();
        void this.cleanUp(call);
      });
  }

  // ---- transfer ---------------------------------------------------------------------------------------------

  /** Cold transfer of the other party through Daily (see {@link transferDailyCall}). */
  async transfer(ref: CarrierCallRef, destination: string): Promise<TransferResult> {
    const call = this.calls.get(ref.callId);
    if (!call || call.ended || !call.room) return { ok: false, status: 'not-found', reason: 'no live Daily call' };
    return transferDailyCall(this.client, this.settings, call, destination);
  }

  // ---- ending -----------------------------------------------------------------------------------------------

  private async finish(call: DailyCall, status: CallStatus, cause: string): Promise<void> {
    if (call.ended) return;
    call.ended = true;
    call.endedAt = new Date();
    call.status = status;
    this.context.log.info({ callId: call.callId, status, cause, room: call.room, attempts: call.attempts }, 'Daily call ended');
    this.apply(call, status, cause, status === 'completed' ? null : cause);
    await this.cleanUp(call);
  }

  /** Stops the dial-out, hangs up the bot's leg and deletes the room (404 = already gone). Idempotent. */
  private async cleanUp(call: DailyCall): Promise<void> {
    if (!this.calls.has(call.callId)) return;
    this.forget(call);
    call.onDialEvent = undefined;
    if (call.botUri) this.legs.forget(call.botUri);
    const log = this.context.log.child({ callId: call.callId, room: call.room });
    if (call.room && call.sessionId && call.kind === 'dial-out' && !call.transferred) {
      await this.client.stopDialOut(call.room, call.sessionId).catch((error: unknown) => {
        if (!(error instanceof DailyApiError && error.httpStatus === 404)) log.debug({ err: messageOf(error) }, 'dialOut/stop failed');
      });
    }
    await call.botLeg?.call.hangUp('call ended').catch(() => {});
    if (call.room && !call.transferred)
      await this.client.deleteRoom(call.room).catch((error: unknown) => log.warn({ err: messageOf(error) }, 'deleting the room failed'));
  }

  async hangUp(ref: CarrierCallRef): Promise<void> {
    const call = this.calls.get(ref.callId);
    if (!call) return;
    call.ended = true;
    call.endedAt ??= new Date();
    await this.cleanUp(call);
  }

  async getCall(ref: CarrierCallRef): Promise<CarrierCallInfo> {
    const call = this.calls.get(ref.callId);
    if (!call) {
      throw new CarrierError({
        carrier: DAILY,
        operation: 'getCall',
        callId: ref.callId,
        httpStatus: 404,
        carrierCode: 'not-found',
        carrierMessage: 'no live Daily call',
      });
    }
    return {
      carrier: DAILY,
      carrierCallId: call.room ?? call.callId,
      status: call.ended ? call.status : call.answered ? 'in-progress' : 'ringing',
      carrierStatus: call.ended ? 'ended' : call.answered ? 'answered' : 'dialling',
      from: call.from,
      to: call.to,
      direction: call.kind === 'dial-out' ? 'outbound' : 'inbound',
      startedAt: call.startedAt,
      answeredAt: call.answeredAt,
      endedAt: call.endedAt,
      durationSec: null,
    };
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.calls.values()].map((call) => this.hangUp({ callId: call.callId })));
    await this.legs.close();
  }

  // ---- helpers ----------------------------------------------------------------------------------------------

  private track(
    init: Pick<DailyCall, 'callId' | 'kind' | 'from' | 'to'> & { dialin?: DailyCall['dialin']; roomProperties?: DailyRoomPropertiesInput },
  ): DailyCall {
    const call: DailyCall = {
      ...init,
      room: undefined,
      botLeg: undefined,
      botUri: undefined,
      botSessionId: undefined,
      sessionId: undefined,
      attempts: 0,
      answered: false,
      ended: false,
      status: 'queued',
      startedAt: new Date(),
      answeredAt: null,
      endedAt: null,
      onDialEvent: undefined,
    };
    this.calls.set(call.callId, call);
    return call;
  }

  private forget(call: DailyCall): void {
    this.calls.delete(call.callId);
    if (call.room) this.byRoom.delete(call.room);
  }

  private apply(call: DailyCall, status: CallStatus, carrierStatus: string, hangupCause: string | null = null): void {
    if (call.kind === 'leg') return; // the call's own carrier reports its status
    this.context.calls.applyStatus(dailyStatusUpdate(call, status, carrierStatus, hangupCause), call.callId);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

/** The Daily part of an outbound request's `carrierOptions` (validated again: any caller may place calls). */
function dailyCarrierOptions(options: Record<string, unknown> | undefined): DailyCarrierOptions {
  if (!options?.roomProperties) return {};
  return { roomProperties: dailyRoomPropertiesSchema.parse(options.roomProperties) };
}

/** Wait before retry number `attempt + 1`: the base delay, doubled for each further retry, at most 15 s. */
export function retryDelayMs(attempt: number, baseMs: number): number {
  return Math.min(baseMs * 2 ** attempt, DAILY_DEFAULTS.dialoutRetryMaxDelayMs);
}

/** Query parameters on a dial-out `sipUri` become `X-` headers of Daily's INVITE. */
function withHeaders(uri: string, headers: Record<string, string>): string {
  const entries = Object.entries(headers);
  if (entries.length === 0) return uri;
  const query = entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return `${uri}${uri.includes('?') ? '&' : '?'}${query}`;
}

function describeEvent(event: DialEvent): string {
  const detail = Object.entries(event.payload)
    .filter(([key, value]) => typeof value === 'string' && /error|reason|msg|message/i.test(key))
    .map(([, value]) => value as string)
    .join('; ');
  return detail ? `${event.type}: ${detail}` : event.type;
}

function carrierError(callId: string, operation: 'placeCall' | 'hangUp' | 'getCall', error: unknown): CarrierError {
  if (error instanceof DailyApiError) {
    return new CarrierError({
      carrier: DAILY,
      operation,
      callId,
      httpStatus: error.httpStatus,
      carrierCode: error.providerCode,
      carrierMessage: error.info,
      cause: error,
    });
  }
  return new CarrierError({
    carrier: DAILY,
    operation,
    callId,
    httpStatus: null,
    carrierCode: null,
    carrierMessage: messageOf(error),
    cause: error,
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
