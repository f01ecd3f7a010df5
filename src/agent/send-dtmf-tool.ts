import { z } from 'zod';
import type { AgentTool } from '../services/llm/tool.ts';
import { defineTool } from '../services/llm/tool.ts';

const parameters = z.object({
  digits: z
    .string()
    .regex(/^[0-9*#A-Da-d]{1,32}$/, 'keys are 0-9, *, #, A-D (at most 32)')
    .describe('The keys to press, e.g. "1" or "1234#"'),
});

/**
 * The built-in `send_dtmf` tool (agents with `sendDtmf: true`): presses keys on the call, for IVR menus. The keys
 * go out after anything the bot is still saying (`dtmf.out`): as tones in the audio on carrier media streams, as
 * RFC 4733 events on SIP.
 */
export function sendDtmfTool(send: (digits: string) => void): AgentTool<typeof parameters> {
  return defineTool({
    name: 'send_dtmf',
    description: 'Press keys on the phone keypad (to choose an option in an automated phone menu). Needs no spoken line.',
    parameters,
    execute: ({ digits }) => {
      send(digits.toUpperCase());
      return { ok: true, pressed: digits.toUpperCase() };
    },
  });
}
