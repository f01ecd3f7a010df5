/**
 * One call's RTP media as a {@link MediaChannel}. The channel is its own "carrier": it queues what the
 * transport sends, paces it onto the wire in 20 ms packets on the shared media clock, and acknowledges a mark
 * once every byte before it has been sent — so playback truth is what actually left, and `clear()` stops the
 * audio at the next 20 ms slot. Between utterances it sends silence (peers use RTP as a keep-alive).
 *
 * Inbound packets go through an adaptive jitter buffer and come out one 20 ms frame per slot (silence while
 * the peer sends nothing, so the pipeline's timeline keeps running); RFC 4733 events become DTMF digits.
 * Only packets from the negotiated peer's address (or the SIP signalling source) are accepted; the first
 * one latches our sending to its port (symmetric RTP, for NATs). Garbage and foreign packets are counted
 * and dropped. No media for `rtpTimeoutMs` while the peer should be sending ends the channel.
 */
import type dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { Logger } from '../../log.ts';
import { silentLogger } from '../../log.ts';
import type { ChannelAudioFormat } from '../../audio/channel-audio-format.ts';
import type { AudioPayload } from '../../pipeline/audio-payload.ts';
import type { ChannelCloseInfo, MediaChannelHandler } from '../media-channel.ts';
import type { RtpChannel } from './rtp-channel.ts';
import type { ClockClient, MediaClock } from '../media-clock.ts';
import { sharedMediaClock } from '../media-clock.ts';
import { OutboundAudioQueue } from '../outbound-audio-queue.ts';
import { DtmfReceiver, planDtmf, writeTelephoneEvent, type DtmfPacketPlan } from './dtmf-events.ts';
import { emptyJitterBufferStats, JitterBuffer, type JitterBufferStats } from './jitter-buffer.ts';
import type { RtpCodec } from './rtp-codec.ts';
import { parseRtpPacket, RTP_HEADER_BYTES, writeRtpHeader } from './rtp-packet.ts';
import { canReceive, canSend, type NegotiatedMedia } from './sdp-negotiation.ts';

export interface RtpMediaChannelOptions {
  /** The SIP Call-ID. */
  carrierCallId: string;
  /** Our call id, on log lines. @default carrierCallId */
  callId?: string;
  /** Bound UDP socket; the channel owns it and closes it. */
  socket: dgram.Socket;
  media: NegotiatedMedia;
  codec: RtpCodec;
  /** More source addresses accepted besides the SDP address (the SIP peer's address). @default none */
  trustedAddresses?: string[];
  /** @default the process-wide shared media clock */
  clock?: MediaClock;
  /** No RTP for this long while the peer should send ends the channel (`by: 'error'`). @default 30000 */
  rtpTimeoutMs?: number;
  /** Jitter buffer bounds. @default 40 / 80 */
  jitterMinMs?: number;
  jitterMaxMs?: number;
  /** Slots more than this many behind (an event-loop stall) are skipped, not sent in a burst. @default 5 */
  maxCatchUpFrames?: number;
  /** @default silentLogger() */
  logger?: Logger;
  /** Called once when the channel ends by itself (RTP timeout): the call should hang up. */
  onFailure?: (reason: string) => void;
  /** Observes RFC 4733 digits (besides the handler). */
  onDtmf?: (digit: string) => void;
  /**
   * Inbound audio kept while no handler is set yet (the agent's session attaches after the answer; a callee's
   * "Hello?" said at once must reach it). Beyond this the oldest is dropped. @default 10000
   */
  earlyAudioMs?: number;
  /** Observes our sending moving to the first packet's source (symmetric RTP). */
  onLatched?: (remote: { address: string; port: number }) => void;
}

export interface RtpChannelStats {
  packetsSent: number;
  packetsReceived: number;
  /** Audio frames sent that carried queued audio (not keep-alive silence). */
  audioFramesSent: number;
  /** Slots skipped after an event-loop stall (sent late would be worse than not at all). */
  skippedSlots: number;
  /** Packets sent more than one frame (20 ms) behind the steady send grid (a stall; the peer's jitter buffer absorbs some). */
  lateFrames: number;
  /** Datagrams that were not RTP, or used a payload type we did not negotiate. */
  invalidPackets: number;
  /** Datagrams from an address that is not the peer's. */
  foreignPackets: number;
  dtmfReceived: number;
  dtmfSent: number;
  jitter: JitterBufferStats;
}

