/**
 * One emulated Plivo call: lifecycle, ring/hangup callbacks, answer XML and its audio streams.
 *
 * Outbound (`POST /v1/Account/{auth_id}/Call/`): queued → ringing (`ring_url`) → the persona answers
 * (in-progress; `answer_url` is requested and its XML runs), is busy, does not answer within
 * `ring_timeout`, or fails; every outcome ends with the `hangup_url` callback (CallStatus, HangupCause…,
 * Duration, BillDuration, Start/Answer/EndTime). Inbound ({@link PlivoEmulator.placeInboundCall}): our answer
 * URL is requested and the XML runs.
 */
import type { Persona } from '../../../sandbox/callees/persona.ts';
import type { CalleeLine } from '../../../sandbox/callees/simulated-callee.ts';
import { CallMedia } from '../../../sandbox/carriers/shared/call-media.ts';
import { CallWebhooks } from '../../../sandbox/carriers/shared/call-webhooks.ts';
import { EmulatedCall, planRing, type CallContext } from '../../../sandbox/carriers/shared/emulated-call.ts';
import type { FormFields } from '../../../sandbox/carriers/shared/http-util.ts';
import { uuid } from '../../../sandbox/carriers/shared/ids.ts';
import { nowMs } from '../../../sandbox/carriers/shared/media-clock.ts';
import type { WebhookMethod } from '../../../sandbox/carriers/shared/webhook.ts';
import { PlivoAudioStream, type PlivoStreamHost } from './audio-stream.ts';
import { HANGUP_CAUSES, type HangupCause, type HangupSource } from './hangup-causes.ts';
import { parsePlivoXml, type PlivoElement, type PlivoStreamSpec } from './plivo-xml.ts';
import { plivoSigner } from './signature.ts';
import { PlayoutBuffer } from '../../../sandbox/carriers/shared/playout-buffer.ts';
import type { OutgoingSipCall } from '../../sip/outgoing-sip-call.ts';
import type { PlivoDialSpec } from './plivo-xml.ts';
import type { CreatePlivoCallParams } from './rest-api.ts';

/** A call leg as the emulator runs it: the create-call parameters for one destination, plus who is on the line. */
export interface PlivoCallInit extends Omit<CreatePlivoCallParams, 'to'> {
  authId: string;
  authToken: string;
  requestUuid: string;
  /** The single destination of this leg. */
  to: string;
  direction: 'outbound' | 'inbound';
  persona: Persona | null;
  sendStopEvent: boolean;
  webhookTimeoutMs: number;
  /** Places the SIP leg of `<Dial><User>` (the emulator's own SIP user agent). */
  dialSip: (uri: string, from: string, ringTimeoutMs: number) => Promise<OutgoingSipCall>;
}

const RING_AFTER_MS = 120;
const AMD_DURATION_MS = 1200;

/** Plivo's `YYYY-MM-DD HH:mm:ss` (UTC). */
export function plivoTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('T', ' ').slice(0, 19);
}

/** Plivo writes numbers without `+` in callbacks. */
function plainNumber(number: string): string {
  return number.replace(/^\+/, '');
}

export class PlivoCall extends EmulatedCall implements PlivoStreamHost {
  readonly authId: string;
  readonly authToken: string;
  readonly requestUuid: string;
  readonly sendStopEvent: boolean;
  readonly media: CallMedia;
  private readonly init: PlivoCallInit;
  private readonly streams = new Set<PlivoAudioStream>();
  /** SIP legs of `<Dial><User>` that are up. */
  private readonly dialLegs = new Set<OutgoingSipCall>();
  /** Where the callee's keypad goes while a `<Dial>` leg is bridged. */
  private dialDtmf: ((digit: string) => void) | null = null;
  private calleeConnected = false;
  private readonly webhooks: CallWebhooks;
  private hangup: { cause: HangupCause; source: HangupSource } | null = null;

