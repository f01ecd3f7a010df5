/**
 * The bots' SIP legs into Daily rooms: one SIP endpoint (ours, `src/telephony/sip/`, on DAILY_SIP_PORT) that either
 * waits for a room to dial a one-time user (`dial-bot`: the URI goes into `dialOut/start {sipUri}`) or dials a room's SIP endpoint
 * (`dial-room`). Either way the result is an answered {@link SipCall} with its RTP media channel.
 */
import { SwitchboardError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { MediaClock } from '../../transports/media-clock.ts';
import type { RtpChannel } from '../../transports/rtp/rtp-channel.ts';
import type { SipCall } from '../sip/sip-call.ts';
import type { SipEndpointConfig } from '../sip/sip-config.ts';
import { SipEndpoint } from '../sip/sip-endpoint.ts';
import { SipLegReceiver } from '../sip/sip-leg-receiver.ts';
import { DAILY_DEFAULTS } from './settings.ts';

export interface BotLeg {
  call: SipCall;
  channel: RtpChannel;
}

/** The bot's leg did not come up (the room never dialled us, or it refused our INVITE). */
export class BotLegError extends SwitchboardError {
  constructor(message: string, callId: string, cause?: unknown) {
    super(message, { code: 'daily_bot_leg_failed', callId, retryable: true, cause });
  }
}

export class BotLegs {
  private readonly endpoint: SipEndpoint;
  private readonly receiver: SipLegReceiver;
  /** Cancels of the legs still awaited, by URI. */
  private readonly expected = new Map<string, (reason: string) => void>();
  private started: Promise<void> | undefined;

  constructor(
    config: SipEndpointConfig,
    private readonly log: Logger,
    clock?: MediaClock,
  ) {
    this.endpoint = new SipEndpoint(config, { logger: log, ...(clock ? { clock } : {}) });
    this.receiver = new SipLegReceiver(this.endpoint, { timeoutMs: DAILY_DEFAULTS.botLegTimeoutMs });
  }

  /** Binds the endpoint (once). */
  start(): Promise<void> {
    this.started ??= this.endpoint.start();
    return this.started;
  }

  get port(): number {
    return this.endpoint.port;
  }

  /**
   * A one-time SIP URI for the room to dial (`dial-bot`), and the leg once the room's INVITE arrived and was
   * answered (`SipLegReceiver`: other INVITEs get 404; the user part is random).
   */
  async expect(callId: string): Promise<{ uri: string; leg: Promise<BotLeg> }> {
    await this.start();
    const expected = this.receiver.expect(callId);
    this.expected.set(expected.uri, (reason) => expected.cancel(reason));
    const leg = expected.answered.then(
      ({ call, channel }) => {
        this.expected.delete(expected.uri);
        return { call, channel };
      },
      (error: unknown) => {
        this.expected.delete(expected.uri);
        throw new BotLegError(
          `the room did not bring the bot in: ${error instanceof Error ? error.message : String(error)}`,
          callId,
          error,
        );
      },
    );
    return { uri: expected.uri, leg };
  }

  /** Stops waiting for a leg (the call ended first). */
  forget(uri: string): void {
    this.expected.get(uri)?.('call ended before the bot joined');
    this.expected.delete(uri);
  }

  /** Dials a room's SIP endpoint (`dial-room`). */
  async dial(callId: string, uri: string, headers: Record<string, string>, timeoutMs: number): Promise<BotLeg> {
    await this.start();
    try {
      const call = await this.endpoint.placeCall({ to: uri, from: 'switchboard', fromName: 'bot', headers, ringTimeoutMs: timeoutMs });
      const channel = await call.answered;
      return { call, channel };
    } catch (error) {
      throw new BotLegError(
        `dialling the room's SIP endpoint failed: ${error instanceof Error ? error.message : String(error)}`,
        callId,
        error,
      );
    }
  }

  async close(): Promise<void> {
    for (const cancel of this.expected.values()) cancel('shutting down');
    this.expected.clear();
    if (this.started) await this.endpoint.close();
  }
}
