import type { AgentDefinition } from '../../agent/agent-definition.ts';

/** How a briefing went: heard to the end (`ok`), or why not. */
export interface BriefingOutcome {
  ok: boolean;
  reason: string;
}

/** One warm transfer's briefing leg, as the server runs it. */
export interface BriefingLeg {
  readonly summary: string;
  /** Resolves once the person heard the summary, or their call ended first. */
  readonly heard: Promise<BriefingOutcome>;
  /** Resolves with whether the carrier bridged the person (the session's end reason follows it). */
  readonly bridged: Promise<boolean>;
  /** The carrier is done with the transfer: `ok` when the person was bridged. */
  settle(ok: boolean): void;
}

interface Entry extends BriefingLeg {
  resolveHeard(outcome: BriefingOutcome): void;
}

/**
 * The warm transfers' briefing legs (calls of ours to a person, see `warm-transfer.ts`) and the calls waiting to be
 * taken back by the bot if a warm transfer fails. A briefing leg's session is the call's agent reduced to saying
 * the summary ({@link briefingAgent}); a resumed call's new session opens with the failure line
 * ({@link resumedAgent}).
 */
export class BriefingLegs {
  private readonly legs = new Map<string, Entry>();
  private readonly resumeLines = new Map<string, string>();
  private readonly resumed = new Set<string>();

  prepare(callId: string, summary: string): BriefingLeg {
    let resolveHeard!: (outcome: BriefingOutcome) => void;
    let resolveBridged!: (ok: boolean) => void;
    const heard = new Promise<BriefingOutcome>((resolve) => (resolveHeard = resolve));
    const bridged = new Promise<boolean>((resolve) => (resolveBridged = resolve));
    const entry: Entry = {
      summary,
      heard,
      bridged,
      resolveHeard,
      settle: (ok) => {
        resolveHeard({ ok: false, reason: 'the transfer is over' });
        resolveBridged(ok);
        // The entry stays until the leg's session (if any) has read it; bounded by the transfers under way.
        void bridged.then(() => setTimeout(() => this.legs.delete(callId), 60_000).unref());
      },
    };
    this.legs.set(callId, entry);
    return entry;
  }

  get(callId: string): BriefingLeg | undefined {
    return this.legs.get(callId);
  }

  /** The briefing session reports its first finished line. */
  spoken(callId: string, outcome: BriefingOutcome): void {
    this.legs.get(callId)?.resolveHeard(outcome);
  }

  /** The leg's call ended (a final carrier status, or its session ended): any wait for the briefing is over. */
  ended(callId: string, status: string): void {
    this.legs.get(callId)?.resolveHeard({ ok: false, reason: `the call to the person ended (${status}) before the briefing` });
  }

  /** While a warm transfer runs: the line a new session on `callId` opens with (the caller taken back). */
  prepareResume(callId: string, line: string): void {
    this.resumeLines.set(callId, line);
  }

  dropResume(callId: string): void {
    this.resumeLines.delete(callId);
  }

  /** The line a new session on this call should open with; consumed. */
  takeResumeLine(callId: string): string | undefined {
    const line = this.resumeLines.get(callId);
    this.resumeLines.delete(callId);
    return line;
  }

  /** The carrier took the caller back to the bot: the old session must not finalise the record. */
  markResumed(callId: string): void {
    this.resumed.add(callId);
  }

  /** True once (the old session asks after its media ended). */
  takeResumed(callId: string): boolean {
    return this.resumed.delete(callId);
  }
}

/** How long the briefing waits for the person's "Hello?" before it starts anyway (seconds). @default 1 */
export const BRIEFING_WAIT_FOR_HELLO_SECS = 1;

/**
 * The session of a briefing leg: the call's agent, saying the summary first and nothing of its own (no tools, no
 * transfer, no recording, no voicemail handling). It lets the person answer first ("Hello?"), waiting at most
 * {@link BRIEFING_WAIT_FOR_HELLO_SECS}. If the person talks before the bridge, the model answers from the summary.
 */
export function briefingAgent(agent: AgentDefinition, summary: string): AgentDefinition {
  return {
    name: agent.name,
    systemPrompt:
      'You have just briefed a colleague about a caller you are putting through to them; the caller joins in a ' +
      `moment. If they ask, answer in one short sentence from your briefing: ${summary.replace(/[{}]/g, '')}`,
    greeting: summary.replace(/[{}]/g, ''),
    firstSpeaker: 'caller',
    callerFirstTimeoutSecs: BRIEFING_WAIT_FOR_HELLO_SECS,
    tools: [],
    endCall: false,
    record: false,
    ...(agent.voice !== undefined ? { voice: agent.voice } : {}),
    ...(agent.model !== undefined ? { model: agent.model } : {}),
    ...(agent.turns !== undefined ? { turns: agent.turns } : {}),
  };
}

/** A call taken back by the bot after a failed warm transfer: the agent, opening with `line` (its prompt and tools unchanged). */
export function resumedAgent(agent: AgentDefinition, line: string): AgentDefinition {
  return { ...agent, greeting: line.replace(/[{}]/g, ''), firstSpeaker: 'bot', record: false };
}
