import type { z } from 'zod';
import type { Logger } from '../../log.ts';

/** What a tool's `execute` can see and do. */
export interface ToolContext {
  callId: string;
  /** The call's custom data (e.g. the Plivo `body`, `POST /calls` metadata). */
  metadata: Record<string, unknown>;
  /** Aborted when the caller barges in (if the tool is cancellable) or the call ends. */
  signal: AbortSignal;
  log: Logger;
  /**
   * Ends the call once the reply being generated has been spoken (say goodbye, then hang up).
   * `reason` lands in the call record.
   */
  endCall(reason: string): void;
}

/**
 * A function the LLM may call. Parameters are a zod object schema: the model sees its JSON Schema, and
 * arguments are validated before `execute` runs (invalid ones go back to the model as an error result).
 */
export interface AgentTool<Params extends z.ZodObject = z.ZodObject> {
  name: string;
  description: string;
  parameters: Params;
  /** Returns the result the model sees (JSON-serialisable). */
  execute(args: z.infer<Params>, context: ToolContext): unknown;
  /** Abort the tool when the caller barges in while it runs. @default false */
  cancelOnInterruption?: boolean;
}

/** Defines a tool with its argument types inferred from the schema. */
export function defineTool<Params extends z.ZodObject>(tool: AgentTool<Params>): AgentTool<Params> {
  return tool;
}
