import { z } from 'zod';
import { defineTool, type AgentTool } from '../../../src/services/llm/tool.ts';

/** The sandbox agent's system prompt, filled in the way the agent templates it from call metadata. */
export function reminderPrompt(fields: Partial<Record<'clinic' | 'firstName' | 'provider' | 'date' | 'time', string>> = {}): string {
  const f = {
    clinic: "St. Mary's Family Clinic",
    firstName: 'Maria',
    provider: 'Dr. Ana Lee',
    date: 'Tuesday, March 4',
    time: '10:30 AM',
    ...fields,
  };
  return (
    `You are Sam, a friendly scheduling assistant calling on behalf of ${f.clinic}. You are calling ${f.firstName} ` +
    `to remind them of their appointment with ${f.provider} on ${f.date} at ${f.time}. Confirm whether they can ` +
    'attend; call confirm_appointment or request_reschedule. Keep replies short. Say goodbye and call end_call when done.'
  );
}

/** The appointment agent's tools (execute is never called by the LLM services). */
export function reminderTools(): AgentTool[] {
  const done = () => ({ ok: true });
  return [
    defineTool({
      name: 'confirm_appointment',
      description: 'Record that the callee will attend.',
      parameters: z.object({}),
      execute: done,
    }),
    defineTool({
      name: 'request_reschedule',
      description: 'Ask the office to call back with a new time.',
      parameters: z.object({ reason: z.string().describe('Why they cannot come').optional() }),
      execute: done,
    }),
    defineTool({
      name: 'end_call',
      description: 'Hang up after saying goodbye.',
      parameters: z.object({ reason: z.string() }),
      execute: done,
    }),
  ] as AgentTool[];
}

/** One server-sent event as it appeared on the wire. */
export interface SseEvent {
  event?: string;
  data: string;
}

/** Splits an SSE body into events (blank-line delimited, `\n\n` or `\r\n\r\n`). */
export function parseSse(body: string): SseEvent[] {
  return body
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event: SseEvent = { data: '' };
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event: ')) event.event = line.slice('event: '.length);
        else if (line.startsWith('data: ')) event.data += line.slice('data: '.length);
      }
      return event;
    });
}

/** POSTs JSON and returns status, headers and the raw body text. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string; json: () => unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}
