import type { AgentDefinition } from '../agent/agent-definition.ts';
import { appointmentReminderAgent } from '../agent/default-agent.ts';

/** Agents the server can run, by name; the first registered is the default. */
export class AgentRegistry {
  private readonly agents = new Map<string, AgentDefinition>();
  private defaultName: string | undefined;

  constructor(agents: AgentDefinition[] = [appointmentReminderAgent]) {
    for (const agent of agents) this.register(agent);
  }

  register(agent: AgentDefinition): void {
    this.agents.set(agent.name, agent);
    this.defaultName ??= agent.name;
  }

  get(name?: string): AgentDefinition | undefined {
    return this.agents.get(name ?? this.defaultName ?? '');
  }

  names(): string[] {
    return [...this.agents.keys()];
  }

  list(): AgentDefinition[] {
    return [...this.agents.values()];
  }
}
