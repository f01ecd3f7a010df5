import type twilio from 'twilio';
import type { CallListInstanceCreateOptions } from 'twilio/lib/rest/api/v2010/account/call.js';
import type { Logger } from '../../log.ts';
import { silentLogger } from '../../log.ts';
import { CarrierError, type CarrierOperation } from '../carrier-error.ts';
import type { CarrierCallClient, CarrierCallInfo, CarrierCallRef, PlaceCallRequest, PlacedCall } from '../carrier.ts';
import { createBaseUrlRequestClient } from './base-url-request-client.ts';
import { twilioSdk } from './sdk.ts';
import { twilioCallStatus } from './status-callback.ts';

export const TWILIO_API_BASE_URL = 'https://api.twilio.com';

export interface TwilioCallClientOptions {
  /** AC… */
  accountSid: string;
  /** The account's auth token (or, with `apiKeySid`, the API key secret). */
  authToken: string;
  /** Authenticate with an API key (SK…) instead of the account SID; `authToken` is then its secret. @default none */
  apiKeySid?: string;
  /**
   * Twilio API origin, or the sandbox emulator's / a Twilio-compatible back end's (optionally with a path prefix).
   * Any value other than the default routes the SDK's requests through {@link BaseUrlRequestClient}.
   * @default 'https://api.twilio.com'
   */
  baseUrl?: string;
  /** Twilio edge/region (`sydney`/`au1`) for production traffic; ignored with a custom `baseUrl`. @default none */
  edge?: string;
  region?: string;
  /** Per-request timeout. @default 10000 */
  requestTimeoutMs?: number;
  /** @default silentLogger() */
  logger?: Logger;
}

/** Twilio "not found": the call is gone (or never existed on this account). */
const NOT_FOUND = 20404;
/** Twilio "call is not in a state that allows this" — for a hang-up, the call already ended [K]. */
const INVALID_CALL_STATE = 21220;

const STATUS_EVENTS = ['initiated', 'ringing', 'answered', 'completed'];

/** Places, hangs up and fetches Twilio calls with the official SDK. */
export class TwilioCallClient implements CarrierCallClient {
  readonly carrier = 'twilio' as const;
  private clientInstance: twilio.Twilio | undefined;
  private readonly logger: Logger;

