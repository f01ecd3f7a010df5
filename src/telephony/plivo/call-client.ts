import { CallInterface } from 'plivo/dist/resources/call.js';
import { camelCaseRequestWrapper } from 'plivo/dist/rest/utils.js';
import type { Logger } from '../../log.ts';
import { systemClock, type Clock } from '../../util/clock.ts';
import { silentLogger } from '../../log.ts';
import { CarrierError, type CarrierOperation } from '../carrier-error.ts';
import type { CarrierCallClient, CarrierCallInfo, CarrierCallRef, PlaceCallRequest, PlacedCall } from '../carrier.ts';
import type { CallStatus } from '../call-status.ts';
import { parsePlivoDate, plivoCallStatus, statusFromPlivoHangupCause } from './status-callback.ts';
import { PlivoHttpError, plivoRestTransport } from './rest-transport.ts';

export interface PlivoCallClientOptions {
  authId: string;
  authToken: string;
  /** Plivo API origin, or the sandbox emulator's. @default 'https://api.plivo.com' */
  baseUrl?: string;
  /** Per-request timeout. @default 5000 (plivo-node's voice default) */
  requestTimeoutMs?: number;
  /** @default silentLogger() */
  logger?: Logger;
  /**
   * Waits before each retry of a request that got a 5xx or no answer (plivo-node retries voice requests twice on
   * 5xx): two retries, after 250 ms and 1000 ms. @default [250, 1000]
   */
  retryDelaysMs?: readonly number[];
  /** Time source for the retry waits. @default systemClock */
  clock?: Clock;
}

/** See {@link PlivoCallClientOptions.retryDelaysMs}. */
export const PLIVO_RETRY_DELAYS_MS: readonly number[] = [250, 1000];

/** Plivo wants numbers as country code + number without `+`; SIP URIs pass through. */
export function plivoNumber(value: string): string {
  return value.startsWith('+') ? value.slice(1) : value;
}

/**
 * How an ended call ended, from its call detail record (`GET Call/{uuid}/`). Plivo documents no state field in the
 * CDR; it has `answer_time` and the hang-up cause (`hangup_cause_name`, e.g. "Busy Line", "No Answer", "Canceled",
 * "Invalid Destination Address", "Normal Hangup"). An answered call is `completed`; an unanswered one is what its
 * cause says (busy, no-answer, canceled, failed), else `failed`.
 */
export function plivoCdrStatus(record: { answerTime: unknown; hangupCauseName: unknown; hangupCause?: unknown }): CallStatus {
  if (typeof record.answerTime === 'string' && record.answerTime !== '') return 'completed';
  const cause = stringOrNull(record.hangupCauseName) ?? stringOrNull(record.hangupCause);
  return (cause ? statusFromPlivoHangupCause(cause) : null) ?? 'failed';
}

