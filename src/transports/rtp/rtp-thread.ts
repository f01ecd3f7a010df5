/**
 * The RTP media thread: owns every RTP socket of the process and runs each call's {@link RtpMediaChannel} on this
 * thread's own media clock. Its event loop does nothing but media, so 20 ms pacing holds while the main thread is
 * busy with the agents (at 100 calls the main loop is ~70 % busy and stalls of 20–200 ms were common, which made
 * RTP sent from there late). What a channel reports is batched back to the main thread once per event-loop turn.
 */
import type dgram from 'node:dgram';
import { parentPort } from 'node:worker_threads';
import { pino } from 'pino';
import type { MediaChannelHandler } from '../media-channel.ts';
import { codecFor } from './rtp-codec.ts';
import { emptyRtpChannelStats, RtpMediaChannel } from './rtp-media-channel.ts';
import { bindRtpSocket } from './rtp-socket.ts';
import type { FromMediaThread, ToMediaThread } from './rtp-thread-protocol.ts';

if (!parentPort) throw new Error('rtp-thread runs as a worker thread');
const port = parentPort;

const sockets = new Map<number, dgram.Socket>();
/** Datagrams that reached a port before its channel opened (the peer may start sending as soon as it has our SDP). */
const early = new Map<number, Array<[Buffer, dgram.RemoteInfo]>>();
const EARLY_DATAGRAMS = 50;
const channels = new Map<number, RtpMediaChannel>();

let outbox: FromMediaThread[] = [];
let flushScheduled = false;
function post(message: FromMediaThread): void {
  outbox.push(message);
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(flush);
}
function flush(): void {
  flushScheduled = false;
  const batch = outbox;
  outbox = [];
  if (batch.length > 0) port.postMessage(batch);
}

function channelLogger(id: number) {
  // Log lines go to the main thread, which writes them with the call's own logger (its fields, level and redaction).
  return pino(
    { level: process.env.LOG_LEVEL ?? 'info', base: null, timestamp: false },
    { write: (line: string) => post({ t: 'log', id, line }) },
  );
}

function forwarder(id: number): MediaChannelHandler {
  return {
    audio: (audio) => post({ t: 'audio', id, audio }),
    mark: (name) => post({ t: 'mark', id, name }),
    cleared: () => {
      const channel = channels.get(id);
      if (channel) post({ t: 'cleared', id, stats: structuredClone(channel.stats) });
    },
    dtmf: (digit) => post({ t: 'dtmf', id, digit }),
    closed: (info) => {
      const channel = channels.get(id);
      channels.delete(id);
      if (channel) post({ t: 'closed', id, info, stats: channel.stats });
    },
  };
}

async function bind(message: Extract<ToMediaThread, { t: 'bind' }>): Promise<void> {
  try {
    const socket = await bindRtpSocket(message.address, { min: message.min, max: message.max });
    sockets.set(message.id, socket);
    const held: Array<[Buffer, dgram.RemoteInfo]> = [];
    early.set(message.id, held);
    socket.on('message', (data, rinfo) => {
      if (early.get(message.id) === held && held.length < EARLY_DATAGRAMS) held.push([data, rinfo]);
    });
    post({ t: 'bound', id: message.id, port: socket.address().port });
  } catch (error) {
    post({ t: 'bindFailed', id: message.id, message: error instanceof Error ? error.message : String(error) });
  }
}

function handle(message: ToMediaThread): void {
  if (message.t === 'bind') {
    void bind(message);
    return;
  }
  if (message.t === 'release') {
    sockets.get(message.id)?.close();
    sockets.delete(message.id);
    early.delete(message.id);
    return;
  }
  if (message.t === 'open') {
    const socket = sockets.get(message.id);
    sockets.delete(message.id);
    if (!socket) {
      early.delete(message.id);
      post({ t: 'closed', id: message.id, info: { by: 'error', reason: 'RTP port was released' }, stats: emptyRtpChannelStats() });
      return;
    }
    const channel = new RtpMediaChannel({
      carrierCallId: message.carrierCallId,
      socket,
      media: message.media,
      codec: codecFor(message.media),
      trustedAddresses: message.trusted,
      ...(message.rtpTimeoutMs !== undefined ? { rtpTimeoutMs: message.rtpTimeoutMs } : {}),
      logger: channelLogger(message.id),
      onFailure: (reason) => post({ t: 'failure', id: message.id, reason }),
      onLatched: (remote) => post({ t: 'remote', id: message.id, ...remote }),
    });
    channels.set(message.id, channel);
    channel.setHandler(forwarder(message.id));
    const held = early.get(message.id) ?? [];
    early.delete(message.id);
    for (const [data, rinfo] of held) socket.emit('message', data, rinfo);
    return;
  }
  const channel = channels.get(message.id);
  if (!channel) return; // closed here already; its `closed` report is on its way
  switch (message.t) {
    case 'start':
      channel.start();
      break;
    case 'audio':
      channel.sendAudio(message.bytes);
      break;
    case 'mark':
      channel.sendMark(message.name);
      break;
    case 'clear':
      channel.clear();
      break;
    case 'dtmf':
      channel.sendDtmf(message.digits);
      break;
    case 'update':
      channel.updateMedia(message.media, message.trusted);
      break;
    case 'close':
      channel.close(message.reason);
      break;
    case 'end':
      channel.end(message.by, message.reason);
      break;
  }
}

port.on('message', (batch: ToMediaThread[]) => {
  for (const message of batch) {
    try {
      handle(message);
    } catch (error) {
      // One call's bad message must not take the others' media down.
      post({ t: 'log', id: message.id, line: JSON.stringify({ level: 50, msg: 'RTP media thread error', err: String(error) }) });
    }
  }
});
