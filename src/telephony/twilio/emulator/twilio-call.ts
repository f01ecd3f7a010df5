/**
 * One emulated Twilio call: lifecycle, status callbacks, TwiML execution and its media streams.
 *
 * Outbound (`POST …/Calls.json`): queued → initiated (callback only) → ringing → the persona answers
 * (in-progress), is busy, does not answer within `Timeout`, or fails. On answer the TwiML comes from `Url`
 * (signed request) or `Twiml`, and runs verb by verb. Inbound ({@link TwilioEmulator.placeInboundCall}):
 * ringing → our voice URL is requested → in-progress → TwiML runs.
 *
 * The call ends when the TwiML runs out, on `<Hangup/>`, when the simulated party hangs up, or on a REST
 * update with `Status=completed|canceled`; any open stream gets `stop` and is closed first, then the
 * `completed` callback goes out.
 */
import type { Persona } from '../../../sandbox/callees/persona.ts';
import type { CalleeLine } from '../../../sandbox/callees/simulated-callee.ts';
import { CallMedia } from '../../../sandbox/carriers/shared/call-media.ts';
import { CallWebhooks } from '../../../sandbox/carriers/shared/call-webhooks.ts';
import { EmulatedCall, planRing, type CallContext } from '../../../sandbox/carriers/shared/emulated-call.ts';
import type { FormFields } from '../../../sandbox/carriers/shared/http-util.ts';
import { twilioSid } from './ids.ts';
import { nowMs } from '../../../sandbox/carriers/shared/media-clock.ts';
import { callResource } from './call-resource.ts';
import type { ConferenceRooms } from './conference.ts';
import { ConferenceSeat } from './conference-seat.ts';
import { TwilioMediaStream, type TwilioStreamHost } from './media-stream.ts';
import type { HttpMethod, StreamSpec, TwimlVerb } from './twiml.ts';
import { fetchTwiml, readTwiml } from './twiml-fetch.ts';
import type { CreateCallParams } from './rest-api.ts';
import { statusCallbackParams, twilioSigner, TWILIO_USER_AGENT, type TwilioCallIdentity } from './webhook-params.ts';

export type TwilioStatusEvent = 'initiated' | 'ringing' | 'answered' | 'completed';

/** A call as the emulator runs it: the create-call parameters plus who is on the line. */
export interface TwilioCallInit extends CreateCallParams {
  accountSid: string;
  authToken: string;
  direction: 'outbound-api' | 'inbound';
  persona: Persona | null;
  clearEchoesMarks: boolean;
  webhookTimeoutMs: number;
  /** The emulator's conference rooms (`<Dial><Conference>`). */
  conferences: ConferenceRooms;
}

/** Delays of the call-setup steps before the callee's ring time (ms, scaled by timeScale). */
const INITIATE_AFTER_MS = 30;
const RING_AFTER_MS = 120;
const AMD_DURATION_MS = 1200;

const FINAL_STATUSES = new Set(['completed', 'busy', 'no-answer', 'canceled', 'failed']);
const SIP_RESPONSE: Record<string, string> = { completed: '200', busy: '486', 'no-answer': '480', canceled: '487', failed: '500' };

export class TwilioCall extends EmulatedCall implements TwilioStreamHost {
  readonly accountSid: string;
  readonly authToken: string;
  readonly clearEchoesMarks: boolean;
  readonly media: CallMedia;
  private readonly init: TwilioCallInit;
  readonly identity: TwilioCallIdentity;
  private readonly phoneNumberSid = twilioSid('PN');
  private updatedAt: number;
  private startedAt: number | null = null;
  private answeredBy: string | null = null;
  private callbackSequence = 0;
  readonly webhooks: CallWebhooks;
  /** Bumped by a redirect: TwiML running under an older generation stops. */
  private generation = 0;
  private readonly streams = new Set<TwilioMediaStream>();
  private twoWayStream: TwilioMediaStream | null = null;
  private calleeConnected = false;
  /** Its place in conferences (`<Dial><Conference>`). */
  private readonly seat: ConferenceSeat;

