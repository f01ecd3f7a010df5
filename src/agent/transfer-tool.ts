import { z } from 'zod';
import type { AgentTool } from '../services/llm/tool.ts';
import { defineTool } from '../services/llm/tool.ts';

/** A person or team the agent may hand the call to. */
export interface TransferDestination {
  /** What the model calls it (`front_desk`). */
  name: string;
  /** E.164 number or SIP URI. */
  to: string;
  /** What the model reads to decide (`"The front desk: billing questions and anything the bot cannot do."`). */
  description: string;
  /**
   * `cold`: the carrier moves the call at once. `warm`: the caller waits on hold while the bot calls the person and
   * briefs them with a summary of the call, then the two are bridged and the bot leaves (carriers that cannot: see
   * `CarrierRuntime.warmTransfer`, the transfer goes cold and the record says why). @default 'cold'
   */
  mode?: TransferMode;
}

export type TransferMode = 'cold' | 'warm';

/** A destination's mode when it gives none. */
export const DEFAULT_TRANSFER_MODE: TransferMode = 'cold';

/** The agent's `transfer` setting: where `transfer_call` may send the caller. */
export interface TransferOptions {
  destinations: TransferDestination[];
}

/** What the carrier said about a transfer (the carrier-neutral `TransferResult`). */
export interface TransferOutcome {
  ok: boolean;
  status: string;
  reason: string;
}

export interface TransferToolHooks {
  /** Resolves once the bot's queued speech (the line said with the tool call) has played. */
  botSilent(): Promise<void>;
  /** Asks the server to move the call; on success the call's session ends. */
  transfer(destination: TransferDestination): Promise<TransferOutcome>;
}

/**
 * The built-in `transfer_call` tool (agents with `transfer`): the model says a line ("I'll put you through to the
 * front desk") and calls it; once that line has played the carrier moves the call. If the carrier refuses, the
 * model gets the reason and tells the caller.
 */
export function transferCallTool(options: TransferOptions, hooks: TransferToolHooks): AgentTool {
  const names = options.destinations.map((d) => d.name);
  if (names.length === 0) throw new TypeError('transfer: give at least one destination');
  const parameters = z.object({
    destination: z.enum(names as [string, ...string[]]).describe('Who to transfer the caller to'),
    reason: z.string().optional().describe('Why, in a few words'),
  });
  const list = options.destinations
    .map(
      (d) =>
        `- ${d.name}: ${d.description}${(d.mode ?? DEFAULT_TRANSFER_MODE) === 'warm' ? ' (warm: the caller holds while you brief them)' : ''}`,
    )
    .join('\n');
  return defineTool({
    name: 'transfer_call',
    description:
      'Transfer the caller to a person. Say a short line first (e.g. "I\'ll put you through now"; for a warm transfer ' +
      '"Please hold while I brief them"), in the same reply. ' +
      `Destinations:\n${list}`,
    parameters,
    execute: async ({ destination }) => {
      const target = options.destinations.find((d) => d.name === destination) as TransferDestination;
      await hooks.botSilent();
      const outcome = await hooks.transfer(target);
      if (outcome.ok) return { ok: true, transferredTo: destination };
      return { ok: false, error: `The transfer failed (${outcome.reason}). Tell the caller and offer to help another way.` };
    },
  });
}
