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
      throw error;
    }
    const { config, sandbox } = running;
    if (sandbox) {
      process.stderr.write(
        [
          '',
          `Sandbox mode: ${sandbox.emulated.join(', ')} run locally — no accounts needed.`,
          `Place a sandbox call:`,
          `  curl -X POST localhost:${new URL(running.url).port}/dialout -H 'content-type: application/json' -d '{"to_number":"+15550100001","from_number":"+15550100000"}'`,
          `  ./bin/switchboard call +15550100001`,
          `Then: curl localhost:${new URL(running.url).port}/calls`,
          '',
        ].join('\n'),
      );
    }
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
