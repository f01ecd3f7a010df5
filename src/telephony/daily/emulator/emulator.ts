/**
 * A local Daily: the REST surface a phone agent uses (rooms, meeting tokens, dial-out start/stop/sendDTMF,
 * pinless dial-in, SIP transfers, domain dial-in config, webhooks) with Daily's JSON shapes and error bodies
 * (`{error, info}`), rooms whose SIP legs and simulated people hear each other (`room.ts`), the signed pinless
 * room-creation webhook and signed `dialin.*`/`dialout.*` webhooks.
 *
 * Guesses (Daily does not document them; see README "Daily"): a room accepts SIP legs without any SDK participant;
 * dial-out error payloads carry `error_msg` and `sip_code`; a held dial-in caller waits 60 s for
 * `pinlessCallUpdate`; an unanswered dial-out gives up after 60 s; timestamps of signed webhooks are Unix seconds.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '../../../log.ts';
import { PersonaRegistry } from '../../../sandbox/callees/persona-registry.ts';
import type { Persona } from '../../../sandbox/callees/persona.ts';
import { SimulatedCallee } from '../../../sandbox/callees/simulated-callee.ts';
import type { CalleeVoice } from '../../../sandbox/callees/callee-voice.ts';
import { BodyTooLargeError, sendJson } from '../../../sandbox/carriers/shared/http-util.ts';
import { MediaClock, nowMs } from '../../../sandbox/carriers/shared/media-clock.ts';
import type { MediaChannel } from '../../../transports/media-channel.ts';
import type { IncomingSipCall } from '../../sip/incoming-sip-call.ts';
import { SipCallFailedError } from '../../sip/outgoing-sip-call.ts';
import type { SipCall } from '../../sip/sip-call.ts';
import { SipEndpoint } from '../../sip/sip-endpoint.ts';
import type { DomainDialinConfig } from '../rest-client.ts';
import { dailySignature } from '../webhook-signature.ts';
import type { EmulatedRoom, EmulatedTransfer } from './daily-room.ts';
import { handleDailyRest } from './rest-api.ts';
import type { Participant, ParticipantOrigin, PersonParticipant } from './room.ts';
import { transferOut, type TransferBridge, type TransferRequest } from './transfers.ts';

export interface DailyEmulatorOptions {
  /** Bearer key the REST API accepts. @default a random key */
  apiKey?: string;
  /** `hmac` of the pinless dial-in config that signs room-creation webhooks (base64). @default 32 random bytes */
  pinlessHmac?: string;
  /** Which persona answers which number (dial-out) and who calls in. @default the built-in personas */
  personas?: PersonaRegistry;
  /** Multiplies ringing and persona pauses (media stays real-time). @default 1 */
  timeScale?: number;
  /** @default each persona's eSpeak voice */
  voice?: CalleeVoice;
  /** Unanswered dial-outs fail after this long (× timeScale). @default 60000 */
  noAnswerTimeoutMs?: number;
  /** A held dial-in caller hangs up after this long without `pinlessCallUpdate`. @default 60000 */
  holdTimeoutMs?: number;
  /** @default a new clock */
  clock?: MediaClock;
  /** @default silent */
  logger?: Logger;
  /** @default '127.0.0.1' */
  host?: string;
  /**
   * Holds every `dialin.*`/`dialout.*` webhook this long before sending it (order kept): Daily's webhooks cross the
   * internet, so a `dialout.answered` can arrive after the callee's first words (how late, Daily does not say).
   * @default 0
   */
  eventDelayMs?: number;
}

/** A dial-in caller the emulator is holding until `pinlessCallUpdate` bridges it. */
export interface HeldCaller {
  callId: string;
  callDomain: string;
  from: string;
  to: string;
  persona: Persona | null;
  sipHeaders: Record<string, string>;
  /** Status of the room-creation webhook, when one was sent. */
  webhookStatus: number | null;
  bridgedTo: string | null;
  timer: NodeJS.Timeout | undefined;
  /** The simulated caller once bridged. */
  participant: PersonParticipant | null;
}

export interface WebhookDelivery {
  type: string;
  url: string;
  status: number | null;
  body: string;
}

export interface PlaceDialInOptions {
  from: string;
  /** The Daily number dialled. @default the first pinless config's phone number, else +15550100000 */
  to?: string;
  /** Where the room-creation webhook goes. @default the pinless config for `to` */
  roomCreationApi?: string;
  sipHeaders?: Record<string, string>;
  /** Only hold the caller (for `POST /daily/start {dialin_settings}`): no webhook. @default false */
  holdOnly?: boolean;
  /** @default the persona registered for `from` */
  persona?: Persona;
}

