import { describe, expect, it } from 'vitest';
import '../../src/agent/frames.ts';
import type { UserTurn } from '../../src/agent/user-turn-processor.ts';
import { UserTurnProcessor } from '../../src/agent/user-turn-processor.ts';
import type { Frame } from '../../src/pipeline/index.ts';
import { FrameProcessor, PipelineTask, makeFrame } from '../../src/pipeline/index.ts';
import { LlmContext } from '../../src/services/llm/context.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function setup(options: ConstructorParameters<typeof UserTurnProcessor>[1] = {}) {
  const context = new LlmContext({ system: 'test' });
  const turns: UserTurn[] = [];
  const events: string[] = [];
  const up: Frame[] = [];
  const down: Frame[] = [];
  class UpTap extends FrameProcessor {
    protected override processFrame(frame: Frame, direction: 'downstream' | 'upstream'): void {
      if (direction === 'upstream') up.push(frame);
      this.pushFrame(frame, direction);
    }
    protected override onInterruption(frame: Frame, direction: 'downstream' | 'upstream'): void {
      if (direction === 'upstream') up.push(frame);
    }
  }
  const turnsProcessor = new UserTurnProcessor(context, options, {
    onUserTurn: (t) => turns.push(t),
    onBackchannel: () => events.push('backchannel'),
    onBargeIn: () => events.push('barge-in'),
  });
  const task = new PipelineTask([new UpTap('tap'), turnsProcessor], { callId: 'turns', onOutput: (f) => down.push(f) });
  void task.run();
  const now = () => performance.now();
  return {
    context,
    turns,
    events,
    up,
    down,
    task,
    vadStart: (atMs = now()) => task.queueFrame(makeFrame('vad.speech.started', { atSec: 0, atMs })),
    vadStop: (atMs = now()) => task.queueFrame(makeFrame('vad.speech.stopped', { atSec: 0, atMs })),
    final: (text: string, speechFinal = true) => task.queueFrame(makeFrame('transcription', { text, final: true, speechFinal })),
    interim: (text: string) => task.queueFrame(makeFrame('transcription', { text, final: false })),
    // Bot speech state comes up from the output transport.
    botStarted: () => turnsProcessor.queueFrame(makeFrame('bot.speech.started', { utteranceId: 'u' }), 'upstream'),
    botStopped: () => turnsProcessor.queueFrame(makeFrame('bot.speech.stopped', { utteranceId: 'u', interrupted: false }), 'upstream'),
  };
}

const runs = (frames: Frame[]) => frames.filter((f) => f.type === 'llm.run');
const interruptions = (frames: Frame[]) => frames.filter((f) => f.type === 'interruption');