  constructor(private readonly options: TwilioCallClientOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ carrier: 'twilio' });
  }

  /** The SDK client, made on first use (see sdk.ts: an idle server does not load the SDK). */
  private get client(): twilio.Twilio {
    if (!this.clientInstance) {
      const options = this.options;
      const timeout = options.requestTimeoutMs ?? 10_000;
      const baseUrl = options.baseUrl ?? TWILIO_API_BASE_URL;
      const custom = baseUrl.replace(/\/+$/, '') !== TWILIO_API_BASE_URL;
      this.clientInstance = twilioSdk()(options.apiKeySid ?? options.accountSid, options.authToken, {
        accountSid: options.accountSid,
        timeout,
        ...(custom ? { httpClient: createBaseUrlRequestClient(baseUrl, { timeout }) } : { edge: options.edge, region: options.region }),
      });
    }
    return this.clientInstance;
  }

  async placeCall(request: PlaceCallRequest): Promise<PlacedCall> {
    if (!request.answerUrl && !request.answerMarkup) {
      throw new CarrierError({
        carrier: 'twilio',
        operation: 'placeCall',
        callId: request.callId,
        httpStatus: null,
        carrierCode: null,
        carrierMessage: 'a call needs answerUrl or answerMarkup',
      });
    }
    const params: CallListInstanceCreateOptions = { to: request.to, from: request.from };
    if (request.answerUrl) {
      params.url = request.answerUrl;
      params.method = 'POST';
    } else {
      params.twiml = request.answerMarkup;
    }
    if (request.statusCallbackUrl) {
      params.statusCallback = request.statusCallbackUrl;
      params.statusCallbackEvent = STATUS_EVENTS;
      params.statusCallbackMethod = 'POST';
    }
    if (request.ringTimeoutSec !== undefined) params.timeout = request.ringTimeoutSec;
    if (request.machineDetectionUrl) {
      // Asynchronous AMD: the call connects at once and the verdict arrives on its own callback.
      params.machineDetection = 'Enable';
      params.asyncAmd = 'true';
      params.asyncAmdStatusCallback = request.machineDetectionUrl;
      params.asyncAmdStatusCallbackMethod = 'POST';
    }
    const call = await this.run('placeCall', request.callId, () => this.client.calls.create(params));
    this.logger.info({ callId: request.callId, carrierCallId: call.sid, status: call.status }, 'twilio call placed');
    return { carrier: 'twilio', carrierCallId: call.sid, requestId: call.sid, status: twilioCallStatus(call.status) ?? 'queued' };
  }

  /**
   * `Status=completed` (ends a call in any state); with `answered: false`, `Status=canceled` first, which cannot cut
   * off a call that was answered meanwhile — then `completed` if it was. Already ended (404/20404) is success.
   */
  async hangUp(call: CarrierCallRef): Promise<void> {
    const sid = call.carrierCallId ?? call.requestId ?? null;
    if (!sid) throw this.missingSid('hangUp', call.callId);
    try {
      if (call.answered === false) {
        const updated = await this.run('hangUp', call.callId, () => this.client.calls(sid).update({ status: 'canceled' }));
        if (updated.status !== 'in-progress') {
          this.logger.info({ callId: call.callId, carrierCallId: sid, status: updated.status }, 'twilio call canceled');
          return;
        }
      }
      const updated = await this.run('hangUp', call.callId, () => this.client.calls(sid).update({ status: 'completed' }));
      this.logger.info({ callId: call.callId, carrierCallId: sid, status: updated.status }, 'twilio call hung up');
    } catch (error) {
      if (
        error instanceof CarrierError &&
        (error.httpStatus === 404 || error.carrierCode === NOT_FOUND || error.carrierCode === INVALID_CALL_STATE)
      ) {
        this.logger.debug({ callId: call.callId, carrierCallId: sid, code: error.carrierCode }, 'twilio call already ended');
        return;
      }
      throw error;
    }
  }

  /**
   * Moves a live call to new TwiML (`POST /Calls/{sid}` with `Twiml`): Twilio stops the call's current TwiML (our
   * `<Connect><Stream>` ends) and runs the new document, e.g. a `<Dial>`. Resolves with the call's status after it.
   */
  async redirect(call: CarrierCallRef, twiml: string): Promise<string> {
    const sid = call.carrierCallId ?? call.requestId ?? null;
    if (!sid) throw this.missingSid('transfer', call.callId);
    const updated = await this.run('transfer', call.callId, () => this.client.calls(sid).update({ twiml }));
    this.logger.info({ callId: call.callId, carrierCallId: sid, status: updated.status }, 'twilio call redirected');
    return updated.status;
  }

  async getCall(call: CarrierCallRef): Promise<CarrierCallInfo> {
    const sid = call.carrierCallId ?? call.requestId ?? null;
    if (!sid) throw this.missingSid('getCall', call.callId);
    const found = await this.run('getCall', call.callId, () => this.client.calls(sid).fetch());
    const duration = found.duration === null || found.duration === undefined ? Number.NaN : Number(found.duration);
    return {
      carrier: 'twilio',
      carrierCallId: found.sid,
      // Unknown words are not final: the caller keeps waiting for callbacks.
      status: twilioCallStatus(found.status) ?? 'queued',
      carrierStatus: found.status,
      from: found.from ?? null,
      to: found.to ?? null,
      direction: found.direction ?? null,
      startedAt: found.startTime ?? null,
      // Twilio's REST resource has no answer time; status callbacks carry it.
      answeredAt: null,
      endedAt: found.endTime ?? null,
      durationSec: Number.isFinite(duration) ? duration : null,
    };
  }

  private missingSid(operation: CarrierOperation, callId: string): CarrierError {
    return new CarrierError({
      carrier: 'twilio',
      operation,
      callId,
      httpStatus: null,
      carrierCode: null,
      carrierMessage: 'no Twilio CallSid for this call',
    });
  }

  private async run<T>(operation: CarrierOperation, callId: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw toCarrierError(operation, callId, error);
    }
  }
}

/**
 * The SDK's `RestException` (status, code, message) → {@link CarrierError}. Other failures are network errors from
 * axios, whose objects hold the request config (with the Authorization header): only their message is kept.
 */
function toCarrierError(operation: CarrierOperation, callId: string, error: unknown): CarrierError {
  if (error instanceof twilioSdk().RestException) {
    return new CarrierError({
      carrier: 'twilio',
      operation,
      callId,
      httpStatus: error.status,
      carrierCode: error.code ?? null,
      carrierMessage: error.message,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  const code =
    typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
      ? ` (${(error as { code: string }).code})`
      : '';
  return new CarrierError({ carrier: 'twilio', operation, callId, httpStatus: null, carrierCode: null, carrierMessage: message + code });
}
