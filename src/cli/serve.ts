import { Command } from 'commander';
import { ConfigError } from '../config.ts';

/** `switchboard serve`: runs the server (in sandbox mode when carrier/provider credentials are missing). */
export function serveCommand(): Command {
  return new Command('serve').description('run the Switchboard server (sandbox mode when credentials are missing)').action(async () => {
    const { startSwitchboard } = await import('../server/start.ts');
    let running;
    try {
      running = await startSwitchboard();
    } catch (error) {
      if (error instanceof ConfigError) {
        process.stderr.write(`${error.message}\n`);
        process.exit(1);
      }
      const inUse = addressInUse(error);
      if (inUse) {
        // Usually a second server, or a softphone on 5060; a stack trace would hide which setting to change.
        process.stderr.write(
          `Cannot start: ${inUse} is already in use (another Switchboard or a SIP phone?). ` +
            'Set PORT, SIP_PORT or DAILY_SIP_PORT to a free port, or 0 for any free port.\n',
        );
        process.exit(1);
      }
      throw error;
    }
    const { config, sandbox, status } = running;
    const port = new URL(running.url).port;
    const lines = [
      '',
      `Switchboard on ${running.url} (public ${running.publicUrl})${sandbox ? ' — sandbox mode: no accounts needed' : ''}`,
      ...status.carriers.map((c) => `  carrier  ${c.name.padEnd(10)} ${c.mode}${c.missing.length ? ` (set ${c.missing.join(', ')})` : ''}`),
      ...status.providers.map((p) => `  ${p.kind.padEnd(8)} ${p.provider.padEnd(10)} ${p.mode}${p.missing ? ` (set ${p.missing})` : ''}`),
    ];
    if (sandbox) {
      lines.push(
        `Place a sandbox call:`,
        `  curl -X POST localhost:${port}/dialout -H 'content-type: application/json' -d '{"to_number":"+15550100001","from_number":"+15550100000"}'`,
        `  npx switchboard call +15550100001`,
        `Then: curl localhost:${port}/calls`,
      );
    }
    process.stderr.write(`${lines.join('\n')}\n\n`);
    if (config.apiKey === undefined && !sandbox) {
      process.stderr.write('Warning: SWITCHBOARD_API_KEY is not set; the call API is open to anyone who can reach it.\n');
    }
    const stop = async () => {
      await running.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
  });
}

/** `host:port` of a listen/bind error for an address already taken, else undefined. */
function addressInUse(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, address, port } = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (code !== 'EADDRINUSE') return undefined;
  return port === undefined ? 'an address' : `${address ?? ''}:${port}`;
}
