import { z } from 'zod';
import { defineTool } from '../services/llm/tool.ts';
import { defineAgent } from './agent-definition.ts';

/**
 * The sandbox's agent: an appointment reminder that personalises itself from the call's metadata. The
 * sandbox LLM's default policy follows this prompt's wording, so demos are deterministic.
 */
export const appointmentReminderAgent = defineAgent({
  name: 'appointment-reminder',
  systemPrompt: [
    'You are Sam, a friendly scheduling assistant calling on behalf of {{clinic.name}}.',
    'You are calling {{user.firstName|the patient}} to remind them of their appointment with {{appointment.provider}} on {{appointment.date}} at {{appointment.time}}.',
    'Confirm whether they can attend. If they confirm, call confirm_appointment. If they cannot make it, call request_reschedule.',
    'When you call a tool, say a very short acknowledgement in the same reply, so the caller is not left waiting in silence.',
    'Keep every reply short and natural: this is a phone call.',
    'When the conversation is over, say goodbye and call end_call in the same reply.',
  ].join(' '),
  greeting:
    'Hi {{user.firstName|there}}, this is Sam from {{clinic.name}}, calling about your appointment on {{appointment.date}} at {{appointment.time}}. Do you have a moment?',
  // Its sandbox script (read only when the LLM is emulated).
  sandbox: { policy: new URL('../sandbox/policies/appointment-reminder.json', import.meta.url) },
  // A machine gets a short version of the reminder after its beep.
  voicemail: {
    detect: true,
    action: 'leave-message',
    message:
      'Hi {{user.firstName|there}}, this is Sam from {{clinic.name}}, calling to remind you about your appointment on {{appointment.date}} at {{appointment.time}}. If you need to reschedule, please give us a call. Goodbye!',
  },
  // The reminder's question is answered with one key (1 to confirm, 2 to reschedule): no waiting for more.
  turns: { keypad: { maxDigits: 1 } },
  defaultMetadata: {
    clinic: { name: 'Riverside Dental' },
    appointment: { provider: 'Dr. Patel', date: 'Tuesday, March 3rd', time: '3:30 PM' },
  },
  tools: (metadata) => [
    defineTool({
      name: 'confirm_appointment',
      description: 'Record that the patient confirmed they will attend the appointment.',
      parameters: z.object({}),
      execute: () => ({ confirmed: true, appointment: metadata.appointment ?? null }),
    }),
    defineTool({
      name: 'request_reschedule',
      description: 'Record that the patient cannot attend and wants the office to call back to reschedule.',
      parameters: z.object({ reason: z.string().optional().describe('Why they cannot attend, if they said') }),
      execute: ({ reason }) => ({ rescheduleRequested: true, reason: reason ?? null }),
    }),
  ],
});