  constructor(context: CallContext, init: TwilioCallInit) {
    super(
      context,
      {
        carrier: 'twilio',
        id: twilioSid('CA'),
        direction: init.direction === 'inbound' ? 'inbound' : 'outbound',
        from: init.from,
        to: init.to,
        status: init.direction === 'inbound' ? 'ringing' : 'queued',
      },
      init.persona,
    );
    this.init = init;
    this.accountSid = init.accountSid;
    this.authToken = init.authToken;
    this.clearEchoesMarks = init.clearEchoesMarks;
    this.identity = { accountSid: init.accountSid, callSid: this.id, from: init.from, to: init.to, direction: init.direction };
    this.webhooks = new CallWebhooks({
      record: this.record,
      sign: twilioSigner(init.authToken),
      timeoutMs: init.webhookTimeoutMs,
      userAgent: TWILIO_USER_AGENT,
      log: this.log,
    });
    this.updatedAt = this.record.createdAt;
    this.media = new CallMedia({ clock: context.clock, callee: this.callee, saidTape: this.saidTape, heardTape: this.heardTape });
    this.seat = new ConferenceSeat(
      {
        callSid: this.id,
        media: this.media,
        warn: (message) => this.record.warnings.push(message),
        connectParty: () => this.connectParty(),
      },
      init.conferences,
    );
  }

  get callSid(): string {
    return this.id;
  }

  /** The Call resource JSON as the REST API returns it. */
  resource(): Record<string, unknown> {
    const { answeredAt, endedAt } = this.record;
    return callResource({
      sid: this.id,
      accountSid: this.accountSid,
      from: this.init.from,
      to: this.init.to,
      status: this.status,
      direction: this.init.direction,
      createdAt: this.record.createdAt,
      updatedAt: this.updatedAt,
      startedAt: this.startedAt,
      endedAt,
      durationSec: endedAt === null ? null : answeredAt === null ? 0 : Math.round((endedAt - answeredAt) / 1000),
      answeredBy: this.answeredBy,
      phoneNumberSid: this.phoneNumberSid,
    });
  }

  /** Resolves once every status callback queued so far has been delivered (or failed). */
  callbacksSettled(): Promise<void> {
    return this.webhooks.settled();
  }

  /** Starts the call's lifecycle (called once, right after creation). */
  begin(): void {
    const scale = this.context.timeScale;
    this.callee?.prepare();
    if (this.init.direction === 'inbound') {
      this.startedAt = nowMs();
      void this.answerInbound();
      return;
    }
    this.later(INITIATE_AFTER_MS * scale, () => {
      this.startedAt = nowMs();
      this.touch();
      this.statusCallback('initiated', 'initiated');
      this.later(RING_AFTER_MS * scale, () => {
        this.setStatus('ringing');
        this.statusCallback('ringing', 'ringing');
        const plan = planRing(this.init.persona, this.init.timeoutSec * 1000, scale);
        this.later(plan.afterMs, () => {
          if (plan.outcome === 'answer') void this.answerOutbound();
          else this.finish(plan.outcome, plan.outcome === 'failed' ? 'no-persona' : `callee-${plan.outcome}`);
        });
      });
    });
  }

  /** REST update: hang up, cancel, or redirect to new TwiML. Returns an error description or null. */
  update(fields: {
    status?: string;
    url?: string;
    method?: HttpMethod;
    twiml?: string;
    statusCallback?: string;
    statusCallbackMethod?: HttpMethod;
  }): { code: number; message: string } | null {
    if (fields.statusCallback !== undefined) this.init.statusCallback = fields.statusCallback;
    if (fields.statusCallbackMethod !== undefined) this.init.statusCallbackMethod = fields.statusCallbackMethod;
    if (fields.status !== undefined) {
      if (fields.status !== 'completed' && fields.status !== 'canceled') {
        return { code: 20001, message: `Status must be completed or canceled, not ${fields.status}` };
      }
      if (this.ended) return null;
      const answered = this.record.answeredAt !== null;
      if (fields.status === 'canceled' && answered) return null; // canceled only affects queued/ringing calls
      this.finish(answered ? 'completed' : 'canceled', answered ? 'api-hangup' : 'api-cancel');
      return null;
    }
    if (fields.url !== undefined || fields.twiml !== undefined) {
      if (this.ended) return { code: 21220, message: 'Call is not in-progress. Cannot redirect.' };
      if (fields.url !== undefined) {
        this.init.url = fields.url;
        this.init.method = fields.method ?? 'POST';
        this.init.twiml = null;
      } else {
        this.init.twiml = fields.twiml ?? null;
        this.init.url = null;
      }
      this.touch();
      if (this.record.answeredAt !== null) void this.redirect();
    }
    return null;
  }

  /** Ends the call from outside (emulator shutdown). */
  terminate(reason: string): void {
    this.finish(this.record.answeredAt !== null ? 'completed' : 'canceled', reason);
  }

