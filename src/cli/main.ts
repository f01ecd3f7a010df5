import { readFileSync } from 'node:fs';
import { Command } from 'commander';

/** Source-checkout-only commands (the benchmarks live in `bench/`, which the package does not ship). */
const CHECKOUT_COMMANDS = ['./bench.ts', './soak.ts'];

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Builds the `switchboard` command tree. Each subcommand lives in its own file under src/cli and
 * exports a factory returning a commander `Command`; add it to the list below.
 */
export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program.name('switchboard').description('AI phone agents: server, sandbox and tools').version(version);
  const factories: Array<() => Promise<Command>> = [
    // one line per subcommand, e.g. async () => (await import('./vad.ts')).vadCommand(),
    async () => (await import('./serve.ts')).serveCommand(),
    async () => (await import('./call.ts')).callCommand(),
    async () => (await import('./vad.ts')).vadCommand(),
    async () => (await import('./eval.ts')).evalCommand(),
  ];
  for (const make of factories) program.addCommand(await make());
  for (const module of CHECKOUT_COMMANDS) {
    // A variable specifier: the build does not follow it, and an installed package simply lacks these commands.
    const loaded = (await import(module).catch(() => undefined)) as
      { benchCommand?: () => Command; soakCommand?: () => Command } | undefined;
    const make = loaded?.benchCommand ?? loaded?.soakCommand;
    if (make) program.addCommand(make());
  }
  await program.parseAsync(argv);
}