  constructor(context: CallContext, init: PlivoCallInit) {
    super(
      context,
      {
        carrier: 'plivo',
        id: uuid(),
        direction: init.direction,
        from: init.from,
        to: init.to,
        status: init.direction === 'inbound' ? 'ringing' : 'queued',
      },
      init.persona,
    );
    this.init = init;
    this.authId = init.authId;
    this.authToken = init.authToken;
    this.requestUuid = init.requestUuid;
    this.sendStopEvent = init.sendStopEvent;
    this.webhooks = new CallWebhooks({
      record: this.record,
      sign: plivoSigner(init.authToken),
      timeoutMs: init.webhookTimeoutMs,
      userAgent: 'PlivoHTTP/1.0',
      log: this.log,
    });
    this.media = new CallMedia({ clock: context.clock, callee: this.callee, saidTape: this.saidTape, heardTape: this.heardTape });
  }

  get callUuid(): string {
    return this.id;
  }

  /** Resolves once every callback queued so far has been delivered (or failed). */
  callbacksSettled(): Promise<void> {
    return this.webhooks.settled();
  }

  /** Live-call details (`GET Call/{uuid}/?status=live`). */
  liveResource(apiId: string): Record<string, unknown> {
    return {
      api_id: apiId,
      call_status: this.status,
      call_uuid: this.id,
      caller_name: '',
      direction: this.init.direction,
      from: plainNumber(this.init.from),
      request_uuid: this.requestUuid,
      session_start: plivoTime(this.record.createdAt),
      to: plainNumber(this.init.to),
      stir_verification: 'Not Applicable',
    };
  }

  /** Call detail record of an ended call (`GET Call/{uuid}/`). */
  cdr(apiId: string): Record<string, unknown> {
    const { duration, billDuration } = this.durations();
    return {
      api_id: apiId,
      answer_time: this.record.answeredAt === null ? null : plivoTime(this.record.answeredAt),
      bill_duration: billDuration,
      billed_duration: billDuration,
      call_direction: this.init.direction,
      call_duration: duration,
      call_uuid: this.id,
      end_time: this.record.endedAt === null ? null : plivoTime(this.record.endedAt),
      from_number: plainNumber(this.init.from),
      hangup_cause_code: this.hangup?.cause.code ?? null,
      hangup_cause_name: this.hangup?.cause.name ?? null,
      hangup_source: this.hangup?.source ?? null,
      initiation_time: plivoTime(this.record.createdAt),
      parent_call_uuid: null,
      resource_uri: `/v1/Account/${this.authId}/Call/${this.id}/`,
      to_number: plainNumber(this.init.to),
      total_amount: '0.00000',
      total_rate: '0.00900',
    };
  }

  begin(): void {
    this.callee?.prepare();
    if (this.init.direction === 'inbound') {
      void this.answer();
      return;
    }
    const scale = this.context.timeScale;
    this.later(RING_AFTER_MS * scale, () => {
      this.setStatus('ringing');
      if (this.init.ringUrl) {
        this.webhooks.queue('ring', this.init.ringUrl, this.init.ringMethod, {
          ...this.commonParams(),
          CallStatus: 'ringing',
          Event: 'Ring',
        });
      }
      const plan = planRing(this.init.persona, this.init.ringTimeoutSec * 1000, scale);
      this.later(plan.afterMs, () => {
        if (plan.outcome === 'answer') void this.answer();
        else if (plan.outcome === 'busy') this.finish('busy', HANGUP_CAUSES.busy, 'Call recipient', 'callee-busy');
        else if (plan.outcome === 'no-answer') this.finish('no-answer', HANGUP_CAUSES.noAnswer, 'Plivo', 'callee-no-answer');
        else this.finish('failed', HANGUP_CAUSES.invalidDestination, 'Plivo', 'no-persona');
      });
    });
  }

  /** REST hang-up (`DELETE Call/{uuid}/` or, before answer, `DELETE Request/{uuid}/`). */
  /** Bumped by a transfer: XML running under an older generation stops. */
  private xmlGeneration = 0;

