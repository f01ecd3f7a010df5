/**
 * Inbound support line: callers dial your number; the bot answers first, looks their order up with a tool and
 * tells them where it is. In sandbox mode the example also rings itself once with a simulated caller.
 *
 *   npm run example support-line
 */
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { defineAgent, defineTool, startSwitchboard, type RunningSwitchboard, type StartOptions } from 'switchboard';
import type { Persona, TwilioEmulator } from 'switchboard/sandbox';

/** Stands in for the order database. */
export const orders: Record<string, { status: string; eta: string }> = {
  '4521': { status: 'out for delivery', eta: 'tomorrow before noon' },
};
export const lookups: string[] = [];

export const supportAgent = defineAgent({
  name: 'support-line',
  systemPrompt:
    'You are Jo, the phone support agent of Acme Outdoor. Callers ask about their orders: find the order number in what they say ' +
    'and call lookup_order, then tell them the status briefly. When they are done, say goodbye and call end_call.',
  greeting: 'Thanks for calling Acme Outdoor, this is Jo. How can I help?',
  firstSpeaker: 'bot',
  tools: [
    defineTool({
      name: 'lookup_order',
      description: 'Look an order up by its number.',
      parameters: z.object({ orderNumber: z.string().describe('The order number, or what the caller said containing it') }),
      execute: ({ orderNumber }) => {
        const number = /\d{3,}/.exec(orderNumber)?.[0] ?? orderNumber;
        lookups.push(number);
        return orders[number] ? { found: true, number, ...orders[number] } : { found: false, number };
      },
    }),
  ],
  sandbox: { policy: new URL('./support.policy.json', import.meta.url) },
});

/** The simulated caller the sandbox rings the line with. */
export const sandboxCaller: Persona = {
  id: 'order-question',
  description: 'Asks where order 4521 is, then hangs up happy.',
  steps: [
    { waitForBotToFinish: true },
    { say: "Hi, I'm calling about my order 4521." },
    { waitForBotToFinish: true },
    { say: "No, that's all. Thanks!" },
  ],
};

export const SANDBOX_CALLER_NUMBER = '+15557770042';

/** In sandbox mode: the carrier emulator calls our number from the simulated caller. Returns the carrier call id. */
export function ringSandboxLine(running: RunningSwitchboard): string {
  const twilio = running.sandbox?.emulator<TwilioEmulator>('twilio');
  if (!twilio) throw new Error('ringSandboxLine needs the sandbox (no credentials configured)');
  twilio.personas.register(SANDBOX_CALLER_NUMBER, sandboxCaller);
  const call = twilio.placeInboundCall({
    from: SANDBOX_CALLER_NUMBER,
    to: '+15550100000',
    voiceUrl: `${running.publicUrl}/twilio/voice`,
    statusCallback: `${running.publicUrl}/twilio/status`,
    statusCallbackEvents: ['initiated', 'ringing', 'answered', 'completed'],
  });
  return call.id;
}

export function startExample(options: StartOptions = {}) {
  return startSwitchboard({ agents: [supportAgent], ...options });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const running = await startExample();
  if (running.sandbox) process.stderr.write(`Sandbox: ringing the support line (call ${ringSandboxLine(running)}); see GET /calls\n`);
}
