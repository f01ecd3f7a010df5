import type { FastifyRequest } from 'fastify';
import type { CarrierContext, TransferResult, WarmTransferRequest, WarmTransferResult } from '../carrier-adapter.ts';
import { RestCarrierRuntime } from '../rest-carrier-runtime.ts';
import { isFinalCallStatus } from '../../call-status.ts';
import type { WebhookVerification } from '../webhook-verification.ts';
import { formParams } from '../callback-params.ts';
import { twilioConferenceTwiml, twilioDialTwiml, twilioHangupTwiml, twilioStreamTwiml } from './answer-markup.ts';
import type { CarrierCallRef } from '../carrier.ts';
import { TwilioCallClient } from './call-client.ts';
import { TWILIO, type TwilioSettings } from './settings.ts';
import { TWILIO_SIGNATURE_HEADER, verifyTwilioWebhook } from './webhook-signature.ts';

/** Live Twilio: the REST client (official SDK), webhook verification and TwiML, for one account. */
export class TwilioRuntime extends RestCarrierRuntime {
  readonly name = TWILIO;
  declare readonly client: TwilioCallClient;
  private readonly authToken: string;
  private readonly holdMusicUrl: string | undefined;

  constructor(settings: Required<Pick<TwilioSettings, 'accountSid' | 'authToken'>> & TwilioSettings, context: CarrierContext) {
    const client = new TwilioCallClient({
      accountSid: settings.accountSid,
      authToken: settings.authToken,
      ...(settings.apiBaseUrl ? { baseUrl: settings.apiBaseUrl } : {}),
      logger: context.log,
    });
    super(client, context, { answer: '/twiml', status: '/twilio/status', machineDetection: '/twilio/amd' });
    this.authToken = settings.authToken;
    this.holdMusicUrl = settings.holdMusicUrl;
  }

  /** Checks `X-Twilio-Signature` against our public URL and the form parameters (POST) or query (GET). */
  verifyWebhook(request: FastifyRequest): WebhookVerification {
    return verifyTwilioWebhook({
      authToken: this.authToken,
      signature: request.headers[TWILIO_SIGNATURE_HEADER],
      publicBaseUrl: this.context.publicUrls.http,
      requestUrl: request.url,
      ...(request.method === 'POST' ? { formParams: formParams(request) } : {}),
    });
  }

  /** `<Connect><Stream>` to our media socket, with the call's numbers as stream parameters. */
  streamMarkup(options: { streamUrl: string; callId: string; to: string; from: string }): string {
    return twilioStreamTwiml({
      streamUrl: options.streamUrl,
      callId: options.callId,
      parameters: { to_number: options.to, from_number: options.from },
      allowInsecure: this.context.publicUrls.ws.startsWith('ws:'),
    });
  }

  /** Cold transfer: the live call is updated with `<Dial>` TwiML; Twilio ends our stream and dials the destination. */
  async transfer(call: CarrierCallRef, destination: string): Promise<TransferResult> {
    const status = await this.client.redirect(call, twilioDialTwiml(destination));
    return { ok: true, status, reason: `call updated with <Dial> to ${destination}`, movedByCarrier: true };
  }

  /**
   * Warm transfer through a conference room named after our call id:
   * 1. the caller's live call is updated with `<Dial><Conference startConferenceOnEnter="false">`: our stream ends
   *    and the caller, alone in a room that has not started, hears the `waitUrl` hold audio;
   * 2. the person is called as our call `briefingCallId` (answer TwiML `<Connect><Stream>`: the briefing session);
   * 3. once the briefing was heard, the person's call is updated with `<Dial><Conference startConferenceOnEnter="true">`:
   *    the conference starts and the two hear each other. Both legs have `endConferenceOnExit`, so when either
   *    hangs up the other's `<Dial>` ends and, its TwiML run out, Twilio hangs it up.
   * If the person cannot be reached or hangs up before the bridge, the caller's call is updated back to
   * `<Connect><Stream>` on a fresh media token: the bot takes them back (`resumed`).
   */
  async warmTransfer(call: CarrierCallRef, request: WarmTransferRequest): Promise<WarmTransferResult> {
    const room = `switchboard-${call.callId}`;
    await this.client.redirect(
      call,
      twilioConferenceTwiml(room, {
        startConferenceOnEnter: false,
        endConferenceOnExit: true,
        ...(this.holdMusicUrl ? { waitUrl: this.holdMusicUrl } : {}),
      }),
    );
    let personSid: string | null;
    try {
      const placed = await this.placeCall({
        callId: request.briefingCallId,
        to: request.destination,
        from: request.from,
        ...(request.ringTimeoutSec !== undefined ? { ringTimeoutSec: request.ringTimeoutSec } : {}),
      });
      personSid = placed.carrierCallId;
    } catch (error) {
      return this.takeBack(
        call,
        request,
        room,
        `could not call ${request.destination}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const briefed = await request.briefed();
    if (!briefed.ok) {
      await this.client.hangUp({ callId: request.briefingCallId, carrierCallId: personSid, answered: false }).catch(() => {});
      return this.takeBack(call, request, room, briefed.reason);
    }
    const person = { callId: request.briefingCallId, carrierCallId: personSid };
    // The caller may have hung up on hold: then there is nobody to bridge, and the person is let go.
    const callerNow = await this.client.getCall(call).catch(() => null);
    if (callerNow && isFinalCallStatus(callerNow.status)) {
      await this.client.hangUp({ ...person, answered: true }).catch(() => {});
      return { ok: false, status: 'caller-gone', reason: `the caller hung up on hold (${callerNow.carrierStatus})`, bridge: room };
    }
    try {
      await this.client.redirect(person, twilioConferenceTwiml(room, { startConferenceOnEnter: true, endConferenceOnExit: true }));
    } catch (error) {
      return this.takeBack(
        call,
        request,
        room,
        `could not bridge ${request.destination}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return {
      ok: true,
      status: 'bridged',
      reason: `${request.destination} briefed, then bridged with the caller in conference ${room}`,
      movedByCarrier: true,
      bridge: room,
    };
  }

  /** A warm transfer failed: the caller's call goes back to `<Connect><Stream>` (a new session on the same call). */
  private async takeBack(call: CarrierCallRef, request: WarmTransferRequest, room: string, reason: string): Promise<WarmTransferResult> {
    try {
      const answered = this.context.calls.answer({
        carrier: TWILIO,
        callId: call.callId,
        carrierCallId: call.carrierCallId ?? '',
        from: request.caller.from,
        to: request.caller.to,
      });
      await this.client.redirect(
        call,
        this.streamMarkup({ streamUrl: answered.streamUrl, callId: call.callId, to: request.caller.to, from: request.caller.from }),
      );
      return { ok: false, status: 'not-bridged', reason, resumed: true, bridge: room };
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return { ok: false, status: 'not-bridged', reason: `${reason}; the caller could not be taken back (${why})`, bridge: room };
    }
  }

  hangupMarkup(): string {
    return twilioHangupTwiml();
  }
}