  hangUpByApi(): void {
    if (this.record.answeredAt === null) this.finish('cancel', HANGUP_CAUSES.canceled, 'API Request', 'api-cancel');
    else this.finish('completed', HANGUP_CAUSES.normal, 'API Request', 'api-hangup');
  }

  terminate(reason: string): void {
    if (this.record.answeredAt === null) this.finish('cancel', HANGUP_CAUSES.canceled, 'Plivo', reason);
    else this.finish('completed', HANGUP_CAUSES.normal, 'Plivo', reason);
  }

  streamEvent(spec: PlivoStreamSpec, streamId: string, event: 'StartStream' | 'StopStream' | 'DroppedStream', error?: string): void {
    if (!spec.statusCallbackUrl) return;
    const params: FormFields = { Event: event, StreamID: streamId, CallUUID: this.id, Timestamp: plivoTime(nowMs()) };
    if (error !== undefined) params.Error = error;
    this.webhooks.queue(`stream:${event}`, spec.statusCallbackUrl, spec.statusCallbackMethod, params);
  }

  private readonly line: CalleeLine = {
    sendDtmf: (digit) => {
      for (const stream of this.streams) stream.sendDtmf(digit);
      this.dialDtmf?.(digit);
    },
    hangUp: () =>
      this.finish('completed', HANGUP_CAUSES.normal, this.init.direction === 'outbound' ? 'Call recipient' : 'Caller', 'callee-hangup'),
  };

  private async answer(): Promise<void> {
    const inbound = this.init.direction === 'inbound';
    if (!inbound) {
      this.record.answeredAt = nowMs();
      this.setStatus('in-progress');
      if (this.init.machineDetectionUrl) {
        this.later(AMD_DURATION_MS * this.context.timeScale, () =>
          this.webhooks.queue('amd', this.init.machineDetectionUrl as string, this.init.machineDetectionMethod, {
            ...this.commonParams(),
            // A guess at Plivo's detector: a voicemail box persona is a machine, anyone else a human.
            Machine: this.init.persona?.answeringMachine ? 'true' : 'false',
            IfMachine: 'continue',
            Event: 'MachineDetection',
            CallStatus: 'in-progress',
          }),
        );
      }
    }
    const elements = await this.loadXml(inbound ? 'ringing' : 'in-progress');
    if (this.ended || !elements) return;
    if (inbound) {
      this.record.answeredAt = nowMs();
      this.setStatus('in-progress');
    }
    this.later(this.init.timeLimitSec * 1000, () => this.finish('completed', HANGUP_CAUSES.timeLimit, 'Plivo', 'time-limit'));
    await this.runElements(elements);
  }

  private async loadXml(callStatus: string): Promise<PlivoElement[] | null> {
    const params = { ...this.commonParams(), CallStatus: callStatus, Event: 'StartApp' };
    let elements = await this.fetchXml('answer', this.init.answerUrl, this.init.answerMethod, params);
    if (elements === undefined && !this.ended && this.init.fallbackUrl) {
      elements = await this.fetchXml('fallback', this.init.fallbackUrl, this.init.fallbackMethod, params);
    }
    if (this.ended) return null;
    if (elements === undefined) {
      this.finish('completed', HANGUP_CAUSES.answerUrlFailure, 'Error', 'markup-error');
      return null;
    }
    if (elements === null) {
      this.finish('completed', HANGUP_CAUSES.invalidXml, 'Error', 'markup-error');
      return null;
    }
    return elements;
  }

  /** The XML's elements; undefined when the URL failed, null when the XML is invalid. */
  private async fetchXml(kind: string, url: string, method: WebhookMethod, params: FormFields): Promise<PlivoElement[] | null | undefined> {
    const record = await this.webhooks.send(kind, url, method, params, true);
    if (record.status === null || record.status < 200 || record.status >= 300) {
      this.protocolError(0, `answer XML request failed: ${record.error ?? `HTTP ${record.status}`} from ${url}`);
      return undefined;
    }
    const body = record.body ?? '';
    const markup = { source: 'fetched' as const, url, at: nowMs(), body };
    this.record.markup.push(markup);
    try {
      return parsePlivoXml(body);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      Object.assign(markup, { error: message });
      this.protocolError(0, `invalid answer XML: ${message}`, body);
      return null;
    }
  }

