import { Command } from 'commander';
import type { BenchRow, BenchSuite } from '../../bench/types.ts';

interface BenchOptions {
  micro: boolean;
  load: boolean;
  calls: number;
  seconds: number;
  findMax: boolean;
  json: boolean;
  latency: 'zero' | 'realistic' | 'both';
  carrier: string;
}

function printRows(title: string, rows: BenchRow[]): void {
  const width = Math.max(...rows.map((r) => r.name.length), 10);
  process.stdout.write(`\n${title}\n${'-'.repeat(width + 22)}\n`);
  for (const row of rows) {
    const value = row.value >= 1000 ? Math.round(row.value).toLocaleString('en-US') : Number(row.value.toPrecision(3)).toString();
    process.stdout.write(`${row.name.padEnd(width)}  ${value.padStart(12)} ${row.unit}\n`);
  }
}

/** `switchboard bench`: micro-benchmarks of the hot paths, then the concurrent-call load benchmark. */
export function benchCommand(): Command {
  return new Command('bench')
    .description('measure hot-path costs and concurrent-call capacity')
    .option('--no-micro', 'skip the micro-benchmarks')
    .option('--no-load', 'skip the concurrent-call load benchmark')
    .option('--calls <n>', 'concurrent calls for the load benchmark', (v) => Number(v), 20)
    .option('--seconds <t>', 'seconds each load run lasts', (v) => Number(v), 20)
    .option('--find-max', 'step the number of calls up until frames run late or a call fails', false)
    .option('--latency <mode>', 'provider emulator latency for the load runs: zero, realistic or both', 'both')
    .option('--carrier <name>', 'twilio, or sip: the same load over SIP/RTP too, beside the Twilio figure', 'twilio')
    .option('--json', 'print the load result as one JSON object on the last line of stdout', false)
    .action(async (options: BenchOptions) => {
      if (options.micro) {
        const suites: Array<[string, () => Promise<BenchSuite>]> = [
          ['Audio (per 20 ms of 8 kHz audio unless stated)', async () => (await import('../../bench/audio.ts')).benchAudio],
          ['Pipeline engine', async () => (await import('../../bench/pipeline.ts')).benchPipeline],
          ['Carrier media messages', async () => (await import('../../bench/telephony.ts')).benchTelephony],
        ];
        for (const [title, load] of suites) printRows(title, await (await load())());
      }
      if (options.load) {
        const { runLoadBench } = await import('../../bench/load.ts');
        await runLoadBench({
          calls: options.calls,
          seconds: options.seconds,
          findMax: options.findMax,
          json: options.json,
          latency: options.latency,
          carrier: options.carrier,
        });
      }
    });
}