/** Counters of a channel that has not sent or received anything yet. */
export function emptyRtpChannelStats(): RtpChannelStats {
  return {
    packetsSent: 0,
    packetsReceived: 0,
    audioFramesSent: 0,
    skippedSlots: 0,
    lateFrames: 0,
    invalidPackets: 0,
    foreignPackets: 0,
    dtmfReceived: 0,
    dtmfSent: 0,
    jitter: emptyJitterBufferStats(0),
  };
}

interface QueuedMark {
  position: number;
  name: string;
}

const FRAME_MS = 20;

/** See {@link RtpMediaChannelOptions.earlyAudioMs}. */
export const DEFAULT_EARLY_AUDIO_MS = 10_000;

export class RtpMediaChannel implements RtpChannel, ClockClient {
  readonly carrierCallId: string;
  readonly format: ChannelAudioFormat;
  /** Marks before a clear are dropped, never echoed. */
  readonly echoesMarksOnClear = false;
  readonly stats: RtpChannelStats;
  readonly closedStats: Promise<RtpChannelStats>;
  private resolveClosedStats!: (stats: RtpChannelStats) => void;

  private readonly socket: dgram.Socket;
  private readonly codec: RtpCodec;
  private readonly clock: MediaClock;
  private readonly logger: Logger;
  private readonly jitter: JitterBuffer;
  private readonly dtmfIn = new DtmfReceiver();
  private readonly queue = new OutboundAudioQueue();
  private readonly rtpTimeoutMs: number;
  private readonly maxCatchUp: number;
  private readonly onFailure: ((reason: string) => void) | undefined;
  private readonly onDtmf: ((digit: string) => void) | undefined;
  private readonly onLatched: ((remote: { address: string; port: number }) => void) | undefined;
  private media: NegotiatedMedia;
  private trusted: Set<string>;
  private handler: MediaChannelHandler | undefined;
  /** Inbound frames delivered before a handler was set (at most {@link earlyAudioFrames}). */
  private earlyAudio: AudioPayload[] = [];
  private readonly earlyAudioFrames: number;
  private pendingClose: ChannelCloseInfo | undefined;
  private finished = false;

  // Outbound state.
  private readonly ssrc = (Math.random() * 0x1_0000_0000) >>> 0;
  private sequence = Math.floor(Math.random() * 0x10000);
  private readonly timestampBase = (Math.random() * 0x1_0000_0000) >>> 0;
  private originMs = -1;
  private slotsDone = 0;
  private inboundFramesDone = 0;
  private talking = false;
  private queuedBytes = 0;
  private sentBytes = 0;
  private marks: QueuedMark[] = [];
  private dtmfPlan: Array<DtmfPacketPlan | null> = [];
  private dtmfEventTimestamp = 0;
  private readonly frame: Uint8Array;
  private readonly inFrame: Uint8Array;
  private readonly eventPayload = new Uint8Array(4);
  private target: { address: string; port: number };
  private latched = false;
  private lastPacketAtMs: number;
  private loggedForeign = 0;

