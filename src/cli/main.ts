import { Command } from 'commander';

/** Builds the `switchboard` command tree; each subcommand lives in its own file under src/cli. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program.name('switchboard').description('AI phone agents: server, sandbox and tools').version('0.1.0');
  await program.parseAsync(argv);
}
