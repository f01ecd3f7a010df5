import { describe, expect, it } from 'vitest';
import { LlmPolicy, defaultLlmPolicy, type PolicyConversation, type PolicyMessage } from '../../../src/sandbox/providers/llm-policy.ts';
import { reminderPrompt } from '../../services/llm/fixtures.ts';

const tools = ['confirm_appointment', 'request_reschedule', 'end_call'];

/** Plays a callee's lines against a policy the way the pipeline would: tool calls get results appended. */
function walk(policy: LlmPolicy, system: string, calleeLines: string[]) {
  const messages: PolicyMessage[] = [];
  const transcript: Array<{ ruleId: string; text: string; tools: string[] }> = [];
  const answer = () => {
    for (;;) {
      const reply = policy.respond({ system, messages, tools });
      transcript.push({ ruleId: reply.ruleId, text: reply.text, tools: reply.toolCalls.map((c) => c.name) });
      messages.push({ role: 'assistant', text: reply.text, toolCalls: reply.toolCalls });
      if (reply.toolCalls.length === 0) return;
      for (const call of reply.toolCalls) messages.push({ role: 'tool', text: '{"ok":true}', toolName: call.name });
      if (reply.toolCalls.some((c) => c.name === 'end_call')) {
        // The pipeline asks once more after end_call; the policy stays quiet.
        const last = policy.respond({ system, messages, tools });
        transcript.push({ ruleId: last.ruleId, text: last.text, tools: last.toolCalls.map((c) => c.name) });
        return;
      }
    }
  };
  for (const line of calleeLines) {
    messages.push({ role: 'user', text: line });
    answer();
  }
  return transcript;
}

describe('LLM policy variables', () => {
  it('reads the callee, clinic, provider, date and time from the agent prompt', () => {
    expect(defaultLlmPolicy().variables(reminderPrompt())).toEqual({
      firstName: 'Maria',
      clinic: "St. Mary's Family Clinic",
      provider: 'Dr. Ana Lee',
      date: 'Tuesday, March 4',
      time: '10:30 AM',
    });
  });

  it('tolerates other values and spellings', () => {
    const vars = defaultLlmPolicy().variables(
      reminderPrompt({ firstName: 'José', clinic: 'Acme Dental', provider: 'Dr. Smith', date: 'Friday', time: '3 p.m.' }),
    );
    expect(vars).toMatchObject({ firstName: 'José', clinic: 'Acme Dental', provider: 'Dr. Smith', date: 'Friday' });
    expect(vars.time).toBe('3 p.m');
  });

  it('falls back to defaults when the prompt says something else', () => {
    const vars = defaultLlmPolicy().variables('You are a helpful assistant.');
    expect(vars).toEqual({
      firstName: '',
      clinic: 'the clinic',
      provider: 'your provider',
      date: 'the scheduled day',
      time: 'the scheduled time',
    });
  });
});

describe('LLM policy templates', () => {
  it('says a fallback where a name is unknown, so no call opens with "Hi the" or closes with "Thanks there"', () => {
    const system = reminderPrompt().replace(/You are calling \S+ to remind/, 'You are calling the patient to remind');
    expect(defaultLlmPolicy().variables(system).firstName).toBe('');
    const transcript = walk(defaultLlmPolicy(), system, ['Hello?', "Yes, I'll be there", "No, that's all"]);
    expect(transcript[0]?.text).toMatch(/^Hi there, this is Sam/);
    expect(transcript.at(-2)?.text).toBe('Thanks so much, have a great day. Goodbye!');
  });
});

