import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/log.ts';
import type { RunningSwitchboard, StartOptions } from '../../src/server/start.ts';
import { startSwitchboard } from '../../src/server/start.ts';
import type { CallRecord } from '../../src/store/index.ts';
import { isFinalCallStatus } from '../../src/call-status.ts';

/** A sandboxed server on a free port with its own data folder; providers answer instantly. */
export async function startTestServer(
  env: Record<string, string> = {},
  options: Omit<StartOptions, 'config' | 'log'> = {},
): Promise<RunningSwitchboard & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-test-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', SWITCHBOARD_DATA_DIR: dataDir, ...env });
  const running = await startSwitchboard({ config, log: silentLogger(), sandboxTiming: 'instant', sandboxTimeScale: 0.1, ...options });
  return {
    ...running,
    dataDir,
    close: async () => {
      await running.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `GET /calls/:id` until the call is over. */
export async function waitForCallEnd(
  url: string,
  id: string,
  timeoutMs = 80_000,
  headers: Record<string, string> = {},
): Promise<CallRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${url}/calls/${id}`, { headers });
    const record = (await response.json()) as CallRecord;
    if (isFinalCallStatus(record.status)) return record;
    if (Date.now() > deadline) throw new Error(`call ${id} still ${record.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/**
 * Provider variables pointing at a sandbox server's provider emulators, for a second server that has real-looking
 * carrier credentials (and so runs no sandbox of its own).
 */
export function sandboxProviderEnv(sandboxServer: RunningSwitchboard): Record<string, string> {
  const { deepgram, llm, tts } = sandboxServer.config;
  return {
    DEEPGRAM_API_KEY: deepgram.apiKey ?? '',
    DEEPGRAM_BASE_URL: deepgram.baseUrl ?? '',
    GOOGLE_API_KEY: llm.google.apiKey ?? '',
    GEMINI_BASE_URL: llm.google.baseUrl ?? '',
    CARTESIA_API_KEY: tts.cartesia.apiKey ?? '',
    CARTESIA_BASE_URL: tts.cartesia.baseUrl ?? '',
  };
}
