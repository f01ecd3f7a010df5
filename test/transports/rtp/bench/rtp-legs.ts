/**
 * Micro-benchmark: CPU per call of the RTP media path (20 ms pacing on the shared media clock, jitter buffer,
 * G.711 in and out) at N concurrent loopback legs. The far ends run in a child process (so only our side is
 * measured): each sends a 20 ms PCMU packet per leg every 20 ms and drops what it receives.
 *
 *   npx tsx test/transports/rtp/bench/rtp-legs.ts [legs=100] [seconds=10] [codec=PCMU|opus]
 *
 * Prints JSON: CPU ms per second per call, % of one core per call, calls per core, late/skipped slots and the
 * jitter buffers' late/lost counts.
 */
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import { sharedMediaClock } from '../../../../src/transports/media-clock.ts';
import { pcmuCodec } from '../../../../src/transports/rtp/rtp-codec.ts';
import { RtpMediaChannel } from '../../../../src/transports/rtp/rtp-media-channel.ts';
import { bindRtpSocket } from '../../../../src/transports/rtp/rtp-socket.ts';

if (process.argv[2] === 'peer') {
  // Child: one socket per leg; one timer sends every leg's packet every 20 ms.
  const sockets: Array<{ socket: dgram.Socket; port: number; seq: number; ts: number }> = [];
  process.on('message', (message: { ports: number[] }) => {
    void (async () => {
      for (const port of message.ports) {
        const socket = dgram.createSocket('udp4');
        await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
        socket.on('message', () => {});
        sockets.push({ socket, port, seq: 0, ts: 0 });
      }
      process.send?.({ ports: sockets.map((s) => s.socket.address().port) });
      const packet = Buffer.alloc(172, 0x55);
      packet[0] = 0x80;
      const start = performance.now();
      let sent = 0;
      setInterval(() => {
        const due = Math.floor((performance.now() - start) / 20);
        while (sent < due) {
          sent++;
          for (const leg of sockets) {
            packet.writeUInt16BE(leg.seq++ & 0xffff, 2);
            packet.writeUInt32BE((leg.ts += 160) >>> 0, 4);
            leg.socket.send(packet, leg.port, '127.0.0.1');
          }
        }
      }, 5);
    })();
  });
} else {
  const legs = Number(process.argv[2] ?? 100);
  const seconds = Number(process.argv[3] ?? 10);
  const channels: RtpMediaChannel[] = [];
  const sockets = await Promise.all(Array.from({ length: legs }, () => bindRtpSocket('127.0.0.1', { min: 0, max: 0 })));
  const child = fork(new URL(import.meta.url).pathname, ['peer'], { execArgv: ['--import', 'tsx'] });
  const peerPorts = await new Promise<number[]>((resolve) => {
    child.once('message', (m: { ports: number[] }) => resolve(m.ports));
    child.send({ ports: sockets.map((s) => s.address().port) });
  });
  let framesIn = 0;
  const tone = new Uint8Array(8000).map((_, i) => (i % 13) + 20); // 1 s of non-silent μ-law
  sockets.forEach((socket, i) => {
    const channel = new RtpMediaChannel({
      carrierCallId: `leg-${i}`,
      socket,
      codec: pcmuCodec(),
      media: {
        codec: 'PCMU',
        payloadType: 0,
        clockRate: 8000,
        channels: 1,
        telephoneEventPayloadType: 101,
        remoteAddress: '127.0.0.1',
        remotePort: peerPorts[i] as number,
        direction: 'sendrecv',
        remotePtimeMs: 20,
      },
      rtpTimeoutMs: 60_000,
    });
    channel.setHandler({ audio: () => framesIn++, mark: () => {}, dtmf: () => {}, closed: () => {} });
    channel.start();
    channels.push(channel);
  });
  // Keep every channel talking: top up one second of audio each second (like a TTS stream would).
  const feed = () => channels.forEach((c) => c.sendAudio(tone));
  feed();
  const feeder = setInterval(feed, 1000);
  await new Promise((r) => setTimeout(r, 2000)); // warm-up
  // Probe: how late the shared clock's ticks are on this machine (the floor for any pacing).
  const gaps: number[] = [];
  let lastTick = performance.now();
  let probing = true;
  sharedMediaClock.activate({
    tick: (now) => {
      gaps.push(now - lastTick);
      lastTick = now;
      return probing;
    },
  });
  const before = process.cpuUsage();
  const stats0 = channels.map((c) => ({ ...c.stats, jitter: { ...c.stats.jitter } }));
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(before);
  probing = false;
  gaps.sort((a, b) => a - b);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const sum = (pick: (c: RtpMediaChannel, i: number) => number) => channels.reduce((n, c, i) => n + pick(c, i), 0);
  const slots = sum((c, i) => c.stats.packetsSent - (stats0[i] as RtpMediaChannel['stats']).packetsSent);
  const result = {
    legs,
    seconds: Number((wallMs / 1000).toFixed(2)),
    cpuMsPerSecondPerCall: Number((cpuMs / (wallMs / 1000) / legs).toFixed(3)),
    corePercentPerCall: Number(((cpuMs / wallMs / legs) * 100).toFixed(3)),
    callsPerCore: Math.floor(wallMs / (cpuMs / legs)),
    packetsSent: slots,
    lateFramesPercent: Number(
      ((sum((c, i) => c.stats.lateFrames - (stats0[i] as RtpMediaChannel['stats']).lateFrames) / slots) * 100).toFixed(3),
    ),
    skippedSlots: sum((c, i) => c.stats.skippedSlots - (stats0[i] as RtpMediaChannel['stats']).skippedSlots),
    jitterLate: sum((c) => c.stats.jitter.late),
    jitterLost: sum((c) => c.stats.jitter.lost),
    framesDelivered: framesIn,
    clockTickGapP50Ms: Number((gaps[Math.floor(gaps.length * 0.5)] ?? 0).toFixed(1)),
    clockTickGapP99Ms: Number((gaps[Math.floor(gaps.length * 0.99)] ?? 0).toFixed(1)),
    loadAverage: (await import('node:os')).loadavg()[0],
  };
  console.log(JSON.stringify(result));
  clearInterval(feeder);
  for (const c of channels) c.close('bench over');
  child.kill();
}
