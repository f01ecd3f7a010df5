/**
 * baresip (Debian `baresip-core`) run headless as a test peer: its microphone is a WAV file (`aufile`), what it
 * hears is recorded (`sndfile` writes `dump-…-dec.wav`), it auto-answers, and it takes commands over
 * `ctrl_tcp` (netstring JSON). Config lives in a temporary directory; ports are free loopback ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freeUdpPort } from './sipp.ts';

export interface BaresipEvent {
  type: string;
  [key: string]: unknown;
}

async function freeTcpPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class Baresip {
  readonly events: BaresipEvent[] = [];
  private child: ChildProcess | undefined;
  private control: net.Socket | undefined;
  private buffer = '';
  private log = '';
  private waiters: Array<{ type: string; resolve: (event: BaresipEvent) => void }> = [];

  private constructor(
    readonly dir: string,
    readonly sipPort: number,
    private readonly controlPort: number,
  ) {}

  /** Starts baresip with `micWav` (8 kHz mono 16-bit) as its microphone. */
  static async start(micWav: string): Promise<Baresip> {
    const dir = await mkdtemp(path.join(tmpdir(), 'baresip-'));
    const sipPort = await freeUdpPort();
    const controlPort = await freeTcpPort();
    const config = [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sipPort}`,
      'sip_transports udp',
      'call_local_timeout 120',
      `audio_source aufile,${micWav}`,
      'audio_player aubridge,nil',
      'audio_alert aubridge,nil',
      'ausrc_srate 8000',
      'auplay_srate 8000',
      'audio_buffer 20-160',
      'rtp_timeout 0',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module aufile.so',
      'module aubridge.so',
      'module sndfile.so',
      'module_app account.so',
      'module_app ctrl_tcp.so',
      'module_app menu.so',
      `ctrl_tcp_listen 127.0.0.1:${controlPort}`,
      'net_interface 127.0.0.1',
      `snd_path ${dir}`,
    ];
    await writeFile(path.join(dir, 'config'), config.join('\n') + '\n');
    await writeFile(path.join(dir, 'accounts'), `<sip:peer@127.0.0.1:${sipPort}>;regint=0;answermode=auto;audio_codecs=PCMU\n`);
    const baresip = new Baresip(dir, sipPort, controlPort);
    await baresip.launch();
    return baresip;
  }

  private async launch(): Promise<void> {
    const child = spawn('baresip', ['-f', this.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    const deadline = Date.now() + 10_000;
    while (!this.log.includes('baresip is ready')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`baresip did not start:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const control = net.connect(this.controlPort, '127.0.0.1');
    await new Promise<void>((resolve, reject) => control.once('connect', resolve).once('error', reject));
    control.on('data', (d: Buffer) => this.onControl(d.toString('utf8')));
    this.control = control;
  }

  /** baresip's console output so far (for failure messages). */
  get output(): string {
    return this.log;
  }

  /** Sends a ctrl_tcp command (`dial`, `hangup`, …). */
  command(command: string, params = ''): void {
    const json = JSON.stringify({ command, params, token: command });
    this.control?.write(`${Buffer.byteLength(json)}:${json},`);
  }

  /** Resolves at the next event of `type` (`CALL_ESTABLISHED`, `CALL_CLOSED`, …) or one already seen. */
  waitForEvent(type: string, timeoutMs = 15_000): Promise<BaresipEvent> {
    const seen = this.events.find((e) => e.type === type);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`baresip: no ${type} within ${timeoutMs} ms\n${this.log.slice(-3000)}`)), timeoutMs);
      this.waiters.push({
        type,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      });
    });
  }

  /** The WAV of what baresip heard (decoded far-end audio) on its last call. */
  async heardWav(): Promise<Buffer> {
    const files = await readdir(this.dir);
    const name = files
      .filter((f) => f.startsWith('dump-') && f.endsWith('-dec.wav'))
      .sort()
      .at(-1);
    if (!name) throw new Error(`baresip wrote no recording (files: ${files.join(', ')})`);
    return readFile(path.join(this.dir, name));
  }

  async stop(): Promise<void> {
    this.control?.destroy();
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  private onControl(text: string): void {
    this.buffer += text;
    for (;;) {
      const colon = this.buffer.indexOf(':');
      if (colon < 0) return;
      const length = Number(this.buffer.slice(0, colon));
      if (!Number.isFinite(length) || this.buffer.length < colon + 1 + length + 1) return;
      const json = this.buffer.slice(colon + 1, colon + 1 + length);
      this.buffer = this.buffer.slice(colon + 1 + length + 1);
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(json) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (message.event === true && typeof message.type === 'string') {
        const event = message as BaresipEvent;
        this.events.push(event);
        for (const waiter of this.waiters.filter((w) => w.type === event.type)) waiter.resolve(event);
        this.waiters = this.waiters.filter((w) => w.type !== event.type);
      }
    }
  }
}
