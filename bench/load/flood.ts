/**
 * `npm run bench -- --flood <per second>`: live calls' voice-to-voice latency before and during a flood of forged
 * carrier webhooks (issue 10: "under 10 forged 256 KB webhooks per second, live calls' voice-to-voice p95 rises by
 * less than 20 %").
 *
 * One load run (bench/load/run.ts): N sandbox calls; the first half of the steady window is quiet, the second half
 * sends `rate` forged Twilio status callbacks per second to the server (loopback only): 256 KB form bodies of
 * about 25,000 parameters with a made-up `X-Twilio-Signature`, each on its own connection, until the window ends.
 * Every bot turn that started in the quiet half counts as "before", every one that started in the flood half as
 * "during"; the same run, the same calls.
 */
import { request } from 'node:http';
import type { CallRecord } from '../../src/store/index.ts';
import { percentiles, type Percentiles } from './metrics.ts';
import type { LoadRunHooks } from './run.ts';

/** Body of one forged webhook: `bytes` long, `count` parameters. */
export function forgedForm(bytes: number, count: number): Buffer {
  const value = 'x'.repeat(Math.max(1, Math.floor(bytes / count) - 8));
  let body = '';
  for (let i = 0; body.length < bytes && i < count; i++) body += `${i === 0 ? '' : '&'}p${i}=${value}`;
  return Buffer.from(body.slice(0, bytes));
}

export interface FloodOptions {
  /** Forged webhooks per second. */
  rate: number;
  /** Size of each. @default 262_144 */
  bytes?: number;
  /** Parameters in each. @default 25_000 */
  parameters?: number;
  /** Route they go to. @default '/twilio/status' */
  path?: string;
}

export interface FloodResult {
  rate: number;
  bytes: number;
  /** Requests sent, and the answers by status (`error` when the connection failed before an answer). */
  sent: number;
  answers: Record<string, number>;
  /** Time from sending a forged webhook to its answer. */
  answerMs: Percentiles;
  floodSeconds: number;
  voiceToVoiceBeforeMs: Percentiles;
  voiceToVoiceDuringMs: Percentiles;
  /** p95 during ÷ p95 before − 1, in %. */
  p95RisePct: number;
}

/** Hooks for runLoad: the flood in the second half of the steady window, then the split of the turns. */
export function floodHooks(options: FloodOptions): { hooks: LoadRunHooks; result(): FloodResult } {
  const bytes = options.bytes ?? 256 * 1024;
  const body = forgedForm(bytes, options.parameters ?? 25_000);
  const path = options.path ?? '/twilio/status';
  let floodStart = 0;
  let floodEnd = 0;
  let windowStart = 0;
  let sent = 0;
  const answers: Record<string, number> = {};
  const answerMs: number[] = [];
  let records: CallRecord[] = [];

  const send = (url: URL) =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      sent++;
      const done = (key: string) => {
        answers[key] = (answers[key] ?? 0) + 1;
        answerMs.push(performance.now() - started);
        resolve();
      };
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path,
          method: 'POST',
          agent: false,
          timeout: 10_000,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': body.length,
            'x-twilio-signature': 'bm90LWEtcmVhbC1zaWduYXR1cmU=',
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => done(String(res.statusCode)));
          res.on('error', () => done('error'));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => done('error'));
      req.end(body);
    });

  const hooks: LoadRunHooks = {
    async onWindow({ serverUrl, startMs, endMs }) {
      const url = new URL(serverUrl);
      if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost')
        throw new Error(`the flood goes to loopback only, not ${url.hostname}`);
      windowStart = startMs;
      floodStart = startMs + (endMs - startMs) / 2;
      await new Promise((resolve) => setTimeout(resolve, floodStart - Date.now()));
      const inFlight: Array<Promise<void>> = [];
      const interval = 1000 / options.rate;
      for (let next = Date.now(); next < endMs; next += interval) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
        if (Date.now() >= endMs) break;
        inFlight.push(send(url));
      }
      floodEnd = Date.now();
      await Promise.all(inFlight);
    },
    onRecords(all) {
      records = all;
    },
  };

  const result = (): FloodResult => {
    const before: number[] = [];
    const during: number[] = [];
    for (const record of records) {
      for (const turn of record.turns) {
        const v2v = turn.role === 'assistant' ? turn.latency?.voiceToVoiceMs : undefined;
        if (typeof v2v !== 'number' || !Number.isFinite(v2v)) continue;
        const at = Date.parse(turn.startedAt);
        if (at >= windowStart && at < floodStart) before.push(v2v);
        else if (at >= floodStart && at <= floodEnd) during.push(v2v);
      }
    }
    const b = percentiles(before);
    const d = percentiles(during);
    return {
      rate: options.rate,
      bytes,
      sent,
      answers,
      answerMs: percentiles(answerMs),
      floodSeconds: (floodEnd - floodStart) / 1000,
      voiceToVoiceBeforeMs: b,
      voiceToVoiceDuringMs: d,
      p95RisePct: (d.p95 / b.p95 - 1) * 100,
    };
  };
  return { hooks, result };
}

/** The readable lines of a flood result. */
export function formatFlood(result: FloodResult, load: { loadAverage: number[]; cores: number }): string {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : 'n/a');
  const row = (name: string, p: Percentiles) => `  ${name.padEnd(26)} p50 ${f(p.p50)} ms   p95 ${f(p.p95)} ms   (${p.count} bot turns)\n`;
  return (
    `\nFlood: ${result.rate} forged ${Math.round(result.bytes / 1024)} KB webhooks per second for ${result.floodSeconds.toFixed(1)} s ` +
    `(second half of the steady window)\n` +
    `  sent ${result.sent}, answers ${JSON.stringify(result.answers)}, answer time p50 ${f(result.answerMs.p50)} ms, p95 ${f(result.answerMs.p95)} ms\n` +
    row('voice-to-voice before', result.voiceToVoiceBeforeMs) +
    row('voice-to-voice during', result.voiceToVoiceDuringMs) +
    `  p95 change: ${Number.isFinite(result.p95RisePct) ? `${result.p95RisePct >= 0 ? '+' : ''}${result.p95RisePct.toFixed(1)} %` : 'n/a'} ` +
    `(target: under +20 %)\n` +
    `  machine: ${load.cores} cores, load average ${load.loadAverage.map((v) => v.toFixed(2)).join(' / ')} (1 / 5 / 15 min) at the end\n`
  );
}

/** One load run with the flood in its second half; prints the load table and the flood lines. */
export async function runFloodBench(options: {
  calls: number;
  seconds: number;
  rate: number;
  latency: 'zero' | 'realistic';
  json: boolean;
}): Promise<FloodResult> {
  if (!(options.rate > 0 && options.rate <= 100)) throw new Error(`--flood must be 1–100 webhooks per second, got ${options.rate}`);
  const { cpus, loadavg } = await import('node:os');
  const { runLoad } = await import('./run.ts');
  const { formatRun } = await import('./report.ts');
  const flood = floodHooks({ rate: options.rate });
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  progress(`[flood] ${options.calls} calls for ${options.seconds} s; ${options.rate} forged webhooks/s in the second half of the window`);
  const run = await runLoad({ calls: options.calls, seconds: options.seconds, latency: options.latency, progress, hooks: flood.hooks });
  process.stdout.write(formatRun(run, { bargeInMs: 520 }));
  const result = flood.result();
  process.stdout.write(formatFlood(result, { loadAverage: loadavg(), cores: cpus().length }));
  if (options.json) process.stdout.write(`${JSON.stringify({ flood: result, lateFramePct: run.lateFrames.pct })}\n`);
  return result;
}
