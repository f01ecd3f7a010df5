import { Command } from 'commander';

interface SoakCliOptions {
  calls: number;
  minutes: number;
  callSeconds: number;
  sampleMinutes: number;
  jsonFile?: string;
  json: boolean;
}

/** `switchboard soak` (checkout only): sandbox calls in waves for a long time; RSS, heap, event loop, stuck and lost calls. */
export function soakCommand(): Command {
  return new Command('soak')
    .description('run calls in waves for a long time and report memory growth, event-loop delay, late frames, stuck calls and lost records')
    .option('--calls <n>', 'concurrent calls per wave', (v) => Number(v), 100)
    .option('--minutes <m>', 'how long the soak lasts', (v) => Number(v), 60)
    .option('--call-seconds <s>', 'how long each callee stays on the line', (v) => Number(v), 40)
    .option('--sample-minutes <m>', 'minutes between memory / event-loop readings', (v) => Number(v), 5)
    .option('--json-file <path>', 'also write the result as JSON to this file')
    .option('--json', 'print the result as one JSON object on the last line of stdout', false)
    .action(async (options: SoakCliOptions) => {
      const { runSoak, formatSoak } = await import('../../bench/soak.ts');
      const result = await runSoak({
        calls: options.calls,
        minutes: options.minutes,
        callSeconds: options.callSeconds,
        sampleMinutes: options.sampleMinutes,
        jsonFile: options.jsonFile,
      });
      process.stdout.write(formatSoak(result));
      if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      if (!result.verdict.pass) process.exitCode = 1;
    });
}
