/**
 * One load run over SIP: the same server child, providers and looping callee persona as the Twilio run
 * (run.ts), but the server places its calls with `POST /calls {carrier: "sip"}` to the SIP callee emulator in
 * this process (SIP signalling and PCMU RTP on loopback) instead of through the Twilio emulator's media sockets.
 *
 * Figures: server CPU per call-second over the steady window (→ calls per core); late frames as the server sent
 * them (its RTP channels' counters, logged per call), and as the callees' jitter buffers received them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nowMs } from '../../src/sandbox/carriers/shared/media-clock.ts';
import { PersonaRegistry } from '../../src/sandbox/callees/persona-registry.ts';
import type { CallRecord } from '../../src/store/index.ts';
import { startSipCalleeEmulator, type EmulatedSipCall, type SipCalleeEmulator } from '../../src/telephony/sip/emulator/index.ts';
import { SIP_MEDIA_STATS_LOG } from '../../src/telephony/sip/runtime.ts';
import { startLoadGenerator, type LatencyMode, type LoadGenerator } from './generator.ts';
import { BENCH_NUMBER, benchPersona, WARMUP_NUMBER, warmupPersona } from './persona.ts';
import { finalRecord, mapLimit, sleep } from './server-api.ts';
import { startServerProcess, tail, type ServerProcess } from './server-process.ts';

export interface SipLoadResult {
  carrier: 'sip';
  latency: LatencyMode;
  calls: number;
  windowSeconds: number;
  callsLiveInWindow: number;
  server: { cpuMsPerCallSecond: number; callsPerCore: number; cpuPctOfCore: number };
  /** The server's RTP pacing: packets sent more than one frame behind the steady send grid, or slots skipped, of packets sent (its log). */
  lateFrames: { late: number; skipped: number; sent: number; pct: number };
  /** Bot frames the callees' jitter buffers dropped as late or concealed as lost, of frames received (includes generator stalls). */
  calleeLateFrames: { late: number; lost: number; received: number; pct: number };
  completed: number;
  failed: number;
  assistantTurns: number;
  userTurns: number;
}

const SETTLE_AFTER_CONNECT_MS = 2000;