describe('default appointment-reminder policy', () => {
  const policy = defaultLlmPolicy();
  const system = reminderPrompt();

  it('happy path: greeting, confirm, wrap-up with end_call in the same response', () => {
    const transcript = walk(policy, system, ['Hello?', "Yes, I'll be there", "No, that's all"]);
    expect(transcript).toEqual([
      {
        ruleId: 'greeting',
        text: "Hi Maria, this is Sam calling from St. Mary's Family Clinic to remind you about your appointment with Dr. Ana Lee on Tuesday, March 4 at 10:30 AM. Will you be able to make it?",
        tools: [],
      },
      { ruleId: 'confirm', text: 'Thank you!', tools: ['confirm_appointment'] },
      {
        ruleId: 'after-confirm',
        text: "Great, you're all set for Tuesday, March 4 at 10:30 AM. Is there anything else I can help you with?",
        tools: [],
      },
      { ruleId: 'wrap-up', text: 'Thanks Maria, have a great day. Goodbye!', tools: ['end_call'] },
      { ruleId: 'after-end-call', text: '', tools: [] },
    ]);
  });

  it('reschedule path: "no" to the question means reschedule, "no" to "anything else" means goodbye', () => {
    const transcript = walk(policy, system, ['Hi, who is this?', 'No', 'Nope']);
    expect(transcript.map((t) => t.ruleId)).toEqual(['greeting', 'reschedule-no', 'after-reschedule', 'wrap-up', 'after-end-call']);
    expect(transcript[2]?.text).toMatch(/office .* call you to find a new time\. Anything else\?$/);
  });

  it('reschedule with a reason passes the caller’s words to request_reschedule', () => {
    const reply = policy.respond({
      system,
      tools,
      messages: [
        { role: 'user', text: 'Hello?' },
        { role: 'assistant', text: 'Hi Maria, … Will you be able to make it?' },
        { role: 'user', text: 'Sorry, I can’t make it that day' },
      ],
    });
    expect(reply.ruleId).toBe('reschedule');
    expect(reply.toolCalls).toEqual([{ name: 'request_reschedule', args: { reason: "Sorry, I can't make it that day" } }]);
  });

  it('barge-in path: an interrupted greeting followed by "wait, what time?" restates the details', () => {
    const conversation: PolicyConversation = {
      system,
      tools,
      messages: [
        { role: 'user', text: 'Hello?' },
        // What the callee heard before talking over Sam.
        { role: 'assistant', text: "Hi Maria, this is Sam calling from St. Mary's" },
        { role: 'user', text: 'Sorry, wait, what time was that?' },
      ],
    };
    const reply = policy.respond(conversation);
    expect(reply.ruleId).toBe('repeat');
    expect(reply.text).toBe(
      "Sure. This is Sam from St. Mary's Family Clinic. Your appointment with Dr. Ana Lee is on Tuesday, March 4 at 10:30 AM. Will you be able to make it?",
    );
    const transcript = walk(policy, system, ['Hello?', 'Sorry, what?', 'Yeah that works', 'Thanks, bye']);
    expect(transcript.map((t) => t.ruleId)).toEqual(['greeting', 'repeat', 'confirm', 'after-confirm', 'wrap-up', 'after-end-call']);
  });

  it('DTMF path: 1 confirms, 2 reschedules', () => {
    expect(walk(policy, system, ['Hello?', 'DTMF: 1']).map((t) => t.ruleId)).toEqual(['greeting', 'confirm', 'after-confirm']);
    expect(walk(policy, system, ['Hello?', 'DTMF: 2']).map((t) => t.ruleId)).toEqual(['greeting', 'reschedule', 'after-reschedule']);
    // A digit elsewhere in speech is not a key press.
    expect(walk(policy, system, ['Hello?', 'I have 1 question']).map((t) => t.ruleId)).toEqual(['greeting', 'fallback']);
  });

  it('falls back when nothing matches, and never offers tools the request lacks', () => {
    const fallback = walk(policy, system, ['Hello?', 'The weather is nice']).at(-1);
    expect(fallback).toEqual({
      ruleId: 'fallback',
      text: "Sorry, I didn't catch that. Will you be able to make your appointment on Tuesday, March 4 at 10:30 AM?",
      tools: [],
    });
    // Without tools, "yes" cannot call confirm_appointment: the rule is skipped.
    const reply = policy.respond({
      system,
      tools: [],
      messages: [
        { role: 'user', text: 'Hello?' },
        { role: 'assistant', text: 'Will you be able to make it?' },
        { role: 'user', text: 'yes' },
      ],
    });
    expect(reply.toolCalls).toEqual([]);
    expect(reply.ruleId).toBe('fallback');
  });

  it('a greeting also answers a conversation with no messages yet (agent speaks first)', () => {
    expect(policy.respond({ system, tools, messages: [] }).ruleId).toBe('greeting');
  });
});

