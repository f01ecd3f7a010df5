import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent } from '../../src/agent/agent-definition.ts';
import { appointmentReminderAgent } from '../../src/agent/default-agent.ts';
import { mergeMetadata } from '../../src/agent/agent-definition.ts';
import { renderTemplate } from '../../src/agent/template.ts';
import { agentPolicyRouter, promptMatcher } from '../../src/sandbox/agent-policies.ts';
import { HANDOVER_SUMMARY_PROMPT, transcriptMessage } from '../../src/agent/handover-summary.ts';
import type { PolicyConversation } from '../../src/sandbox/providers/llm-policy.ts';
import { defineTool } from '../../src/services/llm/tool.ts';

const delivery = defineAgent({
  name: 'delivery',
  systemPrompt: 'You are calling {{user.firstName}} about their order {{order.id}}. Keep replies short.',
  greeting: 'Hi {{user.firstName|there}}, this is Acme calling about your order.',
  tools: [
    defineTool({
      name: 'reschedule_delivery',
      description: 'Move the delivery to another day.',
      parameters: z.object({ day: z.string() }),
      execute: ({ day }) => ({ ok: true, day }),
    }),
  ],
});

function conversation(system: string, lines: Array<[role: 'user' | 'assistant', text: string]>, tools: string[]): PolicyConversation {
  return { system, messages: lines.map(([role, text]) => ({ role, text })), tools };
}

describe('sandbox scripts per agent', () => {
  it("recognises an agent's conversations by its rendered system prompt, and only its own", () => {
    const { matcher } = promptMatcher(delivery.systemPrompt);
    expect(matcher.test(renderTemplate(delivery.systemPrompt, { user: { firstName: 'Grace' }, order: { id: 'A-17' } }))).toBe(true);
    const reminder = renderTemplate(
      appointmentReminderAgent.systemPrompt,
      mergeMetadata(appointmentReminderAgent.defaultMetadata ?? {}, {}),
    );
    expect(matcher.test(reminder)).toBe(false);
    expect(promptMatcher(appointmentReminderAgent.systemPrompt).matcher.test(reminder)).toBe(true);
  });

  it('plays an agent without a script from its own lines: greeting, its tool when named, goodbye with end_call', async () => {
    const router = await agentPolicyRouter([appointmentReminderAgent, delivery]);
    const system = renderTemplate(delivery.systemPrompt, { user: { firstName: 'Grace' }, order: { id: 'A-17' } });
    const tools = ['reschedule_delivery', 'end_call'];
    expect(router.respond(conversation(system, [['user', 'Hello?']], tools)).text).toBe('Hi there, this is Acme calling about your order.');
    const reschedule = router.respond(
      conversation(
        system,
        [
          ['assistant', 'Hi there, this is Acme calling about your order.'],
          ['user', 'Can we reschedule to Friday?'],
        ],
        tools,
      ),
    );
    expect(reschedule.toolCalls).toEqual([{ name: 'reschedule_delivery', args: { day: 'Can we reschedule to Friday?' } }]);
    const bye = router.respond(
      conversation(
        system,
        [
          ['user', 'Hello?'],
          ['assistant', 'Hi.'],
          ['user', 'No thanks, bye.'],
        ],
        tools,
      ),
    );
    expect(bye.toolCalls.map((c) => c.name)).toEqual(['end_call']);
    // Never another agent's script: nothing about appointments or Sam.
    expect(JSON.stringify([reschedule, bye])).not.toMatch(/appointment|Sam/);
  });

  it('keeps the built-in agent on its own script, and answers an unknown agent with a notice', async () => {
    const router = await agentPolicyRouter([appointmentReminderAgent, delivery]);
    const reminder = renderTemplate(
      appointmentReminderAgent.systemPrompt,
      mergeMetadata(appointmentReminderAgent.defaultMetadata ?? {}, {}),
    );
    expect(router.scriptFor(reminder)?.agent).toBe('appointment-reminder');
    expect(router.respond(conversation(reminder, [['user', 'Hello?']], ['confirm_appointment', 'end_call'])).text).toContain('Sam');
    expect(router.respond(conversation('You are a pirate.', [['user', 'Hello?']], [])).ruleId).toBe('no-agent');
  });
});

describe('sandbox handover summaries (warm transfer)', () => {
  it('answers the handover prompt with a summary made from the transcript it is given', async () => {
    const router = await agentPolicyRouter([delivery]);
    const ask = (lines: Array<{ role: 'caller' | 'agent'; text: string }>, reason?: string) =>
      router.respond(conversation(HANDOVER_SUMMARY_PROMPT, [['user', transcriptMessage(lines, reason)]], [])).text;
    const bill = ask(
      [
        { role: 'caller', text: 'Hello?' },
        { role: 'agent', text: 'Hi, this is Acme.' },
        { role: 'caller', text: 'My invoice is wrong, can I talk to a person?' },
      ],
      'billing dispute',
    );
    expect(bill).toMatch(/^Hi, I have a caller for you\./);
    expect(bill).toMatch(/My invoice is wrong, can I talk to a person/);
    expect(bill).toMatch(/billing dispute/);
    const other = ask([{ role: 'caller', text: 'I want to move my delivery to Friday please.' }]);
    expect(other).toMatch(/move my delivery to Friday/);
    expect(other).not.toBe(bill);
  });
});
