import { z } from 'zod';
import type { AgentTool } from '../services/llm/tool.ts';
import { defineTool } from '../services/llm/tool.ts';

const endCallParameters = z.object({
  reason: z.string().describe('Why the call is ending, e.g. "completed", "wrong number", "caller asked to stop"'),
});

/**
 * The built-in `end_call` tool: the model says goodbye in the same reply and calls it; the call hangs up
 * once that goodbye has played. If the model calls it without saying anything, the agent's goodbye line is
 * spoken first.
 */
export function endCallTool(): AgentTool<typeof endCallParameters> {
  return defineTool({
    name: 'end_call',
    description: 'End the phone call. Say a short goodbye in the same reply; the call hangs up after the goodbye has been heard.',
    parameters: endCallParameters,
    execute: ({ reason }, context) => {
      context.endCall(reason);
      return { ok: true };
    },
  });
}