  constructor(options: RtpMediaChannelOptions) {
    this.carrierCallId = options.carrierCallId;
    this.socket = options.socket;
    this.codec = options.codec;
    this.format = options.codec.format;
    this.media = options.media;
    this.clock = options.clock ?? sharedMediaClock;
    this.rtpTimeoutMs = options.rtpTimeoutMs ?? 30_000;
    this.maxCatchUp = options.maxCatchUpFrames ?? 5;
    this.onFailure = options.onFailure;
    this.onDtmf = options.onDtmf;
    this.earlyAudioFrames = Math.max(0, Math.ceil((options.earlyAudioMs ?? DEFAULT_EARLY_AUDIO_MS) / FRAME_MS));
    this.onLatched = options.onLatched;
    this.logger = (options.logger ?? silentLogger()).child({ callId: options.callId ?? options.carrierCallId, transport: 'rtp' });
    this.trusted = trustedSources(options.media.remoteAddress, options.trustedAddresses ?? []);
    this.target = { address: options.media.remoteAddress, port: options.media.remotePort };
    this.frame = new Uint8Array(this.codec.frameBytes);
    this.inFrame = new Uint8Array(this.codec.frameUnits * this.codec.storedBytesPerUnit);
    this.jitter = new JitterBuffer({
      clockRate: this.codec.clockRate,
      bytesPerUnit: this.codec.storedBytesPerUnit,
      minDelayMs: options.jitterMinMs ?? 40,
      maxDelayMs: options.jitterMaxMs ?? 80,
      conceal: (out, previous, count) => this.codec.conceal(out, previous, count),
      silence: (out) => this.codec.silence(out),
    });
    this.stats = { ...emptyRtpChannelStats(), jitter: this.jitter.stats };
    this.closedStats = new Promise((resolve) => (this.resolveClosedStats = resolve));
    this.lastPacketAtMs = performance.now();
    this.socket.on('message', this.onDatagram);
    this.socket.on('error', (error) => this.logger.warn({ err: error.message }, 'RTP socket error'));
  }

  /** Where our RTP socket is bound. */
  get localPort(): number {
    return this.socket.address().port;
  }

  get negotiated(): NegotiatedMedia {
    return this.media;
  }

  /** Where we send (the SDP address, or the latched source). */
  get remote(): { address: string; port: number } {
    return { ...this.target };
  }

  get isClosed(): boolean {
    return this.finished;
  }

  /** Starts sending (silence until audio arrives) and delivering inbound frames. */
  start(): void {
    if (this.finished || this.originMs >= 0) return;
    this.originMs = performance.now();
    this.lastPacketAtMs = this.originMs;
    this.clock.activate(this);
  }

  setHandler(handler: MediaChannelHandler): void {
    this.handler = handler;
    // Audio that arrived between answer and the agent's start (a callee saying "Hello?" at once) is not lost.
    const early = this.earlyAudio;
    this.earlyAudio = [];
    for (const audio of early) handler.audio(audio);
    if (this.pendingClose) handler.closed(this.pendingClose);
  }

  /**
   * Forgets the inbound audio held for a handler not set yet: what came before a moment that matters (a room's
   * silence before a dial-out rings) need not reach the agent. No effect once a handler is set.
   */
  discardEarlyAudio(): void {
    this.earlyAudio = [];
  }

  sendAudio(bytes: Uint8Array): void {
    if (this.finished || bytes.length === 0) return;
    this.queue.push(bytes.slice());
    this.queuedBytes += bytes.length;
  }

  sendMark(name: string): void {
    if (this.finished) return;
    this.marks.push({ position: this.queuedBytes, name });
    this.ackSentMarks();
  }

  /** Drops unsent audio: the next slot carries silence. Pending marks are dropped, not echoed. */
  clear(): void {
    if (this.finished) return;
    this.queue.clear();
    this.queuedBytes = this.sentBytes;
    this.marks = [];
    this.handler?.cleared?.();
  }

  sendDtmf(digits: string): void {
    if (this.finished) return;
    if (this.media.telephoneEventPayloadType === undefined) {
      this.logger.warn({ digits }, 'peer did not negotiate telephone-event; DTMF not sent');
      return;
    }
    this.dtmfPlan.push(...planDtmf(digits, this.codec.clockRate));
  }

  /** A digit that arrived by other means (SIP INFO): the pipeline hears it like an RFC 4733 one. */
  deliverDtmf(digit: string): void {
    if (this.finished) return;
    this.stats.dtmfReceived++;
    this.handler?.dtmf(digit);
  }

  /** We close the media (hang-up from our side). */
  close(reason: string): void {
    this.finish({ by: 'local', reason });
  }

  /** The far end ended the call (BYE, CANCEL) or it failed: the handler hears `remote`/`error`. */
  end(by: 'remote' | 'error', reason: string): void {
    this.finish({ by, reason });
  }

