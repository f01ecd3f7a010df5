/**
 * The main thread's side of a channel that runs on the RTP media thread: the same {@link RtpChannel} surface,
 * with every command forwarded and every report (caller audio, marks, digits, the close and its final counters)
 * delivered to the handler on the main thread. Audio that arrives before the agent sets its handler is kept (up
 * to `DEFAULT_EARLY_AUDIO_MS`, 10 s) and delivered first, so a callee who says "Hello?" the moment they answer is heard.
 */
import type { Logger } from '../../log.ts';
import { silentLogger } from '../../log.ts';
import type { ChannelAudioFormat } from '../../audio/channel-audio-format.ts';
import type { AudioPayload } from '../../pipeline/audio-payload.ts';
import type { ChannelCloseInfo, MediaChannelHandler } from '../media-channel.ts';
import type { RtpChannel, RtpChannelSpec } from './rtp-channel.ts';
import { codecFor } from './rtp-codec.ts';
import { DEFAULT_EARLY_AUDIO_MS, emptyRtpChannelStats, type RtpChannelStats } from './rtp-media-channel.ts';
import type { FromMediaThread, ToMediaThread } from './rtp-thread-protocol.ts';
import type { NegotiatedMedia } from './sdp-negotiation.ts';

/** Inbound audio kept while nobody listens yet, in 20 ms frames. */
const EARLY_AUDIO_FRAMES = DEFAULT_EARLY_AUDIO_MS / 20;

const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

export class ThreadedRtpChannel implements RtpChannel {
  readonly carrierCallId: string;
  readonly format: ChannelAudioFormat;
  readonly echoesMarksOnClear = false;
  readonly localPort: number;
  readonly closedStats: Promise<RtpChannelStats>;
  /** Counters as of the last report from the media thread (a clear, the close). */
  stats: RtpChannelStats = emptyRtpChannelStats();
  private resolveClosedStats!: (stats: RtpChannelStats) => void;
  private media: NegotiatedMedia;
  private target: { address: string; port: number };
  private handler: MediaChannelHandler | undefined;
  private earlyAudio: AudioPayload[] = [];
  private pendingClose: ChannelCloseInfo | undefined;
  private finished = false;
  private readonly logger: Logger;

  constructor(
    private readonly id: number,
    localPort: number,
    private readonly spec: RtpChannelSpec,
    private readonly send: (message: ToMediaThread) => void,
  ) {
    this.carrierCallId = spec.carrierCallId;
    this.localPort = localPort;
    this.media = spec.media;
    this.format = codecFor(spec.media).format;
    this.target = { address: spec.media.remoteAddress, port: spec.media.remotePort };
    this.logger = (spec.logger ?? silentLogger()).child({ callId: spec.callId ?? spec.carrierCallId, transport: 'rtp' });
    this.closedStats = new Promise((resolve) => (this.resolveClosedStats = resolve));
    send({
      t: 'open',
      id,
      carrierCallId: spec.carrierCallId,
      media: spec.media,
      trusted: spec.trustedAddresses ?? [],
      ...(spec.rtpTimeoutMs !== undefined ? { rtpTimeoutMs: spec.rtpTimeoutMs } : {}),
    });
  }

  get negotiated(): NegotiatedMedia {
    return this.media;
  }

  get remote(): { address: string; port: number } {
    return { ...this.target };
  }

  get isClosed(): boolean {
    return this.finished;
  }

  start(): void {
    if (!this.finished) this.send({ t: 'start', id: this.id });
  }

  setHandler(handler: MediaChannelHandler): void {
    this.handler = handler;
    for (const audio of this.earlyAudio.splice(0)) handler.audio(audio);
    if (this.pendingClose) handler.closed(this.pendingClose);
  }

  discardEarlyAudio(): void {
    this.earlyAudio = [];
  }

  sendAudio(bytes: Uint8Array): void {
    // A copy: the caller reuses its buffer, and the message is read on the other thread later.
    if (!this.finished && bytes.length > 0) this.send({ t: 'audio', id: this.id, bytes: bytes.slice() });
  }

  sendMark(name: string): void {
    if (!this.finished) this.send({ t: 'mark', id: this.id, name });
  }

  clear(): void {
    if (!this.finished) this.send({ t: 'clear', id: this.id });
  }

  sendDtmf(digits: string): void {
    if (this.finished) return;
    if (this.media.telephoneEventPayloadType === undefined) {
      this.logger.warn({ digits }, 'peer did not negotiate telephone-event; DTMF not sent');
      return;
    }
    this.send({ t: 'dtmf', id: this.id, digits });
  }

  deliverDtmf(digit: string): void {
    if (this.finished) return;
    this.stats.dtmfReceived++;
    this.handler?.dtmf(digit);
  }

  close(reason: string): void {
    if (!this.finished) this.send({ t: 'close', id: this.id, reason });
  }

  end(by: 'remote' | 'error', reason: string): void {
    if (!this.finished) this.send({ t: 'end', id: this.id, by, reason });
  }

  updateMedia(media: NegotiatedMedia, trustedAddresses: string[] = []): void {
    if (this.finished) return;
    if (media.remoteAddress !== this.media.remoteAddress || media.remotePort !== this.media.remotePort) {
      this.target = { address: media.remoteAddress, port: media.remotePort };
    }
    this.media = media;
    this.send({ t: 'update', id: this.id, media, trusted: trustedAddresses });
  }

  /** A report from the media thread about this channel. */
  receive(message: FromMediaThread): void {
    switch (message.t) {
      case 'audio':
        if (this.handler) this.handler.audio(message.audio);
        else if (this.earlyAudio.push(message.audio) > EARLY_AUDIO_FRAMES) this.earlyAudio.shift();
        break;
      case 'mark':
        this.handler?.mark(message.name);
        break;
      case 'cleared':
        this.stats = this.adopt(message.stats);
        this.handler?.cleared?.();
        break;
      case 'dtmf':
        this.stats.dtmfReceived++;
        this.handler?.dtmf(message.digit);
        this.spec.onDtmf?.(message.digit);
        break;
      case 'remote':
        this.target = { address: message.address, port: message.port };
        break;
      case 'failure':
        this.spec.onFailure?.(message.reason);
        break;
      case 'log':
        this.relog(message.line);
        break;
      case 'closed':
        this.finish(message.info, this.adopt(message.stats));
        break;
      default:
        break;
    }
  }

  /** The media thread's counters, with the digits that arrived here by SIP INFO (the thread never saw those). */
  private adopt(stats: RtpChannelStats): RtpChannelStats {
    return { ...stats, dtmfReceived: Math.max(stats.dtmfReceived, this.stats.dtmfReceived) };
  }

  /** The media thread died under the call. */
  fail(reason: string): void {
    this.finish({ by: 'error', reason }, this.stats);
  }

  private finish(info: ChannelCloseInfo, stats: RtpChannelStats): void {
    if (this.finished) return;
    this.finished = true;
    this.stats = stats;
    this.resolveClosedStats(stats);
    if (this.handler) this.handler.closed(info);
    else this.pendingClose = info;
  }

  private relog(line: string): void {
    try {
      const { level, msg, ...fields } = JSON.parse(line) as { level: number; msg?: string } & Record<string, unknown>;
      this.logger[LEVELS[level] ?? 'info'](fields, msg ?? '');
    } catch {
      this.logger.info(line.trim());
    }
  }
}
