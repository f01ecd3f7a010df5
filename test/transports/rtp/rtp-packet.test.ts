import { describe, expect, it } from 'vitest';
import { parseRtpPacket, sequenceDelta, timestampDelta, writeRtpHeader } from '../../../src/transports/rtp/rtp-packet.ts';

function packet(
  payload: number[],
  header: Partial<{ marker: boolean; payloadType: number; sequence: number; timestamp: number; ssrc: number }> = {},
): Uint8Array {
  const out = new Uint8Array(12 + payload.length);
  writeRtpHeader(out, { marker: false, payloadType: 0, sequence: 1, timestamp: 160, ssrc: 0xdeadbeef, ...header });
  out.set(payload, 12);
  return out;
}

describe('RTP packets', () => {
  it('round-trips the fixed header and payload', () => {
    const parsed = parseRtpPacket(packet([1, 2, 3], { marker: true, payloadType: 101, sequence: 65535, timestamp: 0xfffffff0, ssrc: 42 }));
    expect(parsed).toMatchObject({ marker: true, payloadType: 101, sequence: 65535, timestamp: 0xfffffff0, ssrc: 42 });
    expect([...(parsed?.payload ?? [])]).toEqual([1, 2, 3]);
  });

  it('skips CSRCs and header extensions, and strips padding', () => {
    const data = new Uint8Array([
      0xb1, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, /* csrc */ 0, 0, 0, 7, /* ext */ 0xbe, 0xde, 0, 1, 1, 2, 3, 4, /* payload */ 9, 9,
      /* padding */ 0, 2,
    ]);
    expect([...(parseRtpPacket(data)?.payload ?? [])]).toEqual([9, 9]);
  });

  it('rejects what is not RTP: short, wrong version, RTCP, lengths past the end', () => {
    expect(parseRtpPacket(new Uint8Array(11))).toBeUndefined();
    expect(parseRtpPacket(new Uint8Array([0x40, ...new Array(11).fill(0)]))).toBeUndefined();
    expect(parseRtpPacket(new Uint8Array([0x80, 200, ...new Array(10).fill(0)]))).toBeUndefined();
    expect(parseRtpPacket(new Uint8Array([0x8f, 0, ...new Array(10).fill(0)]))).toBeUndefined(); // 15 CSRCs announced
    expect(parseRtpPacket(new Uint8Array([0xa0, 0, ...new Array(10).fill(0), 5]))).toBeUndefined(); // padding > length
    expect(parseRtpPacket(new Uint8Array([0x90, 0, ...new Array(10).fill(0), 0xbe, 0xde, 0, 9]))).toBeUndefined();
  });

  it('compares sequence numbers and timestamps across wrap-around', () => {
    expect(sequenceDelta(2, 65534)).toBe(4);
    expect(sequenceDelta(65534, 2)).toBe(-4);
    expect(timestampDelta(100, 0xffffff00)).toBe(356);
  });
});

describe('RTP ports', () => {
  it('binds even ports inside the configured range', async () => {
    const { bindRtpSocket } = await import('../../../src/transports/rtp/rtp-socket.ts');
    const sockets = await Promise.all([1, 2, 3].map(() => bindRtpSocket('127.0.0.1', { min: 41_001, max: 41_050 })));
    for (const socket of sockets) {
      const { port } = socket.address();
      expect(port % 2).toBe(0);
      expect(port).toBeGreaterThanOrEqual(41_002);
      expect(port).toBeLessThanOrEqual(41_050);
      socket.close();
    }
  });
});