  streamEvent(spec: StreamSpec, streamSid: string, event: 'stream-started' | 'stream-stopped' | 'stream-error', error?: string): void {
    if (!spec.statusCallback) return;
    const params: FormFields = {
      AccountSid: this.accountSid,
      CallSid: this.id,
      StreamSid: streamSid,
      StreamName: spec.name ?? streamSid,
      StreamEvent: event,
      Timestamp: new Date().toISOString(),
    };
    if (error !== undefined) params.StreamError = error;
    this.webhooks.queue(`stream:${event}`, spec.statusCallback, spec.statusCallbackMethod, params);
  }

  /** The line the simulated party uses to press keys and hang up. */
  private readonly line: CalleeLine = {
    sendDtmf: (digit) => this.twoWayStream?.sendDtmf(digit),
    hangUp: () => this.finish('completed', 'callee-hangup'),
  };

  private async answerOutbound(): Promise<void> {
    this.record.answeredAt = nowMs();
    this.setStatus('in-progress');
    this.touch();
    this.statusCallback('answered', 'in-progress');
    let extra: FormFields = {};
    if (this.init.machineDetection) {
      // A guess at Twilio's verdicts: `machine_start` for a voicemail box, `human` otherwise, after a fixed delay.
      this.answeredBy = this.init.persona?.answeringMachine ? 'machine_start' : 'human';
      if (this.init.asyncAmdStatusCallback) {
        this.later(AMD_DURATION_MS * this.context.timeScale, () => {
          this.webhooks.queue('amd', this.init.asyncAmdStatusCallback as string, this.init.asyncAmdStatusCallbackMethod, {
            AccountSid: this.accountSid,
            CallSid: this.id,
            AnsweredBy: this.answeredBy as string,
            MachineDetectionDuration: String(AMD_DURATION_MS),
          });
        });
      } else {
        if (!(await this.pause(AMD_DURATION_MS * this.context.timeScale))) return;
        extra = { AnsweredBy: this.answeredBy };
      }
    }
    const verbs = await this.loadTwiml('in-progress', extra);
    if (this.ended) return;
    if (!verbs) return this.finish('completed', 'markup-error');
    await this.runVerbs(verbs, this.generation);
  }

  private async answerInbound(): Promise<void> {
    const verbs = await this.loadTwiml('ringing', {});
    if (this.ended) return;
    if (!verbs) return this.finish('failed', 'markup-error');
    if (verbs[0]?.verb === 'Reject') {
      return this.finish(verbs[0].reason === 'busy' ? 'busy' : 'no-answer', 'markup-reject');
    }
    this.record.answeredAt = nowMs();
    this.setStatus('in-progress');
    this.touch();
    this.statusCallback('answered', 'in-progress');
    await this.runVerbs(verbs, this.generation);
  }

  private async redirect(): Promise<void> {
    const generation = ++this.generation;
    for (const stream of this.streams) stream.stop();
    this.seat.leave('redirected');
    const verbs = await this.loadTwiml(this.status, {});
    if (this.ended || generation !== this.generation) return;
    if (!verbs) return this.finish('completed', 'markup-error');
    await this.runVerbs(verbs, generation);
  }

  /** The call's current TwiML: inline, or fetched from Url (then FallbackUrl). Null when unusable. */
  private async loadTwiml(callStatus: string, extra: FormFields): Promise<TwimlVerb[] | null> {
    if (this.init.twiml !== null) return readTwiml(this, this.init.twiml, 'inline');
    if (this.init.url === null) return null;
    const verbs = await this.fetchTwiml('voice', this.init.url, this.init.method, callStatus, extra);
    if (verbs || this.ended || !this.init.fallbackUrl) return verbs;
    return this.fetchTwiml('fallback', this.init.fallbackUrl, this.init.fallbackMethod, callStatus, {
      ...extra,
      ErrorCode: '11200',
      ErrorUrl: this.init.url,
    });
  }

  private fetchTwiml(kind: string, url: string, method: HttpMethod, callStatus: string, extra: FormFields): Promise<TwimlVerb[] | null> {
    return fetchTwiml(this, kind, url, method, callStatus, extra);
  }

