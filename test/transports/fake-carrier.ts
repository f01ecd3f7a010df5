import type { ChannelAudioFormat } from '../../src/audio/channel-audio-format.ts';
import type { MediaChannel, MediaChannelHandler } from '../../src/transports/media-channel.ts';
import type { ClockClient } from '../../src/transports/media-clock.ts';
import type { ManualClock } from '../../src/util/clock.ts';

type Item = { kind: 'audio'; bytes: Uint8Array } | { kind: 'mark'; name: string };

/**
 * A carrier on a manual clock: plays 8 bytes per ms of what was sent, acknowledges a mark once the audio
 * before it has played, drops its buffer on clear (echoing dropped marks when asked, as Twilio does).
 */
export class FakeCarrier implements MediaChannel {
  readonly carrierCallId = 'fake-call';
  readonly format: ChannelAudioFormat = { encoding: 'mulaw', sampleRate: 8000 };
  readonly played: number[] = [];
  clears = 0;
  sentBytes = 0;
  private handler: MediaChannelHandler | undefined;
  private items: Item[] = [];

  constructor(readonly echoesMarksOnClear = false) {}

  setHandler(handler: MediaChannelHandler): void {
    this.handler = handler;
  }
  sendAudio(bytes: Uint8Array): void {
    this.sentBytes += bytes.length;
    this.items.push({ kind: 'audio', bytes: bytes.slice() });
  }
  sendMark(name: string): void {
    this.items.push({ kind: 'mark', name });
  }
  clear(): void {
    this.clears++;
    const dropped = this.items.filter((i): i is { kind: 'mark'; name: string } => i.kind === 'mark');
    this.items = [];
    if (this.echoesMarksOnClear) for (const mark of dropped) this.handler?.mark(mark.name);
  }
  close(): void {}

  /** Bytes sent and not played yet. */
  get buffered(): number {
    return this.items.reduce((n, i) => n + (i.kind === 'audio' ? i.bytes.length : 0), 0);
  }

  /** Plays up to `bytes` of queued audio, acknowledging marks it passes. */
  play(bytes: number): void {
    let left = bytes;
    for (;;) {
      const item = this.items[0];
      if (!item) return;
      if (item.kind === 'mark') {
        this.items.shift();
        this.handler?.mark(item.name);
        continue;
      }
      if (left === 0) return;
      const n = Math.min(left, item.bytes.length);
      for (let i = 0; i < n; i++) this.played.push(item.bytes[i] as number);
      left -= n;
      if (n === item.bytes.length) this.items.shift();
      else item.bytes = item.bytes.subarray(n);
    }
  }
}

/** Paces outputs from a manual clock: `step()` moves 20 ms, ticks the outputs, then lets the carrier play. */
export class ManualPacer {
  private readonly clients = new Set<ClockClient>();

  constructor(
    private readonly clock: ManualClock,
    private readonly carrier?: FakeCarrier,
  ) {}

  activate(client: ClockClient): void {
    if (this.clients.has(client)) return;
    this.clients.add(client);
    if (!client.tick(this.clock.now())) this.clients.delete(client);
  }
  deactivate(client: ClockClient): void {
    this.clients.delete(client);
  }

  step(ms = 20): void {
    this.clock.advance(ms);
    for (const client of [...this.clients]) if (!client.tick(this.clock.now())) this.clients.delete(client);
    this.carrier?.play(ms * 8);
  }

  run(ms: number): void {
    for (let t = 0; t < ms; t += 20) this.step();
  }
}