export class DailyEmulator {
  readonly apiKey: string;
  readonly pinlessHmac: string;
  readonly domainId = randomUUID();
  readonly domain = 'sandbox';
  readonly rooms = new Map<string, EmulatedRoom>();
  readonly held = new Map<string, HeldCaller>();
  readonly dialinConfigs: Array<DomainDialinConfig & { id: string }> = [];
  readonly webhooks: Array<{ uuid: string; url: string; hmac: string; eventTypes: string[] | undefined }> = [];
  readonly deliveries: WebhookDelivery[] = [];
  readonly personas: PersonaRegistry;
  readonly clock: MediaClock;
  readonly log: Logger;
  readonly timeScale: number;
  readonly noAnswerTimeoutMs: number;
  /** See {@link DailyEmulatorOptions.eventDelayMs}; tests may change it. */
  eventDelayMs: number;
  url = '';
  private readonly endpoint: SipEndpoint;
  private server: Server | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pendingWebhooks = new Set<Promise<unknown>>();
  /** Participants a call transfer moved out of their room, and the bridge they are in now. */
  readonly bridgeOf = new Map<Participant, TransferBridge>();

  constructor(private readonly options: DailyEmulatorOptions = {}) {
    this.apiKey = options.apiKey ?? `sandbox-daily-${randomBytes(12).toString('hex')}`;
    this.pinlessHmac = options.pinlessHmac ?? randomBytes(32).toString('base64');
    this.personas = options.personas ?? new PersonaRegistry();
    this.log = (options.logger ?? silentLogger()).child({ emulator: 'daily' });
    this.clock = options.clock ?? new MediaClock({ onListenerError: (error) => this.log.error({ err: error }, 'room tick failed') });
    this.timeScale = options.timeScale ?? 1;
    this.noAnswerTimeoutMs = (options.noAnswerTimeoutMs ?? 60_000) * this.timeScale;
    this.eventDelayMs = options.eventDelayMs ?? 0;
    const host = options.host ?? '127.0.0.1';
    this.endpoint = new SipEndpoint(
      { bindAddress: host, port: 0, rtpPortMin: 0, rtpPortMax: 0, codecs: ['PCMU'], userAgent: 'Switchboard Daily emulator' },
      { logger: this.log },
    );
    this.endpoint.on('incoming', (call) => this.onIncomingSip(call));
  }

  /** `host:port` of the rooms' SIP endpoints. */
  get sipHost(): string {
    return `${this.options.host ?? '127.0.0.1'}:${this.endpoint.port}`;
  }

