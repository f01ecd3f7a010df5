/**
 * Appointment reminder with a custom tool: the bot calls a patient, and when they confirm it records the
 * confirmation in the clinic's system (here an in-memory stand-in) through its own `confirm_visit` tool.
 *
 *   npm run example appointment-reminder        # then: npx switchboard call +15550100001
 */
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { defineAgent, defineTool, startSwitchboard, type StartOptions } from 'switchboard';

/** Stands in for the clinic's booking system. */
export const clinicSystem = {
  confirmed: [] as Array<{ patient: string; slot: string; at: string }>,
  confirm(patient: string, slot: string) {
    this.confirmed.push({ patient, slot, at: new Date().toISOString() });
    return { ok: true, reference: `CONF-${this.confirmed.length}` };
  },
};

export const reminderAgent = defineAgent({
  name: 'dental-reminder',
  systemPrompt:
    'You are Riley from {{clinic|Bright Smile Dental}}, calling {{patient.name|the patient}} about their visit on {{visit.slot}}. ' +
    'If they confirm, call confirm_visit. If they cannot come, say the office will call back. Keep replies short.',
  greeting: 'Hi {{patient.name|there}}, this is Riley from {{clinic|Bright Smile Dental}} about your visit on {{visit.slot}}.',
  defaultMetadata: { visit: { slot: 'Thursday at 10 AM' } },
  tools: (metadata) => [
    defineTool({
      name: 'confirm_visit',
      description: 'Record in the clinic system that the patient confirmed the visit.',
      parameters: z.object({ note: z.string().optional().describe('Anything the patient added, in their words') }),
      execute: () => {
        const patient = (metadata.patient as { name?: string } | undefined)?.name ?? 'unknown';
        const slot = (metadata.visit as { slot?: string } | undefined)?.slot ?? 'unknown';
        return clinicSystem.confirm(patient, slot);
      },
    }),
  ],
  // How the sandbox's scripted LLM plays this agent (used only when the LLM is emulated).
  sandbox: { policy: new URL('./reminder.policy.json', import.meta.url) },
});

export function startExample(options: StartOptions = {}) {
  return startSwitchboard({ agents: [reminderAgent], ...options });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await startExample();
