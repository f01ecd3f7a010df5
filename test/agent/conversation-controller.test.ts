import { describe, expect, it } from 'vitest';
import '../../src/agent/frames.ts';
import type { ConversationOptions } from '../../src/agent/conversation-controller.ts';
import { ConversationController } from '../../src/agent/conversation-controller.ts';
import type { Frame } from '../../src/pipeline/index.ts';
import { PipelineTask, makeFrame } from '../../src/pipeline/index.ts';
import { LlmContext } from '../../src/services/llm/context.ts';
import { ManualClock } from '../../src/util/clock.ts';

function setup(options: ConversationOptions) {
  const clock = new ManualClock();
  const context = new LlmContext({ system: 's' });
  const out: Frame[] = [];
  const up: Frame[] = [];
  const controller = new ConversationController(context, options);
  const task = new PipelineTask([controller], { callId: 'conv', clock, onOutput: (f) => out.push(f) });
  const done = task.run();
  const said = () => out.flatMap((f) => (f.type === 'tts.speak' ? [f.text] : []));
  const holds = () =>
    out.flatMap((f) =>
      f.type === 'output.pause' || f.type === 'output.resume' ? [`${f.type === 'output.pause' ? '+' : '-'}${f.reason}`] : [],
    );
  // The bot's playback state comes up from the output transport.
  const botStarted = (utteranceId = 'u') => controller.queueFrame(makeFrame('bot.speech.started', { utteranceId }), 'upstream');
  const botStopped = (utteranceId = 'u', interrupted = false) =>
    controller.queueFrame(makeFrame('bot.speech.stopped', { utteranceId, interrupted }), 'upstream');
  const botSpoke = (utteranceId = 'u') => {
    botStarted(utteranceId);
    botStopped(utteranceId);
  };
  const userTurn = (turnId: number, speculative = false) => {
    task.queueFrame(makeFrame('user.speech.started', { atSec: 0, atMs: clock.now() }));
    context.addUserMessage('Hello?');
    task.queueFrame(makeFrame('llm.run', { context, reason: 'user turn', turnId, speculative }));
  };
  const lastSpeakId = () => (out.filter((f) => f.type === 'tts.speak').at(-1) as { utteranceId: string }).utteranceId;
  return { clock, context, out, up, task, done, said, holds, botStarted, botStopped, botSpoke, userTurn, lastSpeakId };
}