  private async runVerbs(verbs: TwimlVerb[], generation: number): Promise<void> {
    const current = (): boolean => !this.ended && generation === this.generation;
    for (const verb of verbs) {
      if (!current()) return;
      switch (verb.verb) {
        case 'Connect': {
          if (verb.unsupportedChild) this.record.warnings.push(`<Connect><${verb.unsupportedChild}> is not emulated`);
          if (verb.stream) await this.runStream(verb.stream, 'connect');
          if (!current()) return;
          if (verb.action) {
            const next = await this.fetchTwiml('connect-action', verb.action, verb.method, this.status, {});
            if (!current()) return;
            if (next) await this.runVerbs(next, generation);
            else this.finish('completed', 'markup-error');
            return;
          }
          break;
        }
        case 'Start':
          if (verb.stream) void this.runStream(verb.stream, 'fork');
          break;
        case 'Stop':
          for (const stream of this.streams) {
            if (stream.mode === 'fork' && (verb.streamName === null || stream.spec.name === verb.streamName)) stream.stop();
          }
          break;
        case 'Say': {
          // Timed as silence: about 2.5 words per second per loop.
          const words = verb.text.split(/\s+/).filter(Boolean).length;
          const loops = verb.loop === 0 ? 1000 : verb.loop;
          this.record.warnings.push('<Say> is played as silence');
          if (!(await this.pause(loops * (400 * words + 300)))) return;
          break;
        }
        case 'Play':
          this.record.warnings.push('<Play> is played as one second of silence per loop');
          if (!(await this.pause((verb.loop === 0 ? 1000 : verb.loop) * 1000))) return;
          break;
        case 'Pause':
          if (!(await this.pause(verb.lengthSec * 1000))) return;
          break;
        case 'Dial': {
          if (verb.kind === 'conference') {
            if (verb.action) this.record.warnings.push('<Dial action> is not fetched by the emulator');
            if (verb.conference) await this.seat.join(verb.conference);
            break;
          }
          if (verb.action) this.record.warnings.push('<Dial action> is not fetched by the emulator');
          if (verb.target === null) {
            this.record.warnings.push('<Dial> without a number; skipped');
            break;
          }
          await this.dialParty(this.media, verb.target, verb.timeoutSec);
          break;
        }
        case 'Hangup':
          return this.finish('completed', 'markup-hangup');
        case 'Reject':
          return this.finish(this.record.answeredAt === null && verb.reason === 'busy' ? 'busy' : 'completed', 'markup-reject');
        case 'Redirect': {
          const next = await this.fetchTwiml('redirect', verb.url, verb.method, this.status, {});
          if (!current()) return;
          if (next) await this.runVerbs(next, generation);
          else this.finish('completed', 'markup-error');
          return;
        }
        case 'Unsupported':
          this.record.warnings.push(`<${verb.name}> is not emulated; skipped`);
          break;
      }
    }
    if (current()) this.finish('completed', 'markup-ended');
  }

  /** Runs a stream; for `<Connect>` resolves when it ends, for a fork when it has connected (or failed). */
  private async runStream(spec: StreamSpec, mode: 'connect' | 'fork'): Promise<void> {
    const stream = new TwilioMediaStream(this, spec, mode);
    this.streams.add(stream);
    this.record.streams.push(stream.record);
    const opened = await stream.open();
    if (opened && !this.ended) {
      if (mode === 'connect') this.twoWayStream = stream;
      this.media.start();
      this.connectParty();
    }
    const finished = stream.done.then(() => {
      this.streams.delete(stream);
      if (this.twoWayStream === stream) this.twoWayStream = null;
    });
    if (mode === 'connect') await finished;
  }

  /** Connects the simulated party to the call's media (once). */
  private connectParty(): void {
    if (this.calleeConnected || !this.callee) return;
    this.calleeConnected = true;
    this.callee.connect(this.line, nowMs());
  }

  private finish(status: string, reason: string): void {
    if (this.ended || !FINAL_STATUSES.has(status)) return;
    for (const stream of this.streams) stream.stop();
    this.seat.leave('hung-up');
    this.media.stop();
    this.setStatus(status);
    this.touch();
    this.markEnded(reason);
    const { answeredAt, endedAt } = this.record;
    const durationSec = answeredAt === null || endedAt === null ? 0 : Math.round((endedAt - answeredAt) / 1000);
    this.statusCallback('completed', status, {
      CallDuration: String(durationSec),
      Duration: String(Math.ceil(durationSec / 60)),
      SipResponseCode: SIP_RESPONSE[status] ?? '200',
      ...(this.answeredBy ? { AnsweredBy: this.answeredBy } : {}),
    });
  }

  private statusCallback(event: TwilioStatusEvent, callStatus: string, extra: FormFields = {}): void {
    const url = this.init.statusCallback;
    if (!url || !this.init.statusCallbackEvents.has(event)) return;
    const params = statusCallbackParams(this.identity, callStatus, this.callbackSequence++, nowMs(), extra);
    this.webhooks.queue(`status:${event}`, url, this.init.statusCallbackMethod, params);
  }

  private touch(): void {
    this.updatedAt = nowMs();
  }
}
