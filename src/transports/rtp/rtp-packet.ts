/** RTP fixed header (RFC 3550 §5.1): parse without copying, write into a reused buffer. */

export const RTP_HEADER_BYTES = 12;

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  /** View into the datagram (valid until the next datagram). */
  payload: Uint8Array;
}

/** Parses an RTP datagram; undefined when it is not valid RTP version 2 (or is RTCP, PT 72–76 with marker). */
export function parseRtpPacket(data: Uint8Array): RtpPacket | undefined {
  if (data.length < RTP_HEADER_BYTES) return undefined;
  const b0 = data[0] as number;
  const b1 = data[1] as number;
  if (b0 >> 6 !== 2) return undefined;
  // RTCP on the RTP port (rtcp-mux peers): packet types 200–204 read as marker + PT 72–76.
  if (b1 >= 200 && b1 <= 204) return undefined;
  const csrcCount = b0 & 0x0f;
  let offset = RTP_HEADER_BYTES + csrcCount * 4;
  if (offset > data.length) return undefined;
  if (b0 & 0x10) {
    // Header extension: 4-byte header with its length in 32-bit words.
    if (offset + 4 > data.length) return undefined;
    const words = ((data[offset + 2] as number) << 8) | (data[offset + 3] as number);
    offset += 4 + words * 4;
    if (offset > data.length) return undefined;
  }
  let end = data.length;
  if (b0 & 0x20) {
    const padding = data[data.length - 1] as number;
    if (padding === 0 || end - padding < offset) return undefined;
    end -= padding;
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequence: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    payload: data.subarray(offset, end),
  };
}

/** Writes a 12-byte header (no CSRC, no extension, no padding) at the start of `out`. */
export function writeRtpHeader(out: Uint8Array, header: Omit<RtpPacket, 'payload'>): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[0] = 0x80;
  out[1] = (header.marker ? 0x80 : 0) | (header.payloadType & 0x7f);
  view.setUint16(2, header.sequence & 0xffff);
  view.setUint32(4, header.timestamp >>> 0);
  view.setUint32(8, header.ssrc >>> 0);
}

/** Signed distance a − b between 16-bit sequence numbers. */
export function sequenceDelta(a: number, b: number): number {
  return ((a - b + 0x8000) & 0xffff) - 0x8000;
}

/** Signed distance a − b between 32-bit timestamps. */
export function timestampDelta(a: number, b: number): number {
  return (a - b) | 0;
}
