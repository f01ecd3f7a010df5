/**
 * Pause and resume of the bot's audio (holds): what the caller hears, what the carrier was told, and what
 * the transport reports as heard — on a manual clock and a simulated carrier.
 */
import { describe, expect, it } from 'vitest';
import { heardPrefix } from '../../src/agent/assistant-turn-recorder.ts';
import type { Frame, FrameOf } from '../../src/pipeline/index.ts';
import { PipelineTask, makeFrame } from '../../src/pipeline/index.ts';
import { TransportOutput } from '../../src/transports/transport-output.ts';
import '../../src/transports/output-frames.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { FakeCarrier, ManualPacer } from './fake-carrier.ts';

/** `seconds` of audio whose byte i is `(i >> 4) & 0x7f` (so positions are recognisable), words of 0.2 s. */
function utterance(id: string, seconds = 2) {
  const audio = new Uint8Array(seconds * 8000).map((_, i) => ((i >> 4) & 0x3f) + 0x40);
  const frames: Frame[] = [makeFrame('tts.started', { utteranceId: id })];
  const words = Math.round(seconds / 0.2);
  for (let w = 0; w < words; w++) {
    frames.push(makeFrame('tts.text', { utteranceId: id, text: `w${w}`, startSec: w * 0.2, endSec: (w + 1) * 0.2 }));
  }
  for (let i = 0; i < audio.length; i += 800) {
    frames.push(makeFrame('tts.audio', { utteranceId: id, audio: { sampleRate: 8000, channels: 1, mulaw: audio.subarray(i, i + 800) } }));
  }
  frames.push(makeFrame('tts.stopped', { utteranceId: id }));
  return { frames, audio, text: Array.from({ length: words }, (_, w) => `w${w}`).join(' ') };
}

function setup(echo = false) {
  const clock = new ManualClock();
  const carrier = new FakeCarrier(echo);
  const pacer = new ManualPacer(clock, carrier);
  const output = new TransportOutput(carrier, { clock: pacer });
  carrier.setHandler({
    audio: () => {},
    dtmf: () => {},
    mark: (name) => output.onMarkAcknowledged(name),
    closed: () => {},
  });
  const down: Frame[] = [];
  const task = new PipelineTask([output], { callId: 'pause-test', clock, onOutput: (f) => down.push(f) });
  void task.run();
  const send = (frame: Frame) => task.queueFrame(frame);
  const played = () => down.filter((f): f is FrameOf<'audio.played'> => f.type === 'audio.played');
  return { clock, carrier, pacer, output, task, down, send, played };
}

describe('TransportOutput holds', () => {
  it('pause clears the carrier and rewinds to the last acknowledged word; resume plays on from there, nothing lost', () => {
    const s = setup();
    const { frames, audio } = utterance('u1');
    for (const f of frames) s.send(f);
    s.pacer.run(700); // 0.7 s played; words up to 0.6 s acknowledged
    const playedAtPause = s.carrier.played.length;
    s.send(makeFrame('output.pause', { reason: 'caller-speech' }));
    expect(s.carrier.clears).toBe(1);
    expect(s.carrier.buffered).toBe(0);
    expect(s.output.paused).toBe(true);
    const sentAtPause = s.carrier.sentBytes;
    s.pacer.run(600); // paused: the caller hears nothing and nothing is sent
    expect(s.carrier.sentBytes).toBe(sentAtPause);
    expect(s.carrier.played.length).toBe(playedAtPause);
    expect(s.down.some((f) => f.type === 'bot.speech.stopped')).toBe(false);

    s.send(makeFrame('output.resume', { reason: 'caller-speech' }));
    s.pacer.run(2000);
    // The caller heard the start up to the pause, then everything from the last acknowledged word (0.6 s) on.
    const resumeAt = 0.6 * 8000;
    const expected = [...audio.subarray(0, playedAtPause), ...audio.subarray(resumeAt)];
    expect(s.carrier.played).toEqual(expected);
    // Playback truth: every word confirmed once more, the end complete, and one bot.speech.stopped (not interrupted).
    const last = s.played().at(-1) as FrameOf<'audio.played'>;
    expect(last).toMatchObject({ utteranceId: 'u1', complete: true });
    expect(last.playedSec).toBeCloseTo(2, 5);
    expect(s.down.filter((f) => f.type === 'bot.speech.stopped')).toHaveLength(1);
    expect(s.output.stats).toMatchObject({ pauses: 1, rewinds: 1 });
    s.task.cancel();
  });

  it('ignores marks a carrier echoes on the pause clear (Twilio): they prove nothing', () => {
    const s = setup(true);
    const { frames, text } = utterance('u1');
    for (const f of frames) s.send(f);
    s.pacer.run(500);
    const before = Math.max(...s.played().map((p) => p.playedSec));
    s.send(makeFrame('output.pause', { reason: 'caller-speech' }));
    expect(Math.max(...s.played().map((p) => p.playedSec))).toBe(before); // echoes not counted
    // Confirmed interruption while paused: heard is what was acknowledged before the pause.
    s.send(makeFrame('interruption', { reason: 'barge-in' }));
    const final = s.played().at(-1) as FrameOf<'audio.played'>;
    expect(final.complete).toBe(false);
    expect(final.playedSec).toBeCloseTo(before, 5);
    const words = text.split(' ').map((w, i) => ({ text: w, endSec: (i + 1) * 0.2 }));
    expect(heardPrefix(text, words, final.playedSec)).toBe('w0 w1');
    s.send(makeFrame('output.resume', { reason: 'caller-speech' }));
    s.pacer.run(400);
    expect(s.carrier.played.length).toBeLessThanOrEqual(0.5 * 8000 + 160);
    s.task.cancel();
  });

  it('holds audio that has not started yet (an early reply): nothing is sent until every hold is released', () => {
    const s = setup();
    s.send(makeFrame('output.pause', { reason: 'early-reply' }));
    s.send(makeFrame('output.pause', { reason: 'answered-by' }));
    const { frames, audio } = utterance('u2', 1);
    for (const f of frames) s.send(f);
    s.pacer.run(300);
    expect(s.carrier.sentBytes).toBe(0);
    expect(s.carrier.clears).toBe(0); // nothing was playing: no clear
    expect(s.down.some((f) => f.type === 'bot.speech.started')).toBe(false);
    s.send(makeFrame('output.resume', { reason: 'early-reply' }));
    s.pacer.run(100);
    expect(s.carrier.sentBytes).toBe(0); // one hold is left
    s.send(makeFrame('output.resume', { reason: 'answered-by' }));
    expect(s.down.some((f) => f.type === 'bot.speech.started')).toBe(true); // sent at once, not a tick later
    s.pacer.run(1300);
    expect(s.carrier.played).toEqual([...audio]);
    s.task.cancel();
  });

  it('a pause after the carrier confirmed everything sent clears nothing and resends nothing', () => {
    const s = setup();
    const { frames } = utterance('u3', 1);
    for (const f of frames) s.send(f);
    s.pacer.run(1500);
    s.send(makeFrame('output.pause', { reason: 'caller-speech' }));
    expect(s.carrier.clears).toBe(0);
    s.send(makeFrame('output.resume', { reason: 'caller-speech' }));
    s.pacer.run(200);
    expect(s.carrier.played.length).toBe(8000);
    s.task.cancel();
  });
});