describe('policy validation', () => {
  const minimal = { name: 'p', rules: [], fallback: { reply: 'hi' } };

  it('accepts a minimal policy and fills defaults', () => {
    const policy = LlmPolicy.from(minimal);
    expect(policy.data.variables).toEqual({});
    expect(policy.respond({ system: '', messages: [{ role: 'user', text: 'x' }], tools: [] })).toEqual({
      ruleId: 'fallback',
      text: 'hi',
      toolCalls: [],
    });
  });

  it('rejects unknown template variables, bad regexes, duplicate ids and a missing fallback', () => {
    expect(() => LlmPolicy.from({ ...minimal, fallback: { reply: 'Hi {{name}}' } })).toThrow(/unknown template variable \{\{name\}\}/);
    expect(() => LlmPolicy.from({ ...minimal, rules: [{ id: 'a', when: { userMatches: ['(unclosed'] }, reply: 'x' }] })).toThrow(
      /not a valid regex/,
    );
    expect(() =>
      LlmPolicy.from({
        ...minimal,
        rules: [
          { id: 'a', reply: 'x' },
          { id: 'a', reply: 'y' },
        ],
      }),
    ).toThrow(/duplicate rule id "a"/);
    expect(() => LlmPolicy.from({ name: 'p', rules: [] } as never)).toThrow(/fallback/);
    expect(() => LlmPolicy.from({ ...minimal, rules: [{ id: 'a', when: { userSay: ['x'] }, reply: 'x' }] } as never)).toThrow();
  });

  it('first matching rule wins; turn ranges, tool-result rules and templated args work', () => {
    const policy = LlmPolicy.from({
      name: 'p',
      variables: { who: { patterns: ['name is (\\w+)'], default: 'you' } },
      rules: [
        { id: 'early', when: { turn: { max: 1 } }, reply: 'hello {{who}}' },
        {
          id: 'lookup',
          when: { userSays: ['weather'] },
          toolCalls: [{ name: 'get_weather', args: { city: '{{lastUserMessage}}', n: [1, '{{turn}}'] } }],
        },
        { id: 'weather-again', when: { userSays: ['weather'] }, reply: 'never reached' },
        { id: 'result', when: { afterToolResult: 'get_weather' }, reply: 'It is sunny, {{who}}.' },
      ],
      fallback: { reply: 'what?' },
    });
    const system = 'The user name is Ada.';
    expect(policy.respond({ system, tools: ['get_weather'], messages: [{ role: 'user', text: 'hi' }] }).text).toBe('hello Ada');
    const messages: PolicyMessage[] = [
      { role: 'user', text: 'hi' },
      { role: 'assistant', text: 'hello Ada' },
      { role: 'user', text: 'Weather in Paris' },
    ];
    const call = policy.respond({ system, tools: ['get_weather'], messages });
    expect(call).toEqual({
      ruleId: 'lookup',
      text: '',
      toolCalls: [{ name: 'get_weather', args: { city: 'Weather in Paris', n: [1, '2'] } }],
    });
    messages.push({ role: 'assistant', text: '', toolCalls: call.toolCalls });
    messages.push({ role: 'tool', text: '{"sky":"clear"}', toolName: 'get_weather' });
    expect(policy.respond({ system, tools: ['get_weather'], messages }).text).toBe('It is sunny, Ada.');
  });
});
