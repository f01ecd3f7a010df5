/**
 * Every example in examples/ runs through a sandbox call, with `import … from 'switchboard'` as a user writes it:
 * the call completes and the example's own tool ran.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, silentLogger, type RunningSwitchboard, type StartOptions } from 'switchboard';
import * as reminder from '../../examples/appointment-reminder/index.ts';
import * as support from '../../examples/support-line/index.ts';
import * as faq from '../../examples/custom-provider/index.ts';
import { postJson, waitForCallEnd } from '../server/helpers.ts';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function sandboxed(start: (options: StartOptions) => Promise<RunningSwitchboard>): Promise<RunningSwitchboard> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-example-'));
  const running = await start({
    config: loadConfig({ PORT: '0', HOST: '127.0.0.1', SWITCHBOARD_DATA_DIR: dataDir }),
    log: silentLogger(),
    sandboxTiming: 'instant',
    sandboxTimeScale: 0.1,
  });
  cleanups.push(async () => {
    await running.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return running;
}

function toolCalls(record: { events: Array<{ type: string; data: unknown }> }): string[] {
  return record.events.filter((e) => e.type === 'tool.call').map((e) => (e.data as { toolName: string }).toolName);
}

// Each example runs its own sandboxed server, so they run at once.
describe.concurrent('examples', () => {
  it('appointment-reminder: the patient confirms and the custom tool records it', { timeout: 90_000 }, async () => {
    const running = await sandboxed(reminder.startExample);
    const placed = await postJson(`${running.url}/calls`, { to: '+15550100001', metadata: { patient: { name: 'Ana' } } });
    expect(placed.status).toBe(201);
    const record = await waitForCallEnd(running.url, placed.json.id as string);
    expect(record.status).toBe('completed');
    expect(toolCalls(record)).toEqual(['confirm_visit', 'end_call']);
    expect(reminder.clinicSystem.confirmed).toEqual([expect.objectContaining({ patient: 'Ana', slot: 'Thursday at 10 AM' })]);
  });

  it('support-line: an inbound caller is greeted first and their order is looked up', { timeout: 90_000 }, async () => {
    const running = await sandboxed(support.startExample);
    const carrierCallId = support.ringSandboxLine(running);
    let id: string | undefined;
    while (!id) {
      const listed = (await (await fetch(`${running.url}/calls`)).json()) as { calls: Array<{ id: string; carrierCallId: string | null }> };
      id = listed.calls.find((c) => c.carrierCallId === carrierCallId)?.id;
      if (!id) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const record = await waitForCallEnd(running.url, id);
    expect(record.status).toBe('completed');
    expect(record.turns[0]).toMatchObject({ role: 'assistant', text: expect.stringContaining('Acme Outdoor') as string });
    expect(toolCalls(record)).toContain('lookup_order');
    expect(support.lookups).toEqual(['4521']);
  });

  it('custom-provider: the LLM given in code answers and its tool runs; the rest is emulated', { timeout: 90_000 }, async () => {
    const running = await sandboxed(faq.startExample);
    expect(running.status.providers.find((p) => p.kind === 'llm')).toMatchObject({ mode: 'code' });
    const placed = await postJson(`${running.url}/calls`, { to: '+15550100001' });
    const record = await waitForCallEnd(running.url, placed.json.id as string);
    expect(record.status).toBe('completed');
    expect(record.turns.some((t) => t.role === 'assistant' && t.text.includes('noted it for the team'))).toBe(true);
    expect(faq.questionsLogged.length).toBeGreaterThan(0);
    expect(toolCalls(record)).toContain('end_call');
  });
});
