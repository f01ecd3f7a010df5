/** Readings taken around a load run: the server's idle RSS, its CPU during call set-up, the media clock. */
import type { MediaClockStats } from '../../src/sandbox/carriers/shared/media-clock.ts';
import { sleep } from './server-api.ts';
import type { ServerProcess } from './server-process.ts';

/** Longest wait for the idle RSS to settle. */
const IDLE_RSS_MAX_MS = 8000;

/**
 * The server's RSS once idle. V8's memory reducer gives back tens of MB a few seconds after the process goes
 * idle; measuring before that would charge the warm-up's garbage to nobody and the calls' heap growth to
 * less than it is. Samples for up to {@link IDLE_RSS_MAX_MS}, stopping once a drop has happened and held.
 */
export async function idleRss(server: ServerProcess): Promise<number> {
  const samples: number[] = [];
  const start = Date.now();
  let dropped = false;
  while (Date.now() - start < IDLE_RSS_MAX_MS) {
    samples.push(server.rssMb());
    const peak = Math.max(...samples);
    const recent = samples.slice(-5);
    if (!dropped && (samples.at(-1) as number) < peak - 10) dropped = true;
    if (dropped && recent.length === 5 && Math.max(...recent) - Math.min(...recent) < 1) break;
    await sleep(250);
  }
  return Math.min(...samples.slice(-5));
}

export interface CpuSample {
  /** Epoch ms. */
  at: number;
  /** Process CPU time so far (ms). */
  cpuMs: number;
}

/** Mean CPU over the samples, and the busiest 1 s stretch, as % of one core. */
export function cpuOverSamples(samples: readonly CpuSample[]): { mean: number; peak1s: number } {
  const first = samples[0] as CpuSample;
  const last = samples.at(-1) as CpuSample;
  let peak = 0;
  for (const a of samples) {
    const b = samples.find((s) => s.at >= a.at + 1000);
    if (b) peak = Math.max(peak, ((b.cpuMs - a.cpuMs) / (b.at - a.at)) * 100);
  }
  return { mean: last.at > first.at ? ((last.cpuMs - first.cpuMs) / (last.at - first.at)) * 100 : 0, peak1s: peak };
}

export interface ClockReading {
  meanLatenessMs: number;
  p99LatenessMs: number;
  maxLatenessMs: number;
  catchUpTicks: number;
  skippedTicks: number;
}

/** Media clock accuracy between two snapshots: mean and tick counts over the span; p99/max are since the clock started. */
export function clockBetween(before: MediaClockStats, after: MediaClockStats): ClockReading {
  const wakeUps = after.wakeUps - before.wakeUps;
  const sum = after.meanLatenessMs * after.wakeUps - before.meanLatenessMs * before.wakeUps;
  return {
    meanLatenessMs: wakeUps > 0 ? sum / wakeUps : 0,
    p99LatenessMs: after.p99LatenessMs,
    maxLatenessMs: after.maxLatenessMs,
    catchUpTicks: after.catchUpTicks - before.catchUpTicks,
    skippedTicks: after.skippedTicks - before.skippedTicks,
  };
}