  async start(): Promise<this> {
    await this.endpoint.start();
    const server = createServer((req, res) => {
      handleDailyRest(this, req, res).catch((error: unknown) => {
        if (res.headersSent) return res.destroy();
        if (error instanceof BodyTooLargeError) return sendJson(res, 413, { error: 'invalid-request-error', info: error.message });
        this.log.error({ err: error }, 'REST request failed');
        sendJson(res, 500, { error: 'server-error', info: 'internal error' });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    this.url = `http://${address.address}:${address.port}/v1`;
    return this;
  }

  // ---- dial-in ----------------------------------------------------------------------------------------------

  /**
   * Someone dials the Daily number (or static SIP URI): Daily holds them and POSTs the signed room-creation
   * webhook `{To, From, callId, callDomain, sipHeaders}`. Returns the held caller.
   */
  placeDialIn(options: PlaceDialInOptions): HeldCaller {
    const config = this.dialinConfigs.find((c) => !options.to || c.phone_number === options.to) ?? this.dialinConfigs[0];
    const to = options.to ?? config?.phone_number ?? '+15550100000';
    const caller: HeldCaller = {
      callId: randomUUID(),
      callDomain: this.domainId,
      from: options.from,
      to,
      persona: options.persona ?? this.personas.lookup(options.from),
      sipHeaders: options.sipHeaders ?? {},
      webhookStatus: null,
      bridgedTo: null,
      timer: undefined,
      participant: null,
    };
    this.held.set(caller.callId, caller);
    caller.timer = this.later(this.options.holdTimeoutMs ?? 60_000, () => {
      if (caller.bridgedTo) return;
      this.held.delete(caller.callId);
      this.log.info({ callId: caller.callId }, 'held caller gave up: no pinlessCallUpdate');
    });
    if (options.holdOnly) return caller;
    const url = options.roomCreationApi ?? config?.room_creation_api;
    if (!url) throw new Error('placeDialIn: no room_creation_api (POST /domain-dialin-config first, or pass roomCreationApi)');
    const body = JSON.stringify({
      To: to,
      From: options.from,
      callId: caller.callId,
      callDomain: caller.callDomain,
      ...(Object.keys(caller.sipHeaders).length > 0 ? { sipHeaders: caller.sipHeaders } : {}),
    });
    const secret = config?.hmac ?? this.pinlessHmac;
    void this.post('pinless', url, body, (ts) => ({
      'x-pinless-timestamp': ts,
      'x-pinless-signature': dailySignature(secret, ts, body),
    })).then((status) => (caller.webhookStatus = status));
    return caller;
  }

  /** `POST /dialin/pinlessCallUpdate`: the held caller joins the room owning `sipUri`. */
  bridgeHeldCaller(caller: HeldCaller, room: EmulatedRoom): void {
    if (caller.timer) clearTimeout(caller.timer);
    caller.bridgedTo = room.name;
    const sessionId = randomUUID();
    const participant = this.addPerson(room, caller.persona as Persona, caller.from, { type: 'dialin', sessionId });
    caller.participant = participant;
    this.event('dialin.connected', {
      room: room.name,
      session_id: sessionId,
      sip_from: caller.from,
      sip_to: caller.to,
      call_id: caller.callId,
    });
  }

  // ---- participants -----------------------------------------------------------------------------------------

  addPerson(room: EmulatedRoom, persona: Persona, number: string, origin: ParticipantOrigin): PersonParticipant {
    const callee = new SimulatedCallee({
      persona,
      timeScale: this.timeScale,
      ...(this.options.voice ? { voice: this.options.voice } : {}),
    });
    callee.prepare();
    const participant: PersonParticipant = {
      kind: 'person',
      id: randomUUID(),
      origin,
      joinedAt: nowMs(),
      leftAt: null,
      leaveReason: null,
      callee,
      number,
      dtmfReceived: [],
    };
    room.mixer.add(participant);
    callee.connect(
      {
        // The person's keypad reaches the SIP legs of the room as RFC 4733 events.
        sendDtmf: (digit) => {
          for (const other of room.mixer.live) if (other.kind === 'sip') other.channel.sendDtmf?.(digit);
        },
        hangUp: () => this.depart(room, participant, 'hung up'),
      },
      nowMs(),
    );
    return participant;
  }

  addSipLeg(room: EmulatedRoom, call: SipCall, channel: MediaChannel, origin: ParticipantOrigin): void {
    const participant: Participant = {
      kind: 'sip',
      id: randomUUID(),
      origin,
      joinedAt: nowMs(),
      leftAt: null,
      leaveReason: null,
      call,
      channel,
      queue: [],
      dtmfReceived: [],
    };
    room.mixer.add(participant);
    call.once('ended', (end) => this.depart(room, participant, `SIP leg ended (${end.by}: ${end.reason})`));
  }

  /** A participant hung up: it leaves its room, or the transfer bridge it was moved to. */
  private depart(room: EmulatedRoom, participant: Participant, reason: string): void {
    const bridge = this.bridgeOf.get(participant);
    if (bridge) bridge.end(participant, reason);
    else this.leave(room, participant, reason);
  }

  /** `sipCallTransfer` / `sipRefer` of a participant (see transfers.ts). */
  transfer(room: EmulatedRoom, participant: Participant, request: TransferRequest): EmulatedTransfer {
    return transferOut(this, room, participant, request);
  }

  /** The participant leaves the room without hanging up (a call transfer keeps its call): `*.stopped` fires. */
  detach(room: EmulatedRoom, participant: Participant, reason: string): void {
    room.mixer.detach(participant);
    const { origin } = participant;
    room.sessions.delete(origin.sessionId);
    if (origin.type === 'dialin') this.event('dialin.stopped', { room: room.name, session_id: origin.sessionId, reason });
    if (origin.type === 'dialout') this.event('dialout.stopped', { room: room.name, session_id: origin.sessionId, reason });
  }

  /** Calls a SIP URI from the emulator's endpoint (a call transfer's destination). */
  async callSip(uri: string, fromRoom: string): Promise<{ call: SipCall; channel: MediaChannel }> {
    const call = await this.endpoint.placeCall({
      to: uri,
      from: `sip:${fromRoom}@${this.sipHost}`,
      fromName: 'Daily',
      ringTimeoutMs: this.noAnswerTimeoutMs,
    });
    const channel = await call.answered;
    return { call, channel };
  }

  /** A participant leaves: its session's `*.stopped` event goes out. */
  leave(room: EmulatedRoom, participant: Participant, reason: string): void {
    if (participant.leftAt !== null) return;
    room.mixer.remove(participant, reason, nowMs());
    if (participant.kind === 'sip' && !participant.call.isEnded) void participant.call.hangUp(reason).catch(() => {});
    const { origin } = participant;
    room.sessions.delete(origin.sessionId);
    if (room.deleted) return;
    if (origin.type === 'dialin') this.event('dialin.stopped', { room: room.name, session_id: origin.sessionId, reason });
    if (origin.type === 'dialout') this.event('dialout.stopped', { room: room.name, session_id: origin.sessionId, reason });
  }

  /** Deletes a room: every participant is disconnected. */
  deleteRoom(room: EmulatedRoom): void {
    room.deleted = true;
    for (const session of room.sessions.values()) session.stop('room deleted');
    for (const participant of room.mixer.live) this.leave(room, participant, 'room deleted');
    room.mixer.stop();
    this.rooms.delete(room.name);
  }

  // ---- dial-out ---------------------------------------------------------------------------------------------

  /** Starts a dial-out session from the room; its progress goes out as `dialout.*` events. */
  startDialOut(room: EmulatedRoom, target: { phoneNumber?: string; sipUri?: string }): string {
    const sessionId = randomUUID();
    const label = target.phoneNumber ?? target.sipUri ?? '';
    const log = { sessionId, target: label, outcome: null as string | null };
    room.dialOuts.push(log);
    const base = {
      room: room.name,
      session_id: sessionId,
      domain_id: this.domainId,
      ...(target.phoneNumber ? { phone_number: target.phoneNumber } : { sip_uri: target.sipUri }),
    };
    const fail = (outcome: string, message: string, sipCode: number) => {
      log.outcome = outcome;
      room.sessions.delete(sessionId);
      this.event('dialout.error', { ...base, error_msg: message, sip_code: sipCode });
    };
    if (target.phoneNumber) {
      const persona = this.personas.lookup(target.phoneNumber);
      let ringing: NodeJS.Timeout | undefined;
      room.sessions.set(sessionId, {
        target: label,
        stop: (reason) => {
          if (ringing) clearTimeout(ringing);
          log.outcome ??= 'stopped';
          room.sessions.delete(sessionId);
          if (!room.deleted) this.event('dialout.stopped', { ...base, reason });
        },
      });
      if (!persona) {
        this.later(0, () => fail('failed', 'Not Found', 404));
        return sessionId;
      }
      const outcome = persona.outcome ?? 'answer';
      const ringMs = (persona.ringMs ?? 1500) * this.timeScale;
      if (outcome === 'no-answer') {
        ringing = this.later(this.noAnswerTimeoutMs, () => fail('no-answer', 'No Answer', 480));
        return sessionId;
      }
      ringing = this.later(ringMs, () => {
        if (!room.sessions.has(sessionId)) return;
        if (outcome === 'busy') return fail('busy', 'Busy Here', 486);
        if (outcome === 'failed') return fail('failed', 'Service Unavailable', 503);
        log.outcome = 'answered';
        room.sessions.set(sessionId, {
          target: label,
          stop: (reason) => {
            const participant = room.mixer.live.find((p) => p.origin.sessionId === sessionId);
            if (participant) this.leave(room, participant, reason);
          },
        });
        this.event('dialout.connected', base);
        this.addPerson(room, persona, target.phoneNumber as string, { type: 'dialout', sessionId });
        this.event('dialout.answered', base);
      });
      return sessionId;
    }
    void this.dialSip(room, sessionId, target.sipUri as string, base, log, fail);
    return sessionId;
  }

  private async dialSip(
    room: EmulatedRoom,
    sessionId: string,
    sipUri: string,
    base: Record<string, unknown>,
    log: { outcome: string | null },
    fail: (outcome: string, message: string, sipCode: number) => void,
  ): Promise<void> {
    // Query parameters become X- headers; `x-daily_display_name` sets the display name.
    const [uri, query = ''] = sipUri.split('?') as [string, string | undefined];
    const params = new URLSearchParams(query);
    const headers: Record<string, string> = {};
    let displayName = 'Daily';
    for (const [key, value] of params) {
      if (key.toLowerCase() === 'x-daily_display_name') displayName = value;
      else headers[key.toLowerCase().startsWith('x-') ? key : `X-${key}`] = value;
    }
    let call;
    try {
      call = await this.endpoint.placeCall({
        to: uri,
        from: `sip:${room.name}@${this.sipHost}`,
        fromName: displayName,
        headers,
        ringTimeoutMs: this.noAnswerTimeoutMs,
      });
    } catch (error) {
      return fail('failed', error instanceof Error ? error.message : String(error), 503);
    }
    room.sessions.set(sessionId, { target: sipUri, stop: (reason) => void call.hangUp(reason).catch(() => {}) });
    call.on('progress', (progress) => {
      if (progress.type === 'ringing') this.event('dialout.connected', base);
    });
    try {
      const channel = await call.answered;
      if (room.deleted) return void call.hangUp('room deleted').catch(() => {});
      log.outcome = 'answered';
      this.addSipLeg(room, call, channel, { type: 'dialout', sessionId });
      this.event('dialout.answered', base);
    } catch (error) {
      room.sessions.delete(sessionId);
      if (error instanceof SipCallFailedError) {
        const code = error.sipCode ?? 487;
        return fail(error.status, error.message, code);
      }
      fail('failed', error instanceof Error ? error.message : String(error), 500);
    }
  }

  // ---- SIP endpoints of rooms -------------------------------------------------------------------------------

  private onIncomingSip(call: IncomingSipCall): void {
    const user = call.requestUser ?? '';
    const room = [...this.rooms.values()].find((r) => r.endpointUsers.includes(user));
    if (!room || room.deleted) return call.reject(404, 'Not Found');
    const busy = room.mixer.live.some((p) => p.origin.type === 'sip-endpoint' && p.origin.sessionId === user);
    if (busy) return call.reject(486, 'Busy Here'); // one SIP client per endpoint at a time
    call.accept().then(
      (channel) => this.addSipLeg(room, call, channel, { type: 'sip-endpoint', sessionId: user }),
      () => {},
    );
  }

  // ---- webhooks ---------------------------------------------------------------------------------------------

  /** Sends a `dialin.*`/`dialout.*` event to every matching webhook, signed with its hmac. */
  event(type: string, payload: Record<string, unknown>): void {
    const ts = Math.floor(Date.now() / 1000);
    const envelope = {
      version: '1.0.0',
      type,
      id: `${type}-${randomUUID()}`,
      payload: { ...payload, timestamp: String(ts) },
      event_ts: Date.now() / 1000,
    };
    const body = JSON.stringify(envelope);
    const send = () => {
      for (const webhook of this.webhooks) {
        if (webhook.eventTypes && !webhook.eventTypes.includes(type)) continue;
        void this.post(type, webhook.url, body, (stamp) => ({
          'x-webhook-timestamp': stamp,
          'x-webhook-signature': dailySignature(webhook.hmac, stamp, body),
        }));
      }
    };
    if (this.eventDelayMs > 0) this.later(this.eventDelayMs, send);
    else send();
  }

  /** POSTs JSON; resolves with the status (null on failure). Never throws. */
  post(type: string, url: string, body: string, sign: (timestamp: string) => Record<string, string>): Promise<number | null> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const delivery: WebhookDelivery = { type, url, status: null, body };
    this.deliveries.push(delivery);
    const sent = fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Daily-Webhooks (emulator)', ...sign(timestamp) },
      body,
      signal: AbortSignal.timeout(10_000),
    }).then(
      async (response) => {
        await response.text();
        delivery.status = response.status;
        return response.status;
      },
      (error: unknown) => {
        this.log.warn({ url, type, err: error instanceof Error ? error.message : String(error) }, 'webhook failed');
        return null;
      },
    );
    this.pendingWebhooks.add(sent);
    void sent.finally(() => this.pendingWebhooks.delete(sent));
    return sent;
  }

  later(ms: number, run: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const room of [...this.rooms.values()]) this.deleteRoom(room);
    for (const bridge of new Set(this.bridgeOf.values())) bridge.end(undefined, 'emulator closed');
    await Promise.allSettled([...this.pendingWebhooks]);
    await this.endpoint.close();
    if (!this.options.clock) this.clock.stop();
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

export function startDailyEmulator(options: DailyEmulatorOptions = {}): Promise<DailyEmulator> {
  return new DailyEmulator(options).start();
}
