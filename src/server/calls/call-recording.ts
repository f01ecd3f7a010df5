import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentDefinition } from '../../agent/agent-definition.ts';
import type { Logger } from '../../log.ts';
import { CallRecorder } from '../../recording/call-recorder.ts';
import type { CallStore } from '../../store/index.ts';
import type { RecordingSettings } from './call-deps.ts';

/** Event holding a call's own `record` choice (`POST /calls {record}`), read when its media starts. */
export const RECORDING_REQUESTED_EVENT = 'recording.requested';

/** Longest silent lead-in from the answer to the media (a later media start means the answer time is stale). */
const MAX_LEAD_IN_MS = 10_000;

/** Whether a call is recorded: its own choice, else its agent's. */
export function wantsRecording(store: CallStore, callId: string, agent: AgentDefinition): boolean {
  const requested = store
    .getCall(callId)
    ?.events.filter((event) => event.type === RECORDING_REQUESTED_EVENT)
    .at(-1)?.data as { record?: unknown } | undefined;
  if (typeof requested?.record === 'boolean') return requested.record;
  return agent.record === true || (typeof agent.record === 'object' && agent.record !== null);
}

/** The agent as a recorded call runs it: the announcement (if any) said first, before its greeting. */
export function withAnnouncement(agent: AgentDefinition): AgentDefinition {
  const announcement = typeof agent.record === 'object' ? agent.record.announcement?.trim() : undefined;
  if (!announcement) return agent;
  const greeting = typeof agent.greeting === 'string' && agent.greeting.trim().toLowerCase() !== 'none' ? agent.greeting.trim() : '';
  return { ...agent, greeting: greeting ? `${announcement} ${greeting}` : announcement };
}

/** Starts a call's recorder (`<dir>/<callId>.wav`); undefined, with a logged reason, when it cannot. */
export async function startCallRecorder(
  settings: RecordingSettings,
  callId: string,
  answeredAt: string | null,
  log: Logger,
): Promise<CallRecorder | undefined> {
  try {
    await mkdir(settings.dir, { recursive: true });
  } catch (error) {
    log.error(
      { err: error instanceof Error ? error.message : String(error), dir: settings.dir },
      'recordings folder unusable; call not recorded',
    );
    return undefined;
  }
  // The recording spans the call from its answer: the moments before the media connected are silent.
  const answeredAtMs = answeredAt ? Date.parse(answeredAt) - performance.timeOrigin : undefined;
  const startAtMs = answeredAtMs !== undefined && performance.now() - answeredAtMs < MAX_LEAD_IN_MS ? answeredAtMs : undefined;
  return new CallRecorder({ path: join(settings.dir, `${callId}.wav`), log, ...(startAtMs !== undefined ? { startAtMs } : {}) });
}
