import { Command, InvalidArgumentError } from 'commander';
import { isFinalCallStatus } from '../call-status.ts';
import type { CallRecord } from '../store/index.ts';

interface CallOptions {
  carrier?: string;
  from?: string;
  agent?: string;
  metadata?: Record<string, unknown>;
  server: string;
  apiKey?: string;
  timeout: number;
  json: boolean;
}

function parseJsonObject(value: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new InvalidArgumentError('must be a JSON object, e.g. \'{"user":{"firstName":"Grace"}}\'');
}

/** `switchboard call <number>`: places a call and prints the live transcript until the call ends. */
export function callCommand(): Command {
  return new Command('call')
    .description('place a call and print the live transcript (starts a local sandbox if no server is running)')
    .argument('<number>', 'number to call, e.g. +15550100001 (sandbox personas: +15550100001…6)')
    .option('--carrier <name>', "carrier to place the call with (default: the server's DEFAULT_CARRIER)")
    .option('--from <number>', 'caller id (default: the configured number)')
    .option('--agent <name>', 'agent to run (default: the server default)')
    .option('--metadata <json>', 'custom call data, a JSON object', parseJsonObject)
    .option('--server <url>', 'Switchboard server to use', process.env.SWITCHBOARD_URL ?? `http://localhost:${process.env.PORT ?? 7860}`)
    .option('--api-key <key>', 'API key (default: SWITCHBOARD_API_KEY)', process.env.SWITCHBOARD_API_KEY)
    .option('--timeout <seconds>', 'give up waiting after this long', (v) => Number(v), 300)
    .option('--json', 'print the final call record as JSON', false)
    .action(async (number: string, options: CallOptions) => {
      const code = await runCall(number, options);
      process.exit(code);
    });
}

async function serverIsUp(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
    return response.ok;
  } catch {
    return false;
  }
}

async function runCall(number: string, options: CallOptions): Promise<number> {
  let server = options.server.replace(/\/+$/, '');
  let stop: (() => Promise<void>) | undefined;
  if (!(await serverIsUp(server))) {
    // No server: run a private sandbox in this process for the one call.
    const { loadConfig } = await import('../config.ts');
    const { startSwitchboard } = await import('../server/start.ts');
    const { createLogger } = await import('../log.ts');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const config = loadConfig({
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      SWITCHBOARD_DATA_DIR: process.env.SWITCHBOARD_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'switchboard-call-')),
    });
    const running = await startSwitchboard({
      config,
      log: createLogger({ level: process.env.LOG_LEVEL ?? 'warn', destination: process.stderr }),
    });
    server = running.url;
    stop = running.close;
    process.stderr.write(
      `No server at ${options.server}; started a local sandbox (${running.sandbox?.emulated.join(', ') ?? 'no emulators'}).\n`,
    );
  }
  try {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    const response = await fetch(`${server}/calls`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        to: number,
        ...(options.carrier ? { carrier: options.carrier } : {}),
        ...(options.from ? { from: options.from } : {}),
        ...(options.agent ? { agent: options.agent } : {}),
        ...(options.metadata ? { metadata: options.metadata } : {}),
      }),
    });
    const placed = (await response.json()) as { id?: string; carrier?: string; error?: string; message?: string };
    if (!response.ok || !placed.id) {
      process.stderr.write(`Call not placed: ${placed.message ?? placed.error ?? response.statusText} (HTTP ${response.status})\n`);
      return 1;
    }
    process.stderr.write(`Calling ${number} via ${placed.carrier ?? options.carrier} — call ${placed.id}\n`);
    const record = await follow(server, placed.id, headers, options);
    if (!record) return 1;
    if (options.json) process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
    return record.status === 'completed' ? 0 : 2;
  } finally {
    await stop?.();
  }
}

/** Polls the record, printing each new turn and status change, until the call is over. */
async function follow(server: string, id: string, headers: Record<string, string>, options: CallOptions): Promise<CallRecord | undefined> {
  const deadline = Date.now() + options.timeout * 1000;
  let printedTurns = 0;
  let lastStatus = '';
  while (Date.now() < deadline) {
    const response = await fetch(`${server}/calls/${id}`, { headers });
    if (!response.ok) {
      process.stderr.write(`Cannot read call ${id}: HTTP ${response.status}\n`);
      return undefined;
    }
    const record = (await response.json()) as CallRecord;
    if (record.status !== lastStatus) {
      lastStatus = record.status;
      process.stderr.write(`[${record.status}]\n`);
    }
    for (const turn of record.turns.slice(printedTurns)) {
      const who = turn.role === 'assistant' ? 'bot   ' : 'caller';
      const text = turn.role === 'assistant' && turn.interrupted ? `${turn.heard ?? ''} —(interrupted; meant: "${turn.text}")` : turn.text;
      const latency = turn.latency as { voiceToVoiceMs?: number } | undefined;
      const timing = latency?.voiceToVoiceMs !== undefined ? `  [${Math.round(latency.voiceToVoiceMs)} ms]` : '';
      process.stdout.write(`${who}: ${text}${timing}\n`);
    }
    printedTurns = record.turns.length;
    if (isFinalCallStatus(record.status)) {
      const reason = record.endReason ? ` (${record.endReason})` : '';
      process.stderr.write(`Call ${record.status}${reason}; ${record.durationSec ?? 0} s.\n`);
      return record;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  process.stderr.write(`Gave up waiting after ${options.timeout} s\n`);
  return undefined;
}