describe('UserTurnProcessor', () => {
  it('ends a turn on VAD stop once the final transcript is in, then runs the LLM with the words', async () => {
    const s = setup();
    s.vadStart();
    s.interim('yes i');
    s.final("Yes, I'll be there.");
    expect(runs(s.down)).toHaveLength(0); // still speaking
    s.vadStop();
    expect(runs(s.down)).toHaveLength(1);
    expect(s.context.messages).toEqual([{ role: 'user', content: "Yes, I'll be there." }]);
    expect(s.turns[0]).toMatchObject({ text: "Yes, I'll be there.", source: 'speech' });
    // STT is told the caller stopped (it sends Finalize).
    expect(s.up.some((f) => f.type === 'user.speech.stopped')).toBe(true);
    s.task.cancel();
  });

  it('waits for STT to finalise words still pending at VAD stop', async () => {
    const s = setup();
    s.vadStart();
    s.interim('no that is');
    s.vadStop();
    expect(runs(s.down)).toHaveLength(0);
    await sleep(20);
    s.final("No, that's all.", true);
    expect(runs(s.down)).toHaveLength(1);
    expect(s.context.messages.at(-1)).toEqual({ role: 'user', content: "No, that's all." });
    s.task.cancel();
  });

  it('commits pending interim words if the final never comes', async () => {
    const s = setup({ finalTranscriptTimeoutSecs: 0.05 });
    s.vadStart();
    s.interim('hello');
    s.vadStop();
    await sleep(80);
    expect(s.context.messages.at(-1)).toEqual({ role: 'user', content: 'hello' });
    s.task.cancel();
  });

  it('barges in when the caller talks over the bot for at least the minimum', async () => {
    const s = setup({ minBargeInSecs: 0.1 });
    s.botStarted();
    const onset = performance.now();
    s.vadStart(onset);
    expect(interruptions(s.down)).toHaveLength(0);
    await sleep(130);
    expect(interruptions(s.down)).toHaveLength(1);
    expect(interruptions(s.up)).toHaveLength(1);
    expect(s.events).toEqual(['barge-in']);
    s.final('Sorry, what time was that?');
    s.vadStop();
    expect(s.context.messages.at(-1)).toEqual({ role: 'user', content: 'Sorry, what time was that?' });
    s.task.cancel();
  });

  it('treats short speech over the bot as a backchannel: no interruption, words dropped', async () => {
    const s = setup({ minBargeInSecs: 0.3 });
    s.botStarted();
    s.vadStart();
    await sleep(100);
    s.vadStop();
    s.final('Mm-hmm.');
    await sleep(250);
    expect(interruptions(s.down)).toHaveLength(0);
    expect(runs(s.down)).toHaveLength(0);
    expect(s.context.messages).toEqual([]);
    expect(s.events).toEqual(['backchannel']);
    s.task.cancel();
  });

  it('counts only voiced time: a short "yeah" riding the VAD stop delay is still a backchannel', async () => {
    const s = setup({ minBargeInSecs: 0.3 });
    s.botStarted();
    s.vadStart();
    await sleep(120);
    s.task.queueFrame(makeFrame('vad.speech.paused', { atSec: 0, atMs: performance.now() }));
    s.final('Yeah.');
    await sleep(400); // well past onset + minimum, but the caller fell silent after 120 ms
    expect(interruptions(s.down)).toHaveLength(0);
    s.vadStop();
    expect(s.events).toEqual(['backchannel']);
    expect(s.context.messages).toEqual([]);
    s.task.cancel();
  });

  it('adds voiced stretches across a short pause and keeps finals heard meanwhile', async () => {
    const s = setup({ minBargeInSecs: 0.3 });
    s.botStarted();
    s.vadStart();
    await sleep(200);
    s.task.queueFrame(makeFrame('vad.speech.paused', { atSec: 0, atMs: performance.now() }));
    s.final('Sorry,');
    await sleep(150);
    s.task.queueFrame(makeFrame('vad.speech.resumed', { atSec: 0, atMs: performance.now() }));
    expect(interruptions(s.down)).toHaveLength(0);
    await sleep(150); // 200 + 150 voiced ms ≥ 300
    expect(interruptions(s.down)).toHaveLength(1);
    s.final('what time was that?');
    s.vadStop();
    expect(s.context.messages.at(-1)).toEqual({ role: 'user', content: 'Sorry, what time was that?' });
    s.task.cancel();
  });

  it("fast endpointing: ends the turn on STT's endpoint while VAD hears silence, without waiting stopSecs", () => {
    const s = setup({ fastEndpointing: true });
    s.vadStart();
    s.final('Yes.', true);
    expect(runs(s.down)).toHaveLength(0); // still voicing
    const pauseAt = performance.now();
    s.task.queueFrame(makeFrame('vad.speech.paused', { atSec: 1.2, atMs: pauseAt }));
    expect(runs(s.down)).toHaveLength(1);
    const stopped = s.down.find((f) => f.type === 'user.speech.stopped') as { atMs: number };
    expect(stopped.atMs).toBe(pauseAt); // the turn ended where the silence began
    s.vadStop(); // VAD's own decision, later: no second turn
    expect(runs(s.down)).toHaveLength(1);
    s.task.cancel();
  });

  it('fast endpointing: a caller who goes on continues the same turn and the early reply is interrupted', () => {
    const s = setup({ fastEndpointing: true });
    s.vadStart();
    s.task.queueFrame(makeFrame('vad.speech.paused', { atSec: 1, atMs: performance.now() }));
    s.final('Yes.', true); // STT endpoint after VAD heard the pause
    expect(runs(s.down)).toHaveLength(1);
    s.task.queueFrame(makeFrame('vad.speech.resumed', { atSec: 1.4, atMs: performance.now() }));
    expect(interruptions(s.down)).toHaveLength(1);
    s.final("I'll be there.", true);
    s.task.queueFrame(makeFrame('vad.speech.paused', { atSec: 2.5, atMs: performance.now() }));
    expect(runs(s.down)).toHaveLength(2);
    expect(s.context.messages).toEqual([{ role: 'user', content: "Yes. I'll be there." }]);
    s.task.cancel();
  });

  it("without fast endpointing, STT's endpoint alone does not end the turn", () => {
    const s = setup();
    s.vadStart();
    s.final('Yes.', true);
    s.task.queueFrame(makeFrame('vad.speech.paused', { atSec: 1, atMs: performance.now() }));
    expect(runs(s.down)).toHaveLength(0);
    s.vadStop();
    expect(runs(s.down)).toHaveLength(1);
    s.task.cancel();
  });

  it('ignores a late VAD start for speech STT already made a turn of (busy server): the reply is not cut', () => {
    const s = setup();
    const spokeAt = performance.now() - 400; // the caller spoke 400 ms ago; VAD is running behind
    s.final('Hello?');
    expect(runs(s.down)).toHaveLength(1); // STT's words made the turn
    s.vadStart(spokeAt);
    s.vadStop(spokeAt + 300);
    expect(interruptions(s.down)).toHaveLength(0);
    expect(runs(s.down)).toHaveLength(1);
    expect(s.context.messages).toEqual([{ role: 'user', content: 'Hello?' }]);
    // Speech that starts after that turn is a turn again.
    s.vadStart();
    s.final('Yes.');
    s.vadStop();
    expect(runs(s.down)).toHaveLength(2);
    s.task.cancel();
  });

  it('a gap between words (under 100 ms) counts as voicing: barge-in is not delayed by it', async () => {
    const s = setup({ minBargeInSecs: 0.3 });
    s.botStarted();
    const onset = performance.now();
    s.vadStart(onset);
    await sleep(150);
    s.task.queueFrame(makeFrame('vad.speech.paused', { atSec: 0, atMs: performance.now() }));
    await sleep(50);
    s.task.queueFrame(makeFrame('vad.speech.resumed', { atSec: 0, atMs: performance.now() }));
    await sleep(130); // 330 ms after onset: due at 300 ms with the gap counted as voiced
    expect(interruptions(s.down)).toHaveLength(1);
    s.task.cancel();
  });

  it("decides a due barge-in on the caller's next audio frame, without waiting for a (congested) timer", () => {
    const s = setup({ minBargeInSecs: 0.3 });
    s.botStarted();
    s.vadStart(performance.now() - 400); // VAD reported late: the minimum is already reached
    expect(interruptions(s.down)).toHaveLength(0); // the timer has not had its turn yet
    s.task.queueFrame(makeFrame('audio.in', { audio: { sampleRate: 8000, channels: 1, mulaw: new Uint8Array(160) } }));
    expect(interruptions(s.down)).toHaveLength(1);
    s.task.cancel();
  });

  it('makes a turn of words STT heard that VAD missed', () => {
    const s = setup();
    s.final('Yes.');
    expect(runs(s.down)).toHaveLength(1);
    expect(s.context.messages).toEqual([{ role: 'user', content: 'Yes.' }]);
    s.task.cancel();
  });

  it('interrupts a reply still being prepared when the caller resumes, and merges the turns', () => {
    const s = setup();
    s.vadStart();
    s.final('Yes.');
    s.vadStop();
    expect(runs(s.down)).toHaveLength(1);
    s.vadStart(); // caller goes on before the bot said anything
    expect(interruptions(s.down)).toHaveLength(1);
    s.final("I'll be there.");
    s.vadStop();
    expect(s.context.messages).toEqual([{ role: 'user', content: "Yes. I'll be there." }]);
    s.task.cancel();
  });

  it('gathers keypad digits into one turn and lets a key interrupt the bot', async () => {
    const s = setup({ dtmfTimeoutSecs: 0.05 });
    s.botStarted();
    s.task.queueFrame(makeFrame('dtmf.in', { digit: '1' }));
    expect(interruptions(s.down)).toHaveLength(1);
    s.task.queueFrame(makeFrame('dtmf.in', { digit: '2' }));
    await sleep(80);
    expect(s.turns.map((t) => [t.text, t.source])).toEqual([['DTMF: 12', 'dtmf']]);
    s.task.queueFrame(makeFrame('dtmf.in', { digit: '3' }));
    s.task.queueFrame(makeFrame('dtmf.in', { digit: '#' }));
    expect(s.turns.at(-1)?.text).toBe('DTMF: 3');
    s.task.cancel();
  });

  it('ignores speech over the bot when barge-in is off', async () => {
    const s = setup({ bargeIn: false });
    s.botStarted();
    s.vadStart();
    await sleep(20);
    s.final('Stop talking.');
    s.vadStop();
    expect(interruptions(s.down)).toHaveLength(0);
    expect(runs(s.down)).toHaveLength(0);
    s.botStopped();
    s.task.cancel();
  });
});