async function placeSipCall(server: ServerProcess, to: string): Promise<{ id: string; carrierCallId: string | null }> {
  const response = await fetch(`${server.url}/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ to, carrier: 'sip' }),
  });
  const body = (await response.json()) as { id?: string; carrierCallId?: string | null };
  if (response.status !== 201 || !body.id) throw new Error(`POST /calls answered ${response.status}: ${JSON.stringify(body)}`);
  return { id: body.id, carrierCallId: body.carrierCallId ?? null };
}

function connectedAt(call: EmulatedSipCall | undefined): number | null {
  return call?.callee?.connectedAt ?? null;
}

export async function runSipLoad(options: {
  calls: number;
  seconds: number;
  latency: LatencyMode;
  progress?: (line: string) => void;
}): Promise<SipLoadResult> {
  const { calls, seconds, latency } = options;
  const say = options.progress ?? (() => {});
  const tmp = mkdtempSync(join(tmpdir(), 'switchboard-bench-sip-'));
  let generator: LoadGenerator | undefined;
  let emulator: SipCalleeEmulator | undefined;
  let server: ServerProcess | undefined;
  try {
    const personas = { [BENCH_NUMBER]: benchPersona(seconds), [WARMUP_NUMBER]: warmupPersona() };
    generator = await startLoadGenerator({ latency, personas, tmpDir: tmp }); // providers (and callee speech, synthesised once)
    const registry = new PersonaRegistry({ builtins: false, fallback: null });
    for (const [number, persona] of Object.entries(personas)) registry.register(number, persona);
    emulator = await startSipCalleeEmulator({ personas: registry });
    const uri = (number: string) => `sip:${number}@127.0.0.1:${(emulator as SipCalleeEmulator).port}`;
    server = await startServerProcess({
      // LOG_LEVEL info: each SIP call logs its RTP counters when it ends (a few lines per call, not per frame).
      env: {
        ...generator.serverEnv(),
        LOG_LEVEL: 'info',
        SIP_PORT: '0',
        SIP_BIND_ADDRESS: '127.0.0.1',
        SIP_RTP_PORT_MIN: '0',
        SIP_RTP_PORT_MAX: '0',
        // A/B of RTP on the main thread vs its media thread: SIP_MEDIA_THREAD=false npm run bench -- --carrier sip
        ...(process.env.SIP_MEDIA_THREAD ? { SIP_MEDIA_THREAD: process.env.SIP_MEDIA_THREAD } : {}),
      },
      dataDir: tmp,
    });
    await server.ready();

    say(`[sip ${latency}] warming up the server with one call`);
    const warm = await placeSipCall(server, uri(WARMUP_NUMBER));
    const warmRecord = await finalRecord(server, warm.id, 90_000);
    if (warmRecord?.status !== 'completed') throw new Error(`SIP warm-up call ended ${warmRecord?.status ?? 'without a record'}`);

    say(`[sip ${latency}] placing ${calls} calls for ${seconds} s`);
    const staggerMs = Math.min(2000, 50 * (calls - 1));
    const placed = await Promise.all(
      Array.from({ length: calls }, async (_, i) => {
        await sleep(calls > 1 ? (i * staggerMs) / (calls - 1) : 0);
        try {
          return await placeSipCall(server as ServerProcess, uri(BENCH_NUMBER));
        } catch (error) {
          say(`[sip ${latency}] call ${i} not placed: ${error instanceof Error ? error.message : String(error)}`);
          return undefined;
        }
      }),
    );
    const ids = placed.flatMap((p) => (p?.carrierCallId ? [p.carrierCallId] : []));
    const deadline = Date.now() + 15_000;
    let connected: number[] = [];
    for (;;) {
      connected = ids.flatMap((id) => {
        const at = connectedAt(emulator?.calls.get(id));
        return at === null ? [] : [at];
      });
      if (connected.length >= ids.length || Date.now() > deadline) break;
      await sleep(100);
    }
    if (connected.length === 0) throw new Error(`none of the ${calls} SIP calls connected; server log:\n${tail(server.logFile)}`);
    const from = Math.max(...connected) + SETTLE_AFTER_CONNECT_MS;
    const to = Math.min(...connected) + seconds * 1000 - 250;
    if (to - from < 1000) throw new Error(`no steady window over SIP (${Math.round(to - from)} ms): use more --seconds or fewer calls`);
    await sleep(from - nowMs());
    const windowStart = nowMs();
    const cpu0 = server.cpuMs();
    await sleep(to - nowMs());
    const cpu1 = server.cpuMs();
    const windowMs = nowMs() - windowStart;
    const live = ids.filter((id) => {
      const call = emulator?.calls.get(id);
      const at = connectedAt(call);
      return at !== null && at <= from && (call?.end === null || (call?.callee?.endedAt ?? Infinity) >= to);
    }).length;

    say(`[sip ${latency}] window done (${(windowMs / 1000).toFixed(1)} s); waiting for the calls to end`);
    await Promise.all(ids.map((id) => Promise.race([emulator?.calls.get(id)?.ended, sleep(60_000)])));
    const records = (await mapLimit(placed, 8, async (p) => (p ? finalRecord(server as ServerProcess, p.id, 20_000) : undefined))).filter(
      (r): r is CallRecord => r !== undefined,
    );
    let late = 0;
    let lost = 0;
    let received = 0;
    for (const id of ids) {
      const media = emulator.calls.get(id)?.media;
      if (!media) continue;
      late += media.jitter.late;
      lost += media.jitter.lost;
      received += media.jitter.received;
    }
    const logFile = server.logFile;
    await server.stop(); // the last calls' counters are logged as they end
    server = undefined;
    const sending = { late: 0, skipped: 0, sent: 0 };
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      if (!line.includes(SIP_MEDIA_STATS_LOG)) continue;
      try {
        const entry = JSON.parse(line) as { msg?: string; lateFrames?: number; skippedSlots?: number; packetsSent?: number };
        if (entry.msg !== SIP_MEDIA_STATS_LOG) continue;
        sending.late += entry.lateFrames ?? 0;
        sending.skipped += entry.skippedSlots ?? 0;
        sending.sent += entry.packetsSent ?? 0;
      } catch {
        // not a log record
      }
    }
    const cpuMsPerCallSecond = (cpu1 - cpu0) / (calls * (windowMs / 1000));
    return {
      carrier: 'sip',
      latency,
      calls,
      windowSeconds: windowMs / 1000,
      callsLiveInWindow: live,
      server: { cpuMsPerCallSecond, callsPerCore: 1000 / cpuMsPerCallSecond, cpuPctOfCore: ((cpu1 - cpu0) / windowMs) * 100 },
      lateFrames: { ...sending, pct: sending.sent > 0 ? ((sending.late + sending.skipped) / sending.sent) * 100 : 0 },
      calleeLateFrames: { late, lost, received, pct: received > 0 ? ((late + lost) / received) * 100 : 0 },
      completed: records.filter((r) => r.status === 'completed').length,
      failed: calls - records.filter((r) => r.status === 'completed').length,
      assistantTurns: records.reduce((n, r) => n + r.turns.filter((t) => t.role === 'assistant').length, 0),
      userTurns: records.reduce((n, r) => n + r.turns.filter((t) => t.role === 'user').length, 0),
    };
  } finally {
    await server?.stop().catch(() => undefined);
    await emulator?.close();
    await generator?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The SIP run beside the Twilio run of the same invocation. */
export function formatSipRun(sip: SipLoadResult, twilioCallsPerCore: number | undefined): string {
  const ratio = twilioCallsPerCore
    ? ` (${((sip.server.callsPerCore / twilioCallsPerCore) * 100).toFixed(0)} % of Twilio's ${twilioCallsPerCore.toFixed(1)})`
    : '';
  return (
    `\nSIP (PCMU over loopback, ${sip.latency} latency): ${sip.calls} calls, ${sip.callsLiveInWindow} live over a ${sip.windowSeconds.toFixed(1)} s window\n` +
    `  server CPU ${sip.server.cpuMsPerCallSecond.toFixed(2)} ms per call-second → ${sip.server.callsPerCore.toFixed(1)} calls per core${ratio}; ${sip.server.cpuPctOfCore.toFixed(0)} % of a core\n` +
    `  late frames (server RTP pacing) ${sip.lateFrames.pct.toFixed(3)} % (${sip.lateFrames.late} late + ${sip.lateFrames.skipped} skipped of ${sip.lateFrames.sent} sent)\n` +
    `  at the callees' jitter buffers ${sip.calleeLateFrames.pct.toFixed(3)} % (${sip.calleeLateFrames.late} late + ${sip.calleeLateFrames.lost} lost of ${sip.calleeLateFrames.received}; the generator's own stalls count here)\n` +
    `  calls completed ${sip.completed}, not completed ${sip.failed}; turns: ${sip.userTurns} caller, ${sip.assistantTurns} bot\n`
  );
}