describe('ConversationController', () => {
  it('bot first: speaks the greeting at once and records it in the context', () => {
    const s = setup({ firstSpeaker: 'bot', greeting: 'Hello, this is Sam.' });
    expect(s.said()).toEqual(['Hello, this is Sam.']);
    expect(s.context.messages).toEqual([{ role: 'assistant', content: [{ type: 'text', text: 'Hello, this is Sam.' }] }]);
    s.task.cancel();
  });

  it('bot first without a greeting: the LLM writes the opening', () => {
    const s = setup({ firstSpeaker: 'bot' });
    expect(s.out.filter((f) => f.type === 'llm.run')).toHaveLength(1);
    s.task.cancel();
  });

  it('caller first: waits for the callee, and opens anyway after the timeout', () => {
    const waits = setup({ firstSpeaker: 'caller', greeting: 'Hi!', callerFirstTimeoutSecs: 4 });
    waits.clock.advance(3990);
    expect(waits.said()).toEqual([]);
    waits.clock.advance(20);
    expect(waits.said()).toEqual(['Hi!']);
    waits.task.cancel();

    const answered = setup({ firstSpeaker: 'caller', greeting: 'Hi!', callerFirstTimeoutSecs: 4 });
    answered.task.queueFrame(makeFrame('user.speech.started', { atSec: 0.1, atMs: answered.clock.now() }));
    answered.clock.advance(5000);
    expect(answered.said()).toEqual([]); // the callee spoke: their first turn gets the greeting
    answered.task.cancel();
  });

  it("caller first: the greeting, not the LLM, answers the callee's first words (issue 11)", () => {
    const s = setup({ firstSpeaker: 'caller', greeting: 'Hi Grace, this is Sam.' });
    s.userTurn(1);
    expect(s.said()).toEqual(['Hi Grace, this is Sam.']);
    expect(s.out.filter((f) => f.type === 'llm.run')).toHaveLength(0);
    expect(s.context.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    s.botSpoke(s.lastSpeakId());
    // Later turns go to the LLM.
    s.userTurn(2);
    expect(s.out.filter((f) => f.type === 'llm.run')).toHaveLength(1);
    expect(s.said()).toHaveLength(1);
    s.task.cancel();
  });

  it('a greeting that was never heard is given again when the caller goes on ("Hello? … Hello?")', () => {
    const s = setup({ firstSpeaker: 'caller', greeting: 'Hi, this is Sam.' });
    s.userTurn(1, true); // early: the greeting is prepared, held with the early reply
    s.task.queueFrame(makeFrame('interruption', { reason: 'caller went on' }));
    s.userTurn(2, true);
    expect(s.said()).toEqual(['Hi, this is Sam.', 'Hi, this is Sam.']);
    expect(s.out.filter((f) => f.type === 'llm.run')).toHaveLength(0);
    s.task.cancel();
  });

  it('without a greeting (greeting none) the LLM answers the first words', () => {
    const s = setup({ firstSpeaker: 'caller' });
    s.userTurn(1);
    expect(s.out.filter((f) => f.type === 'llm.run')).toHaveLength(1);
    expect(s.said()).toEqual([]);
    s.task.cancel();
  });

  it('re-prompts a silent caller, then says goodbye and ends the call', async () => {
    const s = setup({
      firstSpeaker: 'bot',
      greeting: 'Hello?',
      idle: { timeoutSecs: 8, maxPrompts: 2, prompt: 'Still there?', goodbye: 'Bye for now.' },
    });
    s.botSpoke(); // greeting played
    s.clock.advance(7999);
    expect(s.said()).toEqual(['Hello?']);
    s.clock.advance(1);
    expect(s.said()).toEqual(['Hello?', 'Still there?']);
    s.botSpoke();
    s.clock.advance(8000);
    expect(s.said()).toEqual(['Hello?', 'Still there?', 'Still there?']);
    s.botSpoke();
    s.clock.advance(8000);
    const outcome = await s.done;
    expect(s.said()).toEqual(['Hello?', 'Still there?', 'Still there?', 'Bye for now.']);
    expect(outcome).toEqual({ kind: 'ended', reason: 'caller silent' });
  });

  it('any caller speech resets the re-prompt count and the idle timer', () => {
    const s = setup({ firstSpeaker: 'bot', greeting: 'Hi.', idle: { timeoutSecs: 6, maxPrompts: 1, prompt: 'Hello?' } });
    s.botSpoke();
    s.clock.advance(3000);
    s.task.queueFrame(makeFrame('user.speech.started', { atSec: 1, atMs: s.clock.now() }));
    s.clock.advance(6000);
    expect(s.said()).toEqual(['Hi.']); // disarmed by the caller
    s.task.cancel();
  });

  it('no dead air after a word-less interruption: an interrupted bot and an empty turn re-arm the idle prompt', () => {
    const s = setup({ firstSpeaker: 'bot', greeting: 'Hi.', idle: { timeoutSecs: 8, prompt: 'Are you still there?' } });
    s.botStarted();
    // A laugh took the turn: the bot was interrupted, the caller's turn ends with no words.
    s.botStopped('u', true);
    s.task.queueFrame(makeFrame('user.speech.started', { atSec: 1, atMs: s.clock.now() }));
    s.clock.advance(2000);
    s.task.queueFrame(makeFrame('turn.empty', { reason: 'no words' }));
    s.clock.advance(7999);
    expect(s.said()).toEqual(['Hi.']);
    s.clock.advance(1);
    expect(s.said()).toEqual(['Hi.', 'Are you still there?']);
    s.task.cancel();
  });

  it('ends the call at the time limit with its line', async () => {
    const s = setup({ firstSpeaker: 'bot', greeting: 'Hi.', maxDurationSecs: 60, maxDurationLine: 'Time is up.' });
    s.clock.advance(60_000);
    const outcome = await s.done;
    expect(s.said()).toEqual(['Hi.', 'Time is up.']);
    expect(outcome.reason).toBe('max duration reached');
  });
});

describe('ConversationController with answering-machine detection', () => {
  const handling = { action: 'leave-message' as const, message: 'Please call us back. Goodbye!' };

  it('holds the greeting until a person is confirmed, then lets it play', () => {
    const s = setup({ firstSpeaker: 'caller', greeting: 'Hi, this is Sam.', answeringMachine: handling });
    s.userTurn(1);
    expect(s.holds()).toEqual(['+answered-by']);
    s.task.queueFrame(makeFrame('call.answered-by', { answeredBy: 'human', how: 'short-answer', atMs: s.clock.now() }));
    expect(s.holds()).toEqual(['+answered-by', '-answered-by']);
    s.task.cancel();
  });

  it('gives up waiting for a decision after the limit (the greeting plays, answered by unknown)', () => {
    const s = setup({ firstSpeaker: 'caller', greeting: 'Hi.', answeringMachine: { ...handling, maxDecisionWaitSecs: 2 } });
    s.userTurn(1);
    s.task.queueFrame(makeFrame('turn.committed', { turnId: 1, text: 'Hello?', early: false }));
    s.clock.advance(1999);
    expect(s.holds()).toEqual(['+answered-by']);
    s.clock.advance(1);
    expect(s.holds()).toEqual(['+answered-by', '-answered-by']);
    s.task.cancel();
  });

  it('on a machine: drops what was prepared, answers nothing, leaves the message once at voicemail.ready and ends', async () => {
    const s = setup({ firstSpeaker: 'caller', greeting: 'Hi, this is Sam.', answeringMachine: handling, idle: { timeoutSecs: 3 } });
    s.userTurn(1);
    s.task.queueFrame(makeFrame('call.answered-by', { answeredBy: 'machine', how: 'transcript', atMs: s.clock.now() }));
    expect(s.out.some((f) => f.type === 'interruption')).toBe(true);
    s.userTurn(2); // the greeting goes on: not answered
    s.clock.advance(10_000); // no idle prompt into a mailbox
    expect(s.said()).toEqual(['Hi, this is Sam.']);
    s.task.queueFrame(makeFrame('voicemail.ready', { reason: 'beep', atMs: s.clock.now() }));
    s.task.queueFrame(makeFrame('voicemail.ready', { reason: 'beep', atMs: s.clock.now() }));
    const outcome = await s.done;
    expect(s.said()).toEqual(['Hi, this is Sam.', 'Please call us back. Goodbye!']);
    expect(outcome).toEqual({ kind: 'ended', reason: 'voicemail message left' });
  });

  it('hang-up action ends the call at once on a machine', async () => {
    const s = setup({ firstSpeaker: 'caller', greeting: 'Hi.', answeringMachine: { action: 'hang-up', message: '' } });
    s.task.queueFrame(makeFrame('call.answered-by', { answeredBy: 'machine', how: 'beep', atMs: s.clock.now() }));
    const outcome = await s.done;
    expect(outcome).toEqual({ kind: 'ended', reason: 'answering machine' });
    expect(s.said()).toEqual([]);
  });
});