  /**
   * Transfer API (`legs=aleg`, `aleg_url`): the call's current XML stops (its streams end) and the XML at `url`
   * runs instead. Returns false when the call is not live.
   */
  transfer(url: string, method: WebhookMethod): boolean {
    if (this.ended || this.record.answeredAt === null) return false;
    const generation = ++this.xmlGeneration;
    for (const stream of this.streams) stream.stop();
    void (async () => {
      const params = { ...this.commonParams(), CallStatus: this.status, Event: 'Transfer' };
      const next = await this.fetchXml('transfer', url, method, params);
      if (this.ended || generation !== this.xmlGeneration) return;
      if (!next) return this.finish('completed', HANGUP_CAUSES.answerUrlFailure, 'Error', 'markup-error');
      await this.runElements(next, generation);
    })();
    return true;
  }

  private async runElements(elements: PlivoElement[], generation = this.xmlGeneration): Promise<void> {
    for (const el of elements) {
      if (this.ended || generation !== this.xmlGeneration) return;
      switch (el.element) {
        case 'Dial': {
          // <User> legs are SIP calls (the SIP → bot flow); a <Number> rings the sandbox persona with that number.
          if (el.users.length > 0) {
            await this.runDial(el);
            break;
          }
          const number = el.numbers[0] as string;
          await this.dialParty(this.media, /^\d+$/.test(number) ? `+${number}` : number, el.timeoutSec);
          break;
        }
        case 'Stream':
          await this.runStream(el);
          break;
        case 'Speak': {
          this.record.warnings.push('<Speak> is played as silence');
          const words = el.text.split(/\s+/).filter(Boolean).length;
          if (!(await this.pause((el.loop === 0 ? 1000 : el.loop) * (400 * words + 300)))) return;
          break;
        }
        case 'Wait':
          if (!(await this.pause(el.lengthSec * 1000))) return;
          break;
        case 'Hangup':
          if (el.scheduleSec > 0) {
            this.later(el.scheduleSec * 1000, () => this.finish('completed', HANGUP_CAUSES.normal, 'Answer XML', 'markup-hangup'));
            break;
          }
          return this.finish('completed', HANGUP_CAUSES.normal, 'Answer XML', 'markup-hangup');
        case 'Redirect': {
          const params = { ...this.commonParams(), CallStatus: this.status, Event: 'Redirect' };
          const next = await this.fetchXml('redirect', el.url, el.method, params);
          if (this.ended) return;
          if (!next)
            return this.finish(
              'completed',
              next === null ? HANGUP_CAUSES.invalidXml : HANGUP_CAUSES.answerUrlFailure,
              'Error',
              'markup-error',
            );
          return this.runElements(next, generation);
        }
        case 'Unsupported':
          this.record.warnings.push(`<${el.name}> is not emulated; skipped`);
          break;
      }
    }
    if (!this.ended && generation === this.xmlGeneration) this.finish('completed', HANGUP_CAUSES.endOfXml, 'Plivo', 'markup-ended');
  }

  /** Starts a stream; with keepCallAlive resolves when it ends, otherwise once it connected (or failed). */
  private async runStream(spec: PlivoStreamSpec): Promise<void> {
    const stream = new PlivoAudioStream(this, spec);
    this.streams.add(stream);
    this.record.streams.push(stream.record);
    const opened = await stream.open();
    if (opened && !this.ended) {
      this.media.start();
      this.later(spec.streamTimeoutSec * 1000, () => stream.stop());
      if (!this.calleeConnected && this.callee) {
        this.calleeConnected = true;
        this.callee.connect(this.line, nowMs());
      }
    }
    const finished = stream.done.then(() => {
      this.streams.delete(stream);
    });
    if (spec.keepCallAlive) await finished;
  }

