/**
 * Caller audio that reaches the pipeline's head before the pipeline started — a channel handing over what it held
 * when the session attaches (a dial-out callee's "Hello?" said the instant they answered), or audio arriving between
 * the attach and `start` — is delivered in order right after `start`, bounded; nothing of it is lost. Manual clock,
 * no wall-clock waits.
 */
import { describe, expect, it } from 'vitest';
import type { AudioPayload } from '../../src/pipeline/audio-payload.ts';
import type { Direction, Frame, FrameOf } from '../../src/pipeline/index.ts';
import { FrameProcessor, PipelineTask } from '../../src/pipeline/index.ts';
import type { MediaChannel, MediaChannelHandler } from '../../src/transports/media-channel.ts';
import { MediaTransport } from '../../src/transports/media-transport.ts';
import { TransportInput } from '../../src/transports/transport-input.ts';
import { ManualClock } from '../../src/util/clock.ts';

/** 20 ms of μ-law whose every byte is `n` (so frames are recognisable). */
const frame = (n: number): AudioPayload => ({ sampleRate: 8000, channels: 1, mulaw: new Uint8Array(160).fill(n) });
const label = (f: Frame) =>
  f.type === 'audio.in'
    ? `a${(f as FrameOf<'audio.in'>).audio.mulaw?.[0]}`
    : f.type === 'dtmf.in'
      ? `d${(f as FrameOf<'dtmf.in'>).digit}`
      : f.type;

/** A channel that, like the RTP and WebSocket channels, holds what arrives before a handler and hands it over. */
class LateHandlerChannel implements MediaChannel {
  readonly carrierCallId = 'late-handler';
  readonly format = { encoding: 'mulaw', sampleRate: 8000 } as MediaChannel['format'];
  readonly echoesMarksOnClear = false;
  private handler: MediaChannelHandler | undefined;
  private held: Array<() => void> = [];

  receiveAudio(n: number): void {
    const audio = frame(n);
    if (this.handler) this.handler.audio(audio);
    else this.held.push(() => this.handler?.audio(audio));
  }

  receiveDigit(digit: string): void {
    if (this.handler) this.handler.dtmf(digit);
    else this.held.push(() => this.handler?.dtmf(digit));
  }

  setHandler(handler: MediaChannelHandler): void {
    this.handler = handler;
    const held = this.held;
    this.held = [];
    for (const deliver of held) deliver();
  }

  sendAudio(): void {}
  sendMark(): void {}
  clear(): void {}
  close(): void {}
}

/** Records what reaches it, and whether `start` had reached it first. Its start can be made slow (a connecting STT). */
class Recorder extends FrameProcessor {
  readonly seen: string[] = [];
  private release: (() => void) | undefined;

  constructor(private readonly slowStart = false) {
    super('Recorder');
  }

  finishStart(): void {
    this.release?.();
  }

  protected override onStart(): void | Promise<void> {
    this.seen.push('start');
    if (this.slowStart) return new Promise<void>((resolve) => (this.release = resolve));
  }

  protected override processFrame(frame: Frame, direction: Direction): void {
    if (frame.type === 'audio.in' || frame.type === 'dtmf.in') this.seen.push(label(frame));
    this.pushFrame(frame, direction);
  }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TransportInput before start', () => {
  it('delivers what the channel held and what came before start, in order, after start and before live audio', async () => {
    const clock = new ManualClock();
    const channel = new LateHandlerChannel();
    // Answered, the callee speaks; nobody is attached yet.
    channel.receiveAudio(1);
    channel.receiveAudio(2);
    channel.receiveDigit('5');
    channel.receiveAudio(3);
    const transport = new MediaTransport(channel); // the session attaches: the channel hands over what it held
    channel.receiveAudio(4); // still before start
    const recorder = new Recorder();
    const task = new PipelineTask([transport.input(), recorder], { callId: 'pre-start', clock });
    const done = task.run();
    await flush();
    channel.receiveAudio(5); // live
    expect(recorder.seen).toEqual(['start', 'a1', 'a2', 'd5', 'a3', 'a4', 'a5']);
    expect(transport.input().receivedSec).toBeCloseTo(0.1, 6);
    task.cancel('test over');
    await done;
  });

  it('a slow start downstream (a connecting STT) still sees start first, then the held audio in order', async () => {
    const clock = new ManualClock();
    const channel = new LateHandlerChannel();
    channel.receiveAudio(1);
    channel.receiveAudio(2);
    const transport = new MediaTransport(channel);
    const recorder = new Recorder(true);
    const task = new PipelineTask([transport.input(), recorder], { callId: 'slow-start', clock });
    const done = task.run();
    await flush();
    channel.receiveAudio(3);
    expect(recorder.seen).toEqual(['start']);
    recorder.finishStart();
    await flush();
    expect(recorder.seen).toEqual(['start', 'a1', 'a2', 'a3']);
    task.cancel('test over');
    await done;
  });

  it('is bounded: beyond maxPreStartSec the oldest audio goes, and what is dropped is counted', async () => {
    const clock = new ManualClock();
    const input = new TransportInput({ maxPreStartSec: 0.1 }); // five 20 ms frames
    for (let n = 1; n <= 8; n++) input.onAudio(frame(n));
    const recorder = new Recorder();
    const task = new PipelineTask([input, recorder], { callId: 'bounded', clock });
    const done = task.run();
    await flush();
    expect(recorder.seen).toEqual(['start', 'a4', 'a5', 'a6', 'a7', 'a8']);
    expect(input.droppedPreStartSec).toBeCloseTo(0.06, 6);
    task.cancel('test over');
    await done;
  });

  it('after the pipeline stopped, audio is dropped', async () => {
    const clock = new ManualClock();
    const input = new TransportInput();
    const recorder = new Recorder();
    const task = new PipelineTask([input, recorder], { callId: 'stopped', clock });
    const done = task.run();
    await flush();
    task.cancel('test over');
    await done;
    input.onAudio(frame(9));
    expect(recorder.seen).toEqual(['start']);
  });
});
