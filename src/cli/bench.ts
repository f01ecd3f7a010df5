import { Command } from 'commander';
import type { BenchRow, BenchSuite } from '../../bench/types.ts';
import { builtinCarriers } from '../telephony/registry.ts';

interface BenchOptions {
  micro: boolean;
  load: boolean;
  calls: number[];
  seconds?: number;
  workload: 'reminder' | 'conversation';
  findMax: boolean;
  json: boolean;
  latency: 'zero' | 'realistic' | 'both';
  flood?: number;
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
    .option(
      '--calls <n>',
      'concurrent calls for the load benchmark; a comma-separated list runs each and fits RSS per call over them',
      (v) => v.split(',').map(Number),
      [20],
    )
    .option('--seconds <t>', 'seconds each load run lasts (default 20; 40 for the conversation workload)', (v) => Number(v))
    .option(
      '--workload <name>',
      'reminder (outbound, the callee keeps asking for the time) or conversation (inbound, ask / interrupt 1.5 s in / ask / let the reply finish, 40 s calls)',
      'reminder',
    )
    .option('--find-max', 'step the number of calls up until frames run late, a call fails or (conversation) replies slow down', false)
    .option('--latency <mode>', 'provider emulator latency for the load runs: zero, realistic or both', 'both')
    .option(
      '--carrier <name>',
      'the default carrier, or sip: the same load over SIP/RTP too, beside the default figure',
      builtinCarriers[0]?.name,
    )
    .option('--json', 'print the load result as one JSON object on the last line of stdout', false)
    .option(
      '--flood <n>',
      'instead: one load run whose second half gets n forged 256 KB webhooks per second; voice-to-voice before vs during',
      (v) => Number(v),
    )
    .action(async (options: BenchOptions) => {
      if (options.flood !== undefined) {
        const { runFloodBench } = await import('../../bench/load/flood.ts');
        await runFloodBench({
          calls: options.calls[0] ?? 20, // one run: the first of the list
          seconds: options.seconds ?? 20,
          rate: options.flood,
          latency: options.latency === 'zero' ? 'zero' : 'realistic',
          json: options.json,
        });
        return;
      }
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
          workload: options.workload,
          findMax: options.findMax,
          json: options.json,
          latency: options.latency,
          carrier: options.carrier,
        });
      }
    });
}