  /**
   * `<Dial><User>`: calls the SIP URIs in turn until one answers, bridges the callee's audio with that leg (the
   * callee hears the leg, the leg hears the callee) and resolves when either side hangs up. `<Number>` is recorded
   * as not emulated.
   */
  private async runDial(spec: PlivoDialSpec): Promise<void> {
    if (spec.numbers.length > 0) this.record.warnings.push('<Dial> with <User> and <Number>: only the <User> legs are placed');
    for (const uri of spec.users) {
      if (this.ended) return;
      let leg: OutgoingSipCall;
      try {
        leg = await this.init.dialSip(uri, spec.callerId ?? this.init.from, spec.timeoutSec * 1000);
      } catch (error) {
        this.record.warnings.push(`<Dial><User>${uri}: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      this.dialLegs.add(leg);
      let channel;
      try {
        channel = await leg.answered;
      } catch (error) {
        this.dialLegs.delete(leg);
        this.record.warnings.push(`<Dial><User>${uri} not answered: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      if (this.ended) {
        void leg.hangUp('call ended').catch(() => {});
        return;
      }
      const playout = new PlayoutBuffer();
      channel.setHandler({
        audio: (audio) => {
          if (audio.mulaw) playout.enqueueAudio(audio.mulaw, nowMs());
        },
        mark: () => {},
        dtmf: () => {},
        closed: () => {},
      });
      const player = { playout, marksReached: () => {} };
      const tap = { onFrames: (said: Uint8Array) => channel.sendAudio(said) };
      this.media.setPlayer(player);
      this.media.attach(tap);
      this.media.start();
      this.dialDtmf = (digit) => channel.sendDtmf(digit);
      if (!this.calleeConnected && this.callee) {
        this.calleeConnected = true;
        this.callee.connect(this.line, nowMs());
      }
      await new Promise<void>((resolve) => {
        if (leg.isEnded) return resolve();
        leg.once('ended', () => resolve());
      });
      this.dialLegs.delete(leg);
      this.dialDtmf = null;
      this.media.detach(tap);
      this.media.clearPlayer(player);
      return;
    }
  }

  private finish(status: string, cause: HangupCause, source: HangupSource, reason: string): void {
    if (this.ended) return;
    for (const leg of this.dialLegs) void leg.hangUp(reason).catch(() => {});
    for (const stream of this.streams) stream.stop();
    this.media.stop();
    this.hangup = { cause, source };
    this.setStatus(status);
    this.markEnded(reason);
    if (!this.init.hangupUrl) return;
    const { duration, billDuration } = this.durations();
    const { answeredAt, endedAt, createdAt } = this.record;
    this.webhooks.queue('hangup', this.init.hangupUrl, this.init.hangupMethod, {
      ...this.commonParams(),
      CallStatus: status,
      Event: 'Hangup',
      HangupCause: cause.cause,
      HangupCauseName: cause.name,
      HangupCauseCode: String(cause.code),
      HangupSource: source,
      Duration: String(duration),
      BillDuration: String(billDuration),
      BillRate: '0.00900',
      TotalCost: '0.00000',
      StartTime: plivoTime(createdAt),
      AnswerTime: answeredAt === null ? '' : plivoTime(answeredAt),
      EndTime: plivoTime(endedAt ?? nowMs()),
    });
  }

  private durations(): { duration: number; billDuration: number } {
    const { answeredAt, endedAt } = this.record;
    const duration = answeredAt === null ? 0 : Math.round(((endedAt ?? nowMs()) - answeredAt) / 1000);
    // Billed per started minute.
    return { duration, billDuration: Math.ceil(duration / 60) * 60 };
  }

  private commonParams(): FormFields {
    return {
      CallUUID: this.id,
      RequestUUID: this.requestUuid,
      ALegUUID: this.id,
      ALegRequestUUID: this.requestUuid,
      From: plainNumber(this.init.from),
      To: plainNumber(this.init.to),
      Direction: this.init.direction,
      CallerName: '',
      SessionStart: plivoTime(this.record.createdAt),
    };
  }
}
