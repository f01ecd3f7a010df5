import type { AgentDefinition } from '../../agent/agent-definition.ts';
import { HttpError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { CallStore } from '../../store/index.ts';
import type { AgentRegistry } from '../agent-registry.ts';
import type { CallMetricsSink } from '../call-metrics.ts';
import type { AgentServices } from '../call-services.ts';
import type { CarrierSet } from '../carrier-set.ts';

/** What the parts that run calls share. */
export interface CallDeps {
  store: CallStore;
  log: Logger;
  agents: AgentRegistry;
  /** Provider stages per agent. */
  services: AgentServices;
  /** The server's carriers (live, emulated or unavailable). */
  carriers: CarrierSet;
  metrics: CallMetricsSink;
  /** Where call recordings go; absent: calls are not recorded (a call asking for it gets a `recording.unavailable` event). */
  recordings?: RecordingSettings | undefined;
}

export interface RecordingSettings {
  /** Folder of the WAV files (`<callId>.wav`), created on demand. */
  dir: string;
}

/** The agent named `name` (the default one when absent); 400 listing the known agents otherwise. */
export function agentNamed(agents: AgentRegistry, name: string | undefined): AgentDefinition {
  const agent = agents.get(name);
  if (!agent) throw new HttpError(400, 'unknown_agent', `unknown agent "${name}"; known: ${agents.names().join(', ')}`);
  return agent;
}

/** An error's message, for records and log lines. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
