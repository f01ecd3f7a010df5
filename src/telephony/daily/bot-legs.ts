/**
 * The bots' SIP legs into Daily rooms: one SIP endpoint (ours, `src/telephony/sip/`) that either waits for a room
 * to dial a one-time user (`dial-bot`: the URI goes into `dialOut/start {sipUri}`) or dials a room's SIP endpoint
 * (`dial-room`). Either way the result is an answered {@link SipCall} with its RTP media channel.
 */
import { randomBytes } from 'node:crypto';
import { SwitchboardError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { MediaClock } from '../../transports/media-clock.ts';
import type { RtpMediaChannel } from '../../transports/rtp/rtp-media-channel.ts';
import type { IncomingSipCall } from '../sip/incoming-sip-call.ts';
import type { SipCall } from '../sip/sip-call.ts';
import type { SipEndpointConfig } from '../sip/sip-config.ts';
import { SipEndpoint } from '../sip/sip-endpoint.ts';

export interface BotLeg {
  call: SipCall;
  channel: RtpMediaChannel;
}

/** The bot's leg did not come up (the room never dialled us, or it refused our INVITE). */
export class BotLegError extends SwitchboardError {
  constructor(message: string, callId: string, cause?: unknown) {
    super(message, { code: 'daily_bot_leg_failed', callId, retryable: true, cause });
  }
}

interface Expected {
  callId: string;
  resolve: (leg: BotLeg) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class BotLegs {
  private readonly endpoint: SipEndpoint;
  private readonly expected = new Map<string, Expected>();
  private started: Promise<void> | undefined;

  constructor(
    config: SipEndpointConfig,
    private readonly log: Logger,
    clock?: MediaClock,
  ) {
    this.endpoint = new SipEndpoint(config, { logger: log, ...(clock ? { clock } : {}) });
    this.endpoint.on('incoming', (call) => this.onIncoming(call));
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
   * answered. Any other INVITE to this endpoint is refused (404); the user part is 128 random bits.
   */
  async expect(callId: string, timeoutMs: number): Promise<{ uri: string; leg: Promise<BotLeg> }> {
    await this.start();
    const user = `bot-${randomBytes(16).toString('hex')}`;
    const leg = new Promise<BotLeg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.expected.delete(user);
        reject(new BotLegError(`the room did not dial the bot within ${timeoutMs} ms`, callId));
      }, timeoutMs);
      this.expected.set(user, { callId, resolve, reject, timer });
    });
    return { uri: this.endpoint.uri(user), leg };
  }

  /** Stops waiting for a leg (the call ended first). */
  forget(uri: string): void {
    const user = /^sips?:([^@]+)@/.exec(uri)?.[1];
    const expected = user ? this.expected.get(user) : undefined;
    if (!user || !expected) return;
    clearTimeout(expected.timer);
    this.expected.delete(user);
    expected.reject(new BotLegError('call ended before the bot joined', expected.callId));
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
    for (const [user, expected] of this.expected) {
      clearTimeout(expected.timer);
      expected.reject(new BotLegError('shutting down', expected.callId));
      this.expected.delete(user);
    }
    if (this.started) await this.endpoint.close();
  }

  private onIncoming(call: IncomingSipCall): void {
    const user = call.requestUser ?? '';
    const expected = this.expected.get(user);
    if (!expected) {
      this.log.warn({ requestUri: call.requestUri, source: call.source }, 'INVITE for no expected bot leg refused');
      call.reject(404, 'Not Found');
      return;
    }
    this.expected.delete(user);
    clearTimeout(expected.timer);
    call.accept().then(
      (channel) => expected.resolve({ call, channel }),
      (error: unknown) => expected.reject(new BotLegError('answering the room failed', expected.callId, error)),
    );
  }
}
