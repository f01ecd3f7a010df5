/**
 * RTP on a media thread of its own (`src/transports/rtp/rtp-thread.ts`): one worker per process, started on the
 * first call and shared by every call. Commands from one main-thread turn go over as one message. If the
 * thread dies, its calls' media ends with `by: 'error'` (the calls hang up with that reason) and the next call
 * starts a new thread.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RtpChannel, RtpChannelSpec, RtpMedia, RtpPortLease } from './rtp-channel.ts';
import type { FromMediaThread, ToMediaThread } from './rtp-thread-protocol.ts';
import { ThreadedRtpChannel } from './threaded-rtp-channel.ts';

/**
 * An idle media thread (no port, no channel) is stopped after this long; the next call starts a new one (~50 ms).
 * `unref()` alone did not let a finished process exit while the thread lived.
 */
const IDLE_STOP_MS = 5_000;

/** How long binding a port may take before the call fails (the thread's first start included). */
const BIND_TIMEOUT_MS = 10_000;

/** A port bound on the media thread. */
class ThreadedRtpPort implements RtpPortLease {
  released = false;
  constructor(
    readonly id: number,
    readonly port: number,
    private readonly release: (id: number) => void,
  ) {}

  address(): { port: number } {
    return { port: this.port };
  }

  close(): void {
    if (this.released) return;
    this.released = true;
    this.release(this.id);
  }
}

interface PendingBind {
  resolve: (lease: ThreadedRtpPort) => void;
  reject: (error: Error) => void;
}

export class ThreadedRtpMedia implements RtpMedia {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly binds = new Map<number, PendingBind>();
  private readonly channels = new Map<number, ThreadedRtpChannel>();
  private outbox: ToMediaThread[] = [];
  private flushScheduled = false;
  /** Ports bound and not yet opened or released. */
  private readonly leases = new Set<number>();
  private idleTimer: NodeJS.Timeout | undefined;

  bind(address: string, range: { min: number; max: number }): Promise<RtpPortLease> {
    const id = this.nextId++;
    return new Promise<RtpPortLease>((resolve, reject) => {
      // A thread that never answers (it could not start) fails the call instead of leaving it ringing.
      const timer = setTimeout(() => {
        if (this.binds.delete(id)) reject(new Error(`RTP media thread did not answer within ${BIND_TIMEOUT_MS} ms`));
      }, BIND_TIMEOUT_MS);
      timer.unref();
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T) => {
          clearTimeout(timer);
          fn(value);
        };
      this.binds.set(id, { resolve: settle(resolve), reject: settle(reject) });
      this.send({ t: 'bind', id, address, min: range.min, max: range.max });
    });
  }

  open(lease: RtpPortLease, spec: RtpChannelSpec): RtpChannel {
    if (!(lease instanceof ThreadedRtpPort) || lease.released) throw new TypeError('threaded RTP media opens only ports it bound');
    lease.released = true; // the channel owns the socket now
    this.leases.delete(lease.id);
    const channel = new ThreadedRtpChannel(lease.id, lease.port, spec, (message) => this.send(message));
    this.channels.set(lease.id, channel);
    void channel.closedStats.then(() => {
      this.channels.delete(lease.id);
      this.stopWhenIdle();
    });
    return channel;
  }

  private stopWhenIdle(): void {
    if (this.binds.size > 0 || this.channels.size > 0 || this.leases.size > 0 || this.idleTimer) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.binds.size === 0 && this.channels.size === 0 && this.leases.size === 0) void this.close();
    }, IDLE_STOP_MS);
    this.idleTimer.unref();
  }

  /** Stops the media thread (its calls' media ends). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private send(message: ToMediaThread): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.ensureWorker();
    this.outbox.push(message);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.outbox;
    this.outbox = [];
    if (batch.length > 0) this.ensureWorker().postMessage(batch);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = startMediaThread();
    worker.unref(); // the calls' own sockets and the server keep the process alive, not an idle media thread
    worker.on('message', (batch: FromMediaThread[]) => {
      for (const message of batch) this.receive(message);
    });
    const died = (reason: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const [id, pending] of this.binds) {
        pending.reject(new Error(reason));
        this.binds.delete(id);
      }
      for (const channel of this.channels.values()) channel.fail(reason);
      this.channels.clear();
      this.leases.clear();
    };
    worker.on('error', (error) => died(`RTP media thread failed: ${error.message}`));
    worker.on('exit', (code) => died(`RTP media thread exited (${code})`));
    this.worker = worker;
    return worker;
  }

  private receive(message: FromMediaThread): void {
    if (message.t === 'bound' || message.t === 'bindFailed') {
      const pending = this.binds.get(message.id);
      this.binds.delete(message.id);
      if (!pending) {
        if (message.t === 'bound') this.send({ t: 'release', id: message.id }); // its call gave up waiting
        return;
      }
      if (message.t === 'bound') {
        this.leases.add(message.id);
        pending.resolve(
          new ThreadedRtpPort(message.id, message.port, (id) => {
            this.leases.delete(id);
            this.send({ t: 'release', id });
            this.stopWhenIdle();
          }),
        );
      } else {
        pending.reject(new Error(message.message));
        this.stopWhenIdle();
      }
      return;
    }
    this.channels.get(message.id)?.receive(message);
  }
}

/** The media thread: the built JS, or in a source checkout its TypeScript through tsx (a dev dependency). */
function startMediaThread(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./rtp-thread.js', here));
  // The ESM build of tsx's API (its CJS build points the hooks at a path that does not exist inside a worker).
  const tsx = pathToFileURL(
    createRequire(here)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const entry = new URL('./rtp-thread.ts', here).href;
  // `execArgv: ['--import', …]` does not reach a worker's own entry on Node 20, so the thread registers tsx itself.
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(`${boot}.catch((e) => { console.error(e); process.exit(1); });`, { eval: true });
}

let shared: ThreadedRtpMedia | undefined;

/** The process's media thread (started with its first call). */
export function sharedThreadedRtpMedia(): ThreadedRtpMedia {
  shared ??= new ThreadedRtpMedia();
  return shared;
}
