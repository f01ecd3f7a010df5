import { Command } from 'commander';

/**
 * Builds the `switchboard` command tree. Each subcommand lives in its own file under src/cli and
 * exports a factory returning a commander `Command`; add it to the list below.
 */
export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program.name('switchboard').description('AI phone agents: server, sandbox and tools').version('0.1.0');
  const factories: Array<() => Promise<Command>> = [
    // one line per subcommand, e.g. async () => (await import('./vad.ts')).vadCommand(),
    async () => (await import('./serve.ts')).serveCommand(),
    async () => (await import('./call.ts')).callCommand(),
    async () => (await import('./vad.ts')).vadCommand(),
    async () => (await import('./bench.ts')).benchCommand(),
  ];
  for (const make of factories) program.addCommand(await make());
  await program.parseAsync(argv);
}
