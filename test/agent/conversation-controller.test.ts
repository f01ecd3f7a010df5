import { describe, expect, it } from 'vitest';
import '../../src/agent/frames.ts';
import type { ConversationOptions } from '../../src/agent/conversation-controller.ts';
import { ConversationController } from '../../src/agent/conversation-controller.ts';
import type { Frame } from '../../src/pipeline/index.ts';
import { PipelineTask, makeFrame } from '../../src/pipeline/index.ts';
import { LlmContext } from '../../src/services/llm/context.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function setup(options: ConversationOptions) {
  const context = new LlmContext({ system: 's' });
  const out: Frame[] = [];
  const controller = new ConversationController(context, options);
  const task = new PipelineTask([controller], { callId: 'conv', onOutput: (f) => out.push(f) });
  const done = task.run();
  const said = () => out.flatMap((f) => (f.type === 'tts.speak' ? [f.text] : []));
  // The bot's playback state comes up from the output transport.
  const botSpoke = () => {
    controller.queueFrame(makeFrame('bot.speech.started', { utteranceId: 'u' }), 'upstream');
    controller.queueFrame(makeFrame('bot.speech.stopped', { utteranceId: 'u', interrupted: false }), 'upstream');
  };
  return { context, out, task, done, said, botSpoke };
}

describe('ConversationController', () => {
  it('bot first: speaks the greeting at once and records it in the context', async () => {
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

  it('caller first: waits for the callee, and opens anyway after the timeout', async () => {
    const waits = setup({ firstSpeaker: 'caller', greeting: 'Hi!', callerFirstTimeoutSecs: 0.05 });
    expect(waits.said()).toEqual([]);
    await sleep(80);
    expect(waits.said()).toEqual(['Hi!']);
    waits.task.cancel();

    const answered = setup({ firstSpeaker: 'caller', greeting: 'Hi!', callerFirstTimeoutSecs: 0.05 });
    answered.task.queueFrame(makeFrame('user.speech.started', { atSec: 0.1, atMs: performance.now() }));
    await sleep(80);
    expect(answered.said()).toEqual([]); // the callee spoke: the LLM answers them instead
    answered.task.cancel();
  });

  it('re-prompts a silent caller, then says goodbye and ends the call', async () => {
    const s = setup({
      firstSpeaker: 'bot',
      greeting: 'Hello?',
      idle: { timeoutSecs: 0.05, maxPrompts: 2, prompt: 'Still there?', goodbye: 'Bye for now.' },
    });
    s.botSpoke(); // greeting played
    await sleep(70);
    expect(s.said()).toEqual(['Hello?', 'Still there?']);
    s.botSpoke();
    await sleep(70);
    expect(s.said()).toEqual(['Hello?', 'Still there?', 'Still there?']);
    s.botSpoke();
    const outcome = await s.done;
    expect(s.said()).toEqual(['Hello?', 'Still there?', 'Still there?', 'Bye for now.']);
    expect(outcome).toEqual({ kind: 'ended', reason: 'caller silent' });
  });

  it('any caller speech resets the re-prompt count and the idle timer', async () => {
    const s = setup({ firstSpeaker: 'bot', greeting: 'Hi.', idle: { timeoutSecs: 0.06, maxPrompts: 1, prompt: 'Hello?' } });
    s.botSpoke();
    await sleep(30);
    s.task.queueFrame(makeFrame('user.speech.started', { atSec: 1, atMs: performance.now() }));
    await sleep(60);
    expect(s.said()).toEqual(['Hi.']); // disarmed by the caller
    s.task.cancel();
  });

  it('ends the call at the time limit with its line', async () => {
    const s = setup({ firstSpeaker: 'bot', greeting: 'Hi.', maxDurationSecs: 0.05, maxDurationLine: 'Time is up.' });
    const outcome = await s.done;
    expect(s.said()).toEqual(['Hi.', 'Time is up.']);
    expect(outcome.reason).toBe('max duration reached');
  });
});