function dateOrNull(value: unknown): Date | null {
  if (typeof value !== 'string' || value === '') return null;
  const date = parsePlivoDate(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * Places, hangs up and looks up Plivo calls with plivo-node's `CallInterface` over {@link plivoRestTransport}
 * (see there why the SDK's own transport cannot be used against a custom base URL).
 */
export class PlivoCallClient implements CarrierCallClient {
  readonly carrier = 'plivo' as const;
  private readonly calls: CallInterface;
  private readonly logger: Logger;
  private readonly retryDelaysMs: readonly number[];
  private readonly clock: Clock;

  constructor(options: PlivoCallClientOptions) {
    const transport = plivoRestTransport({
      authId: options.authId,
      authToken: options.authToken,
      baseUrl: options.baseUrl,
      timeoutMs: options.requestTimeoutMs,
    });
    this.calls = new CallInterface(camelCaseRequestWrapper(transport));
    this.logger = (options.logger ?? silentLogger()).child({ carrier: 'plivo' });
    this.retryDelaysMs = options.retryDelaysMs ?? PLIVO_RETRY_DELAYS_MS;
    this.clock = options.clock ?? systemClock;
  }

  async placeCall(request: PlaceCallRequest): Promise<PlacedCall> {
    if (!request.answerUrl) {
      throw new CarrierError({
        carrier: 'plivo',
        operation: 'placeCall',
        callId: request.callId,
        httpStatus: null,
        carrierCode: null,
        carrierMessage: 'Plivo needs an answerUrl (it has no inline answer markup)',
      });
    }
    const params: Record<string, unknown> = { answerMethod: 'POST' };
    if (request.statusCallbackUrl) {
      params.hangupUrl = request.statusCallbackUrl;
      params.hangupMethod = 'POST';
      params.ringUrl = request.statusCallbackUrl;
      params.ringMethod = 'POST';
    }
    if (request.ringTimeoutSec !== undefined) params.ringTimeout = request.ringTimeoutSec;
    if (request.machineDetectionUrl) {
      // `true` (not `hangup`): the call goes on and the agent decides what to do with a machine.
      params.machineDetection = 'true';
      params.machineDetectionUrl = request.machineDetectionUrl;
      params.machineDetectionMethod = 'POST';
    }
    const response = await this.run('placeCall', request.callId, () =>
      this.calls.create(plivoNumber(request.from), plivoNumber(request.to), request.answerUrl as string, params),
    );
    const requestUuid = Array.isArray(response.requestUuid) ? response.requestUuid[0] : response.requestUuid;
    if (typeof requestUuid !== 'string') {
      throw new CarrierError({
        carrier: 'plivo',
        operation: 'placeCall',
        callId: request.callId,
        httpStatus: null,
        carrierCode: null,
        carrierMessage: 'Plivo accepted the call but sent no request_uuid',
      });
    }
    this.logger.info({ callId: request.callId, requestUuid }, 'plivo call placed');
    return { carrier: 'plivo', carrierCallId: null, requestId: requestUuid, status: 'queued' };
  }

  /**
   * `DELETE Call/{CallUUID}/` when the call id is known, else `DELETE Request/{request_uuid}/` (cancels a call not
   * yet connected). 404 means already gone and counts as success.
   */
  async hangUp(call: CarrierCallRef): Promise<void> {
    const byCall = call.carrierCallId ?? null;
    const id = byCall ?? call.requestId ?? null;
    if (!id) throw this.missingId('hangUp', call.callId);
    try {
      await this.run('hangUp', call.callId, () => (byCall ? this.calls.hangup(byCall) : this.calls.cancel(id)));
      this.logger.info({ callId: call.callId, carrierCallId: id }, 'plivo call hung up');
    } catch (error) {
      if (error instanceof CarrierError && error.httpStatus === 404) {
        this.logger.debug({ callId: call.callId, carrierCallId: id }, 'plivo call already ended');
        return;
      }
      throw error;
    }
  }

  /**
   * Transfers a live call (`POST Call/{CallUUID}/` with `legs=aleg`, `aleg_url`): Plivo stops the call's current XML
   * (our `<Stream>` ends) and runs the XML at `alegUrl`, e.g. a `<Dial>`. Resolves with Plivo's message.
   */
  async transfer(call: CarrierCallRef, alegUrl: string): Promise<string> {
    const uuid = call.carrierCallId;
    if (!uuid) throw this.missingId('transfer', call.callId);
    const response = (await this.run('transfer', call.callId, () =>
      // The SDK's typings ask for the B-leg fields too; Plivo needs them only with legs=bleg|both.
      this.calls.transfer(uuid, { legs: 'aleg', alegUrl, alegMethod: 'POST' } as Parameters<CallInterface['transfer']>[1]),
    )) as { message?: unknown };
    this.logger.info({ callId: call.callId, carrierCallId: uuid }, 'plivo call transferred');
    return typeof response?.message === 'string' ? response.message : 'call transferred';
  }

  /** Live call first (`GET Call/{uuid}?status=live`); when Plivo no longer has it live, its record (`GET Call/{uuid}/`). */
  async getCall(call: CarrierCallRef): Promise<CarrierCallInfo> {
    const uuid = call.carrierCallId;
    if (!uuid) throw this.missingId('getCall', call.callId);
    try {
      const live = (await this.run('getCall', call.callId, () => this.calls.getLiveCall(uuid))) as Record<string, unknown>;
      const carrierStatus = stringOrNull(live.callStatus) ?? 'in-progress';
      return {
        carrier: 'plivo',
        carrierCallId: uuid,
        status: plivoCallStatus(carrierStatus) ?? 'in-progress',
        carrierStatus,
        from: stringOrNull(live.from),
        to: stringOrNull(live.to),
        direction: stringOrNull(live.direction),
        startedAt: dateOrNull(live.sessionStart),
        answeredAt: null,
        endedAt: null,
        durationSec: null,
      };
    } catch (error) {
      if (!(error instanceof CarrierError && error.httpStatus === 404)) throw error;
    }
    const record = (await this.run('getCall', call.callId, () => this.calls.get(uuid))) as unknown as Record<string, unknown>;
    const status = plivoCdrStatus({
      answerTime: record.answerTime,
      hangupCauseName: record.hangupCauseName,
      hangupCause: record.hangupCause,
    });
    const duration = Number(record.callDuration);
    return {
      carrier: 'plivo',
      carrierCallId: uuid,
      status,
      carrierStatus: stringOrNull(record.hangupCauseName) ?? status,
      from: stringOrNull(record.fromNumber),
      to: stringOrNull(record.toNumber),
      direction: stringOrNull(record.callDirection),
      startedAt: dateOrNull(record.initiationTime),
      answeredAt: dateOrNull(record.answerTime),
      endedAt: dateOrNull(record.endTime),
      durationSec: Number.isFinite(duration) ? duration : null,
    };
  }

  private missingId(operation: CarrierOperation, callId: string): CarrierError {
    return new CarrierError({
      carrier: 'plivo',
      operation,
      callId,
      httpStatus: null,
      carrierCode: null,
      carrierMessage: 'no Plivo call uuid or request uuid for this call',
    });
  }

  /**
   * Runs one SDK call, turning its failures into {@link CarrierError} (never carrying request headers). A 5xx answer
   * or a request that got no answer is tried again after each of `retryDelaysMs` — except a placement that timed
   * out, which Plivo may have received (a second try could dial the callee twice).
   */
  private async run<T>(operation: CarrierOperation, callId: string, action: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await action();
      } catch (error) {
        const failure = toCarrierError(operation, callId, error);
        const delay = this.retryDelaysMs[attempt];
        if (delay === undefined || !retryable(operation, failure, error)) throw failure;
        this.logger.warn(
          { callId, operation, attempt: attempt + 1, delayMs: delay, err: failure.message },
          'plivo request failed; retrying',
        );
        await new Promise<void>((resolve) => this.clock.setTimeout(resolve, delay));
      }
    }
  }
}

/**
 * 5xx, or no answer at all: a network failure (fetch's `TypeError`: refused, reset, DNS) or a timeout — but a
 * placement that timed out is not tried again. Other failures (4xx, the SDK's own checks) are final.
 */
function retryable(operation: CarrierOperation, failure: CarrierError, error: unknown): boolean {
  if (error instanceof PlivoHttpError) return error.status >= 500;
  if (failure.httpStatus !== null || !(error instanceof Error)) return false;
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return operation !== 'placeCall';
  return error instanceof TypeError;
}

function toCarrierError(operation: CarrierOperation, callId: string, error: unknown): CarrierError {
  if (error instanceof CarrierError) return error;
  if (error instanceof PlivoHttpError) {
    const body = error.body;
    let carrierCode: string | null = null;
    let carrierMessage = error.message;
    if (typeof body === 'object' && body !== null) {
      // Plivo error bodies: {"api_id": "…", "error": "…"}; the wrapper camel-cases keys, which leaves `error` as is.
      const record = body as Record<string, unknown>;
      if (typeof record.error === 'string') carrierCode = record.error;
      else if (record.error !== undefined) carrierCode = JSON.stringify(record.error);
      carrierMessage = typeof record.message === 'string' ? record.message : (carrierCode ?? carrierMessage);
    } else if (typeof body === 'string' && body) {
      carrierMessage = body.slice(0, 200);
    }
    return new CarrierError({ carrier: 'plivo', operation, callId, httpStatus: error.status, carrierCode, carrierMessage });
  }
  // Network failure, timeout, or the SDK's own validation (it returns/rejects plain Errors).
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return new CarrierError({ carrier: 'plivo', operation, callId, httpStatus: null, carrierCode: null, carrierMessage: message + cause });
}
