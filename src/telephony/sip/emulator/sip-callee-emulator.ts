/**
 * Sandbox SIP callees: a SIP user agent (our own endpoint, on its own port) that answers INVITEs for
 * `sip:<persona>@sandbox` — a persona id (`cooperative`, `interrupter`, `busy`, `no-answer`, `silent`,
 * `keypad`) or a registered number (`sip:+15550100001@sandbox`) — and runs that persona's script over RTP,
 * so an agent can call a simulated person over real SIP with nothing installed. Point the calling endpoint's
 * outbound proxy at {@link SipCalleeEmulator.proxyUri}.
 *
 * Call outcomes follow the persona: `answer` rings `ringMs` (180) then answers; `busy` answers 486 after
 * `ringMs`; `no-answer` rings until the caller gives up (CANCEL → 487); `failed` answers 503. Emulator
 * choices (which codes, 180 rather than 183) are ours, not any carrier's.
 */
import type { Logger } from '../../../log.ts';
import { silentLogger } from '../../../log.ts';
import { PersonaRegistry } from '../../../sandbox/callees/persona-registry.ts';
import type { Persona } from '../../../sandbox/callees/persona.ts';
import { SimulatedCallee, type CalleeRecord } from '../../../sandbox/callees/simulated-callee.ts';
import type { CalleeVoice } from '../../../sandbox/callees/callee-voice.ts';
import type { MediaClock } from '../../../transports/media-clock.ts';
import type { RtpChannelStats } from '../../../transports/rtp/rtp-media-channel.ts';
import type { IncomingSipCall } from '../incoming-sip-call.ts';
import type { SipCallEnd } from '../sip-call.ts';
import { SipEndpoint } from '../sip-endpoint.ts';

export interface SipCalleeEmulatorOptions {
  /** @default new PersonaRegistry() (the built-ins) */
  personas?: PersonaRegistry;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (a free port) */
  port?: number;
  /** Multiplies ringing and persona pauses. @default 1 */
  timeScale?: number;
  /** @default each persona's eSpeak voice */
  voice?: CalleeVoice;
  /** @default silentLogger() */
  logger?: Logger;
  /** @default the process-wide media clock */
  clock?: MediaClock;
}

/** One call the emulator received. */
export interface EmulatedSipCall {
  callId: string;
  requestUri: string;
  persona: Persona | null;
  /** X- headers the caller sent. */
  headers: Record<string, string>;
  /** SIP status we answered with (200, 486, 487, 503, 404). */
  sipStatus: number | null;
  /** What the simulated person did and heard (answered calls). */
  callee: CalleeRecord | null;
  /** The callee's RTP channel counters (answered calls): how the caller's audio arrived (jitter-buffer late/lost). */
  media: RtpChannelStats | null;
  end: SipCallEnd | null;
  /** Resolves when the call is over. */
  ended: Promise<SipCallEnd>;
}

const now = () => performance.timeOrigin + performance.now();

export class SipCalleeEmulator {
  readonly calls = new Map<string, EmulatedSipCall>();
  private readonly endpoint: SipEndpoint;
  private readonly personas: PersonaRegistry;
  private readonly timeScale: number;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: SipCalleeEmulatorOptions = {}) {
    this.personas = options.personas ?? new PersonaRegistry();
    this.timeScale = options.timeScale ?? 1;
    const host = options.host ?? '127.0.0.1';
    this.endpoint = new SipEndpoint(
      {
        bindAddress: host,
        port: options.port ?? 0,
        rtpPortMin: 0,
        rtpPortMax: 0,
        codecs: ['PCMU'],
        userAgent: 'Switchboard sandbox callee',
      },
      { logger: (options.logger ?? silentLogger()).child({ emulator: 'sip' }), ...(options.clock ? { clock: options.clock } : {}) },
    );
    this.endpoint.on('incoming', (call) => this.onCall(call));
  }

  async start(): Promise<this> {
    await this.endpoint.start();
    return this;
  }

  get port(): number {
    return this.endpoint.port;
  }

  /** Use as the calling endpoint's outbound proxy: every `sip:…@sandbox` INVITE then reaches us. */
  get proxyUri(): string {
    return `sip:${this.options.host ?? '127.0.0.1'}:${this.port}`;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.endpoint.close();
  }

  /** The persona for a request URI user: a persona id, or a number in the registry (else the fallback). */
  personaFor(user: string | undefined): Persona | null {
    if (!user) return this.personas.lookup('');
    const byId = this.personas.entries().find(([, persona]) => persona.id === user)?.[1];
    return byId ?? this.personas.lookup(user);
  }

  private onCall(call: IncomingSipCall): void {
    const persona = this.personaFor(call.requestUser);
    let resolveEnded!: (end: SipCallEnd) => void;
    const record: EmulatedSipCall = {
      callId: call.carrierCallId,
      requestUri: call.requestUri,
      persona,
      headers: call.headers,
      sipStatus: null,
      callee: null,
      media: null,
      end: null,
      ended: new Promise((resolve) => (resolveEnded = resolve)),
    };
    this.calls.set(call.carrierCallId, record);
    call.on('ended', (end) => {
      record.end = end;
      if (record.sipStatus === null) record.sipStatus = end.sipCode ?? null;
      resolveEnded(end);
    });
    if (!persona) {
      record.sipStatus = 404;
      call.reject(404, 'No Such Persona');
      return;
    }
    const outcome = persona.outcome ?? 'answer';
    const ringMs = (persona.ringMs ?? 1500) * this.timeScale;
    call.ring();
    if (outcome === 'no-answer') return; // rings until the caller cancels
    this.later(ringMs, () => {
      if (call.isEnded) return;
      if (outcome === 'busy') {
        record.sipStatus = 486;
        call.reject(486);
      } else if (outcome === 'failed') {
        record.sipStatus = 503;
        call.reject(503);
      } else {
        record.sipStatus = 200;
        void this.answer(call, persona, record);
      }
    });
  }

  private async answer(call: IncomingSipCall, persona: Persona, record: EmulatedSipCall): Promise<void> {
    const callee = new SimulatedCallee({
      persona,
      timeScale: this.timeScale,
      ...(this.options.voice ? { voice: this.options.voice } : {}),
    });
    record.callee = callee.record;
    callee.prepare();
    let channel;
    try {
      channel = await call.accept();
    } catch {
      return; // the caller's offer had no PCMU (488 sent) or the call ended meanwhile
    }
    record.media = channel.stats;
    // A channel on the media thread reports its counters when it closes.
    void channel.closedStats.then((stats) => (record.media = stats));
    // The channel delivers the bot's audio one 20 ms frame per slot; each slot the callee hears it and says its next frame.
    channel.setHandler({
      audio: (audio) => {
        const at = now();
        if (audio.mulaw) callee.hear(audio.mulaw, at);
        const said = callee.nextFrame(at);
        if (said) channel.sendAudio(said);
      },
      mark: () => {},
      dtmf: () => {},
      closed: () => callee.end(now()),
    });
    callee.connect({ sendDtmf: (digit) => channel.sendDtmf(digit), hangUp: () => void call.hangUp('callee hung up') }, now());
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }
}

/** Starts a sandbox SIP callee emulator on a free loopback port. */
export function startSipCalleeEmulator(options: SipCalleeEmulatorOptions = {}): Promise<SipCalleeEmulator> {
  return new SipCalleeEmulator(options).start();
}
