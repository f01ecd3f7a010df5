import { describe, expect, it } from 'vitest';
import type { Frame, FrameOf } from '../../src/pipeline/index.ts';
import { FrameProcessor, PipelineTask, makeFrame } from '../../src/pipeline/index.ts';
import { LocalMediaChannel } from '../../src/transports/local/local-media-channel.ts';
import { MediaTransport } from '../../src/transports/media-transport.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** 1 s of "speech" (a non-silent μ-law pattern) and five words of 0.2 s each. */
function utterance(id: string, seconds = 1, words = 5) {
  const audio = new Uint8Array(seconds * 8000).map((_, i) => (i % 7) + 10);
  const frames: Frame[] = [makeFrame('tts.started', { utteranceId: id })];
  for (let w = 0; w < words; w++) {
    const start = (w * seconds) / words;
    frames.push(makeFrame('tts.text', { utteranceId: id, text: `w${w}`, startSec: start, endSec: start + seconds / words }));
  }
  // Audio in 100 ms chunks, as a streaming TTS delivers it.
  for (let i = 0; i < audio.length; i += 800) {
    frames.push(makeFrame('tts.audio', { utteranceId: id, audio: { sampleRate: 8000, channels: 1, mulaw: audio.subarray(i, i + 800) } }));
  }
  frames.push(makeFrame('tts.stopped', { utteranceId: id }));
  return frames;
}

function setup(options: { echoMarksOnClear?: boolean } = {}) {
  const channel = new LocalMediaChannel(options);
  const transport = new MediaTransport(channel);
  const down: Frame[] = [];
  const up: Frame[] = [];
  class UpstreamTap extends FrameProcessor {
    protected override processFrame(frame: Frame, direction: 'downstream' | 'upstream'): void {
      if (direction === 'upstream') up.push(frame);
      this.pushFrame(frame, direction);
    }
  }
  const task = new PipelineTask([transport.input(), new UpstreamTap('tap'), transport.output()], {
    callId: 'transport-test',
    onOutput: (f) => down.push(f),
  });
  return { channel, transport, task, down, up };
}

const played = (frames: Frame[]) => frames.filter((f): f is FrameOf<'audio.played'> => f.type === 'audio.played');

describe('TransportOutput', () => {
  it('paces audio in real time with a small lead and confirms playback of every word', async () => {
    const { channel, transport, task, down, up } = setup();
    const done = task.run();
    channel.open();
    const t0 = performance.now();
    for (const frame of utterance('u1')) task.queueFrame(frame);
    let maxLeadBytes = 0;
    while (!played(down).some((p) => p.complete)) {
      maxLeadBytes = Math.max(maxLeadBytes, channel.receivedBytes - channel.playedBytes);
      await sleep(5);
    }
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThan(950); // played at real-time speed, not dumped at once
    expect(elapsed).toBeLessThan(1400);
    // Never more than the lead (120 ms) plus a frame sent past it and a frame of the carrier's tick.
    expect(maxLeadBytes).toBeLessThanOrEqual(((120 + 40) / 1000) * 8000);
    expect(channel.playedBytes).toBe(8000);
    const positions = played(down).map((p) => Number(p.playedSec.toFixed(3)));
    expect(positions).toEqual([0.2, 0.4, 0.6, 0.8, 1, 1]);
    expect(up.map((f) => f.type)).toEqual(['bot.speech.started', 'bot.speech.stopped']);
    expect(down.filter((f) => f.type.startsWith('bot.speech')).map((f) => f.type)).toEqual(['bot.speech.started', 'bot.speech.stopped']);
    expect(transport.output().stats.underruns).toBe(0);
    task.end();
    await done;
  });

  it('on interruption stops sending at once, clears the carrier and reports exactly the heard words', async () => {
    const { channel, transport, task, down } = setup();
    const done = task.run();
    channel.open();
    for (const frame of utterance('u1', 2, 10)) task.queueFrame(frame);
    await sleep(730);
    const sentBefore = channel.receivedBytes;
    task.queueFrame(makeFrame('interruption', { reason: 'barge-in' }));
    const playedAtClear = channel.playedBytes;
    expect(channel.clears).toHaveLength(1);
    await sleep(100);
    expect(channel.receivedBytes).toBe(channel.playedBytes); // nothing sent after the clear
    expect(sentBefore).toBeGreaterThan(playedAtClear); // there was buffered audio to clear
    const final = played(down).at(-1)!;
    expect(final.complete).toBe(false);
    // Words end every 0.2 s: heard = words whose end had played when the carrier processed the clear.
    const heardWords = Math.floor(playedAtClear / 8000 / 0.2);
    expect(final.playedSec).toBeCloseTo(heardWords * 0.2, 5);
    const stopped = down.find((f): f is FrameOf<'bot.speech.stopped'> => f.type === 'bot.speech.stopped')!;
    expect(stopped.interrupted).toBe(true);
    expect(transport.output().stats.clearsSent).toBe(1);
    // The next utterance plays normally.
    for (const frame of utterance('u2', 0.4, 2)) task.queueFrame(frame);
    await sleep(600);
    expect(
      played(down)
        .filter((p) => p.utteranceId === 'u2')
        .at(-1),
    ).toMatchObject({ complete: true, playedSec: 0.4 });
    task.end();
    await done;
  });

  it('ignores marks a carrier echoes on clear (Twilio) instead of counting them as heard', async () => {
    const { channel, task, down } = setup({ echoMarksOnClear: true });
    const done = task.run();
    channel.open();
    for (const frame of utterance('u1', 2, 10)) task.queueFrame(frame);
    await sleep(500);
    const playedAtClear = channel.playedBytes;
    task.queueFrame(makeFrame('interruption', { reason: 'barge-in' }));
    await sleep(50);
    const u1 = played(down).filter((p) => p.utteranceId === 'u1');
    expect(Math.max(...u1.map((p) => p.playedSec))).toBeLessThanOrEqual(playedAtClear / 8000 + 1e-9);
    task.end();
    await done;
  });

  it('end waits until the carrier has played the last audio', async () => {
    const { channel, task, down } = setup();
    const done = task.run();
    channel.open();
    for (const frame of utterance('bye', 0.6, 3)) task.queueFrame(frame);
    task.end('goodbye');
    const t0 = performance.now();
    await done;
    expect(performance.now() - t0).toBeGreaterThan(550);
    expect(channel.playedBytes).toBe(4800);
    expect(played(down).at(-1)).toMatchObject({ utteranceId: 'bye', complete: true });
    expect(down.at(-1)?.type).toBe('end');
  });

  it('turns caller audio and keys into frames and cancels the call when the caller hangs up', async () => {
    const { channel, task, down } = setup();
    const done = task.run();
    channel.open();
    await channel.say(new Uint8Array(800).fill(20));
    channel.press('7');
    await sleep(30);
    channel.hangUp();
    const outcome = await done;
    expect(outcome.kind).toBe('cancelled');
    expect(outcome.reason).toContain('caller hung up');
    const audioIn = down.filter((f): f is FrameOf<'audio.in'> => f.type === 'audio.in');
    expect(audioIn.length).toBeGreaterThanOrEqual(5);
    expect(audioIn.every((f) => f.audio.mulaw?.length === 160)).toBe(true);
    expect(down.some((f) => f.type === 'dtmf.in' && f.digit === '7')).toBe(true);
  });
});
