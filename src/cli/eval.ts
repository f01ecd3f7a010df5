import { Command, InvalidArgumentError } from 'commander';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { builtinCarriers } from '../telephony/registry.ts';

interface EvalOptions {
  json: boolean;
  ci: boolean;
  filter?: string;
  concurrency: number;
  timing: 'realistic' | 'instant';
  corpus: string;
  carrier: string;
  details: boolean;
  dump?: string;
}

/** Where the project's corpus lives. */
export const DEFAULT_CORPUS_DIR = fileURLToPath(new URL('../../test/conversation/', import.meta.url));

/**
 * `switchboard eval`: runs the conversation corpus (scripted callers) against the default agent in a private
 * sandbox at realistic provider timing and prints the scorecard; with `--json` the last stdout line is the
 * scorecard as one JSON object.
 */
export function evalCommand(): Command {
  return new Command('eval')
    .description('run the conversation corpus against the sandbox and print the scorecard')
    .option('--json', 'print the scorecard as one JSON object on the last stdout line', false)
    .option('--ci', "only the corpus's CI subset (a few calls, about a minute)", false)
    .option('--filter <regex>', 'only calls whose id matches')
    .option(
      '--concurrency <n>',
      'calls at once',
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
        return n;
      },
      6,
    )
    .option(
      '--timing <timing>',
      'provider timing: realistic or instant',
      (v) => {
        if (v !== 'realistic' && v !== 'instant') throw new InvalidArgumentError('must be realistic or instant');
        return v;
      },
      'realistic',
    )
    .option('--corpus <dir>', 'corpus folder (corpus.json, sounds.json)', DEFAULT_CORPUS_DIR)
    .option('--carrier <name>', 'carrier whose emulator carries the calls', builtinCarriers[0]?.name)
    .option('--details', 'list every event that went wrong', false)
    .option('--dump <file>', 'write every call record (server and caller side) to this JSON file')
    .action(async (options: EvalOptions) => {
      // `npm run eval --json` hands the flag to npm, which passes it on as npm_config_json.
      if (process.env.npm_config_json === 'true') options.json = true;
      if (process.env.npm_config_ci === 'true') options.ci = true;
      // Loaded when the command runs: every other command (serve above all) starts without the corpus and the sandbox.
      const [{ loadCorpus }, { formatFindings, formatScorecard }, { runCorpus }, { score }] = await Promise.all([
        import('./eval/corpus.ts'),
        import('./eval/report.ts'),
        import('./eval/runner.ts'),
        import('./eval/scorecard.ts'),
      ]);
      const corpus = loadCorpus(options.corpus);
      const filter = options.filter ? new RegExp(options.filter) : undefined;
      const calls = corpus.calls.filter((c) => (!options.ci || c.ci) && (!filter || filter.test(c.id)));
      if (calls.length === 0) {
        process.stderr.write('No corpus calls selected.\n');
        process.exit(1);
      }
      const load = loadavg();
      process.stderr.write(
        `Running ${calls.length} corpus calls, ${options.concurrency} at a time (load average ${load.map((x) => x.toFixed(2)).join(' ')})…\n`,
      );
      const outcomes = await runCorpus(corpus, calls, {
        carrier: options.carrier,
        concurrency: options.concurrency,
        timing: options.timing,
        progress: (line) => process.stderr.write(`${line}\n`),
      });
      if (options.dump) writeFileSync(options.dump, JSON.stringify(outcomes, null, 1));
      const card = score(outcomes);
      const subset = options.ci ? 'CI subset' : filter ? `calls matching ${options.filter}` : 'full corpus';
      process.stdout.write(`${formatScorecard(card, { timing: options.timing, subset, loadAverage: load })}\n`);
      if (options.details || !options.json) process.stdout.write(`${formatFindings(card)}\n`);
      if (options.json) {
        const { events: _events, ...summary } = card;
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      }
      process.exit(0);
    });
}
