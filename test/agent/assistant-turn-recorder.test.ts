import { describe, expect, it } from 'vitest';
import type { AssistantTurn } from '../../src/agent/assistant-turn-recorder.ts';
import { AssistantTurnRecorder, heardPrefix } from '../../src/agent/assistant-turn-recorder.ts';
import { renderTemplate } from '../../src/agent/template.ts';
import { PipelineTask, makeFrame } from '../../src/pipeline/index.ts';
import { LlmContext } from '../../src/services/llm/context.ts';

const words = (text: string, secsPerWord = 0.3) => text.split(' ').map((w, i) => ({ text: w, endSec: (i + 1) * secsPerWord }));

describe('heardPrefix', () => {
  const text = 'Hi Grace, this is Sam calling from Riverside Dental.';
  it('cuts after the last word whose audio ended, keeping its punctuation', () => {
    expect(heardPrefix(text, words(text), 0.6)).toBe('Hi Grace,');
    expect(heardPrefix(text, words(text), 0.59)).toBe('Hi');
    expect(heardPrefix(text, words(text), 0)).toBe('');
    expect(heardPrefix(text, words(text), 99)).toBe(text);
  });

  it('counts words read out in another form once all of them played, and stays a prefix of the text', () => {
    const said = [
      { text: 'See', endSec: 0.2 },
      { text: 'you', endSec: 0.4 },
      { text: 'at', endSec: 0.6 },
      { text: 'three', endSec: 0.8 },
      { text: 'thirty', endSec: 1.0 },
      { text: 'today', endSec: 1.2 },
    ];
    expect(heardPrefix('See you at 3:30 today.', said, 0.8)).toBe('See you at'); // "three" of "3:30" only
    // Issue 11: "3:30" was read as "three thirty" and both words were acknowledged, so it was heard.
    expect(heardPrefix('See you at 3:30 today.', said, 1.0)).toBe('See you at 3:30');
    expect(heardPrefix('See you at 3:30 today.', said, 1.2)).toBe('See you at 3:30 today.');
  });
});

describe('heardPrefix on read-out words at the cut (issue 11: an acknowledged word was left off)', () => {
  const text = 'with Dr. Patel on Tuesday, March 3rd at 3:30 PM. Will you be able to make it?';
  const spoken = 'with Dr. Patel on Tuesday, March third at three thirty PM. Will you be able to make it?'
    .split(' ')
    .map((w, i) => ({ text: w, endSec: 0.2 * (i + 1) }));
  it('keeps "3rd" once "third" has played, even before the next word', () => {
    expect(heardPrefix(text, spoken, 1.4)).toBe('with Dr. Patel on Tuesday, March 3rd');
    expect(heardPrefix(text, spoken, 1.8)).toBe('with Dr. Patel on Tuesday, March 3rd at');
    expect(heardPrefix(text, spoken, 2.0)).toBe('with Dr. Patel on Tuesday, March 3rd at 3:30');
  });
  it('never claims a word whose audio has not played, at any cut', () => {
    for (let k = 0; k <= spoken.length; k++) {
      const heard = heardPrefix(text, spoken, 0.2 * k);
      expect(text.startsWith(heard)).toBe(true);
      const heardWords = heard === '' ? 0 : heard.split(' ').length;
      expect(heardWords).toBeLessThanOrEqual(k);
    }
  });
  it('does not match a word inside a longer one ("at" in "Patel")', () => {
    const words = [
      { text: 'with', endSec: 0.2 },
      { text: 'at', endSec: 0.4 },
    ];
    expect(heardPrefix('with Patel at noon', words, 0.4)).toBe('with Patel at');
    expect(heardPrefix('with Patel', words, 0.4)).toBe('with');
  });
});

describe('AssistantTurnRecorder', () => {
  it('reports heard = the played words on interruption and cuts the context to them', () => {
    const context = new LlmContext({ system: 's' });
    const turns: AssistantTurn[] = [];
    const task = new PipelineTask([new AssistantTurnRecorder(context, (t) => turns.push(t))], { callId: 'rec' });
    void task.run();
    const text = 'Your appointment is on Tuesday at noon with Dr. Patel.';
    context.beginAssistantMessage('r1');
    context.appendAssistantText('r1', text);
    task.queueFrame(makeFrame('tts.started', { utteranceId: 'r1' }));
    for (const w of words(text))
      task.queueFrame(makeFrame('tts.text', { utteranceId: 'r1', text: w.text, startSec: w.endSec - 0.3, endSec: w.endSec }));
    task.queueFrame(makeFrame('audio.played', { utteranceId: 'r1', playedSec: 0.9, complete: false }));
    task.queueFrame(makeFrame('audio.played', { utteranceId: 'r1', playedSec: 1.25, complete: false }));
    task.queueFrame(makeFrame('interruption', { reason: 'barge-in' }));
    expect(turns).toHaveLength(1);
    expect(turns[0]).toMatchObject({ text, heard: 'Your appointment is on', interrupted: true });
    expect(context.messages).toEqual([{ role: 'assistant', content: [{ type: 'text', text: 'Your appointment is on' }] }]);
    task.cancel();
  });

  it('keeps the whole reply when it played through', () => {
    const context = new LlmContext({ system: 's' });
    const turns: AssistantTurn[] = [];
    const task = new PipelineTask([new AssistantTurnRecorder(context, (t) => turns.push(t))], { callId: 'rec2' });
    void task.run();
    context.addSpokenMessage('g1', 'Hello there.');
    task.queueFrame(makeFrame('tts.started', { utteranceId: 'g1' }));
    task.queueFrame(makeFrame('audio.played', { utteranceId: 'g1', playedSec: 0.8, complete: true }));
    expect(turns[0]).toMatchObject({ text: 'Hello there.', heard: 'Hello there.', interrupted: false });
    task.cancel();
  });

  it('removes a reply the caller heard nothing of from the context', () => {
    const context = new LlmContext({ system: 's' });
    const task = new PipelineTask([new AssistantTurnRecorder(context, () => {})], { callId: 'rec3' });
    void task.run();
    context.addUserMessage('Hi');
    context.addSpokenMessage('r9', 'A reply nobody heard.');
    task.queueFrame(makeFrame('tts.started', { utteranceId: 'r9' }));
    task.queueFrame(makeFrame('interruption', { reason: 'barge-in' }));
    expect(context.messages).toEqual([{ role: 'user', content: 'Hi' }]);
    task.cancel();
  });
});

describe('renderTemplate', () => {
  it('fills metadata paths, uses fallbacks and reports what is missing', () => {
    const missing: string[] = [];
    const out = renderTemplate(
      'Hi {{user.firstName}}, {{ clinic.name }} {{user.lastName|}}{{x.y|friend}} {{z}}',
      { user: { firstName: 'Grace' }, clinic: { name: 'RD' } },
      missing,
    );
    expect(out).toBe('Hi Grace, RD friend ');
    expect(missing).toEqual(['z']);
  });
});