  /** A re-INVITE/UPDATE changed the peer's address, port or direction (same codec). */
  updateMedia(media: NegotiatedMedia, trustedAddresses: string[] = []): void {
    const moved = media.remoteAddress !== this.media.remoteAddress || media.remotePort !== this.media.remotePort;
    this.media = media;
    this.trusted = trustedSources(media.remoteAddress, trustedAddresses);
    if (moved) {
      this.target = { address: media.remoteAddress, port: media.remotePort };
      this.latched = false;
      this.jitter.reset();
    }
    this.lastPacketAtMs = performance.now();
  }

  tick(nowMs: number): boolean {
    if (this.finished) return false;
    const due = Math.floor((nowMs - this.originMs) / FRAME_MS) + 1;
    let behind = due - this.slotsDone;
    if (behind > this.maxCatchUp) {
      this.stats.skippedSlots += behind - this.maxCatchUp;
      this.slotsDone += behind - this.maxCatchUp;
      this.inboundFramesDone = Math.max(this.inboundFramesDone, this.slotsDone - 1);
      behind = this.maxCatchUp;
    }
    while (this.slotsDone < due && !this.finished) {
      // Slot n is due at origin + n·20 ms and, with the phase lock below, goes out half a frame after that. Late
      // means more than one frame behind that steady grid (what a receiver's jitter buffer sees as jitter; the
      // grid's own offset is invisible to it).
      if (nowMs - (this.originMs + this.slotsDone * FRAME_MS + FRAME_MS / 2) > FRAME_MS) this.stats.lateFrames++;
      this.sendSlot(this.slotsDone);
      this.slotsDone++;
      if (this.inboundFramesDone < this.slotsDone) {
        this.inboundFramesDone++;
        this.deliverInbound(this.originMs + this.slotsDone * FRAME_MS);
      }
    }
    // Keep slot boundaries midway between the shared clock's ticks, so ordinary timer jitter never makes a
    // tick send two frames (a slow phase lock: at most 0.5 ms per tick).
    if (behind <= 1) {
      const phase = (((nowMs - this.originMs) % FRAME_MS) + FRAME_MS) % FRAME_MS;
      this.originMs += Math.max(-0.5, Math.min(0.5, (phase - FRAME_MS / 2) * 0.2));
    }
    if (!this.finished && canReceive(this.media.direction) && nowMs - this.lastPacketAtMs > this.rtpTimeoutMs) {
      const reason = `RTP timeout: no media from the peer for ${Math.round(this.rtpTimeoutMs / 1000)} s`;
      this.logger.warn({ remote: this.target }, reason);
      this.finish({ by: 'error', reason });
      this.onFailure?.(reason);
      return false;
    }
    return !this.finished;
  }

  private sendSlot(slot: number): void {
    const timestamp = (this.timestampBase + slot * this.codec.frameUnits) >>> 0;
    if (!canSend(this.media.direction)) {
      this.talking = false;
      return; // on hold: nothing goes out, queued audio waits (so nothing counts as heard)
    }
    if (this.dtmfPlan.length > 0) {
      const step = this.dtmfPlan.shift();
      if (step) {
        if (step.first) this.dtmfEventTimestamp = timestamp;
        writeTelephoneEvent(this.eventPayload, { event: step.event, end: step.end, volume: 10, duration: step.duration });
        this.transmit(this.media.telephoneEventPayloadType as number, step.first, this.dtmfEventTimestamp, this.eventPayload);
        if (step.end && !this.dtmfPlan[0]?.end) this.stats.dtmfSent++;
        this.talking = false;
        return;
      }
    }
    const available = this.queue.length;
    if (available > 0) {
      const size = Math.min(this.codec.frameBytes, available);
      const bytes = this.queue.take(size, this.frame);
      if (bytes !== this.frame) this.frame.set(bytes);
      if (size < this.codec.frameBytes) this.codec.silence(this.frame.subarray(size));
      this.transmit(this.media.payloadType, !this.talking, timestamp, this.codec.encode(this.frame));
      this.talking = true;
      this.sentBytes += size;
      this.stats.audioFramesSent++;
      this.ackSentMarks();
      return;
    }
    this.talking = false;
    this.codec.silence(this.frame);
    this.transmit(this.media.payloadType, false, timestamp, this.codec.encode(this.frame));
  }

