/** Binding RTP sockets in the configured port range (even ports, RFC 3550 §11), or on any free port; RTP media on this thread. */
import dgram from 'node:dgram';
import net from 'node:net';
import type { MediaClock } from '../media-clock.ts';
import type { RtpMedia } from './rtp-channel.ts';
import { codecFor } from './rtp-codec.ts';
import { RtpMediaChannel } from './rtp-media-channel.ts';

export interface RtpPortRange {
  /** 0 binds any free port (tests). */
  min: number;
  max: number;
}

function bind(socket: dgram.Socket, port: number, address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const onError = () => resolve(false);
    socket.once('error', onError);
    socket.bind(port, address, () => {
      socket.off('error', onError);
      resolve(true);
    });
  });
}

/** Binds a UDP socket for one call's RTP. Tries even ports from a random start; rejects when the range is full. */
export async function bindRtpSocket(address: string, range: RtpPortRange): Promise<dgram.Socket> {
  const type = net.isIPv6(address) ? 'udp6' : 'udp4';
  if (range.min === 0) {
    const socket = dgram.createSocket(type);
    if (await bind(socket, 0, address)) return socket;
    throw new Error(`cannot bind an RTP socket on ${address}`);
  }
  const first = range.min + (range.min % 2);
  const slots = Math.floor((range.max - first) / 2) + 1;
  if (slots <= 0) throw new Error(`empty RTP port range ${range.min}-${range.max}`);
  const start = Math.floor(Math.random() * slots);
  for (let i = 0; i < Math.min(slots, 200); i++) {
    const port = first + ((start + i) % slots) * 2;
    const socket = dgram.createSocket(type);
    if (await bind(socket, port, address)) return socket;
    try {
      socket.close();
    } catch {
      // never bound: nothing to close
    }
  }
  throw new Error(`no free RTP port in ${range.min}-${range.max}`);
}

/** RTP on this thread: sockets bound here, channels paced on `clock` (a `ManualClock`-driven one in unit tests). */
export function localRtpMedia(clock: MediaClock): RtpMedia {
  return {
    bind: (address, range) => bindRtpSocket(address, range),
    open: (lease, spec) => {
      if (!(lease instanceof dgram.Socket)) throw new TypeError('local RTP media opens only sockets it bound');
      return new RtpMediaChannel({ ...spec, socket: lease, codec: codecFor(spec.media), clock });
    },
  };
}