  private transmit(payloadType: number, marker: boolean, timestamp: number, payload: Uint8Array): void {
    const packet = Buffer.allocUnsafe(RTP_HEADER_BYTES + payload.length);
    writeRtpHeader(packet, { marker, payloadType, sequence: this.sequence, timestamp, ssrc: this.ssrc });
    packet.set(payload, RTP_HEADER_BYTES);
    this.sequence = (this.sequence + 1) & 0xffff;
    this.stats.packetsSent++;
    if (this.target.port === 0 || this.target.address === '0.0.0.0') return;
    this.socket.send(packet, this.target.port, this.target.address);
  }

  private ackSentMarks(): void {
    while (this.marks.length > 0 && (this.marks[0] as QueuedMark).position <= this.sentBytes) {
      const mark = this.marks.shift() as QueuedMark;
      this.handler?.mark(mark.name);
    }
  }

  private deliverInbound(atMs: number): void {
    const result = this.jitter.pull(this.inFrame, atMs);
    void result;
    const audio = this.codec.toPayload(this.inFrame);
    if (this.handler) this.handler.audio(audio);
    else if (this.earlyAudio.push(audio) > this.earlyAudioFrames) this.earlyAudio.shift();
  }

  private readonly onDatagram = (data: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (this.finished) return;
    if (!this.trusted.has(rinfo.address)) {
      this.stats.foreignPackets++;
      if (this.loggedForeign++ < 3) this.logger.warn({ from: `${rinfo.address}:${rinfo.port}` }, 'RTP from an unexpected address dropped');
      return;
    }
    const packet = parseRtpPacket(data);
    if (!packet) {
      this.stats.invalidPackets++;
      return;
    }
    const now = performance.now();
    if (packet.payloadType === this.media.payloadType) {
      this.accept(rinfo, now);
      this.jitter.push(packet.timestamp, this.codec.decodeForStorage(packet.payload), now);
    } else if (packet.payloadType === this.media.telephoneEventPayloadType) {
      this.accept(rinfo, now);
      const digit = this.dtmfIn.receive(packet.payload, packet.timestamp, packet.ssrc);
      if (digit !== undefined) {
        this.stats.dtmfReceived++;
        this.handler?.dtmf(digit);
        this.onDtmf?.(digit);
      }
    } else if (packet.payloadType === 13) {
      this.accept(rinfo, now); // comfort noise: the peer is alive, nothing to play
    } else {
      this.stats.invalidPackets++;
    }
  };

  private accept(rinfo: dgram.RemoteInfo, now: number): void {
    this.stats.packetsReceived++;
    this.lastPacketAtMs = now;
    if (!this.latched) {
      this.latched = true;
      if (rinfo.port !== this.target.port || rinfo.address !== this.target.address) {
        this.logger.info({ sdp: this.target, actual: `${rinfo.address}:${rinfo.port}` }, 'RTP latched to the source address');
        this.target = { address: rinfo.address, port: rinfo.port };
        this.onLatched?.({ ...this.target });
      }
    }
  }

  private finish(info: ChannelCloseInfo): void {
    if (this.finished) return;
    this.finished = true;
    this.clock.deactivate(this);
    this.queue.clear();
    this.marks = [];
    this.socket.off('message', this.onDatagram);
    try {
      this.socket.close();
    } catch {
      // already closed
    }
    this.resolveClosedStats(this.stats);
    if (this.handler) this.handler.closed(info);
    else this.pendingClose = info;
  }
}

let localAddresses: Set<string> | undefined;

/**
 * The sources accepted: the peer's SDP address and the given ones; and, when the peer's address is one of this
 * machine's own, loopback too (a peer on this machine that advertised its external address still sends from
 * 127.0.0.1 to a loopback destination — e.g. the sandbox's in-process emulators talking to our endpoint).
 */
function trustedSources(remoteAddress: string, extra: string[]): Set<string> {
  const trusted = new Set([remoteAddress, ...extra]);
  localAddresses ??= new Set(
    Object.values(networkInterfaces())
      .flat()
      .map((info) => info?.address)
      .filter((address): address is string => Boolean(address)),
  );
  if (localAddresses.has(remoteAddress)) {
    trusted.add('127.0.0.1');
    trusted.add('::1');
  }
  return trusted;
}
