/**
 * G.711 μ-law and A-law codecs (ITU-T G.711), table-driven for the real-time path.
 *
 * Decoding uses a 256-entry table per law. Encoding uses a 65,536-entry table indexed by the 16-bit sample
 * (`sample & 0xffff`), so the hot loop is one load and one store per sample.
 *
 * G.711 is defined on 14-bit (μ-law) and 13-bit (A-law) linear input. We reduce 16-bit input to that width by
 * rounding to nearest (ties upward), which is what `sox` does, rather than truncating like the classic Sun
 * reference code (truncation maps e.g. -1 to the code for -8 and biases every step by half an LSB). The tests
 * check every 16-bit input against sox byte for byte.
 */

const ULAW_BIAS = 33; // in 14-bit units (0x84 >> 2)
const ULAW_CLIP = 8159; // largest 14-bit magnitude μ-law can represent

/** Encodes one 16-bit sample to μ-law (used to build the table; prefer {@link mulawEncode} for buffers). */
function mulawEncodeSample(sample: number): number {
  // Round 16 → 14 bits: floor((x + 2) / 4), saturating at the 14-bit maximum.
  let linear = Math.min((sample + 2) >> 2, 8191);
  let mask = 0xff;
  if (linear < 0) {
    linear = -linear;
    mask = 0x7f;
  }
  const biased = Math.min(linear, ULAW_CLIP) + ULAW_BIAS; // 33 … 8192
  // Segment (exponent) = position of the highest set bit above bit 5; 8192 overflows to segment 8 → max code.
  const segment = 31 - Math.clz32(biased) - 5;
  if (segment >= 8) return 0x7f ^ mask;
  const mantissa = (biased >> (segment + 1)) & 0x0f;
  return ((segment << 4) | mantissa) ^ mask;
}

/** Decodes one μ-law byte to a 16-bit sample. */
function mulawDecodeSample(code: number): number {
  const u = ~code & 0xff;
  const segment = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << segment) - 0x84;
  return u & 0x80 ? -magnitude : magnitude;
}

/** Encodes one 16-bit sample to A-law. */
function alawEncodeSample(sample: number): number {
  // Round 16 → 13 bits: floor((x + 4) / 8), saturating at the 13-bit maximum.
  let linear = Math.min((sample + 4) >> 3, 4095);
  let mask = 0xd5; // positive: sign bit set, even bits inverted
  if (linear < 0) {
    mask = 0x55;
    linear = -linear - 1; // A-law is symmetric around -0.5 LSB
  }
  const segment = linear < 32 ? 0 : 31 - Math.clz32(linear) - 4; // 0 … 7 (linear ≤ 4095)
  const mantissa = segment < 2 ? (linear >> 1) & 0x0f : (linear >> segment) & 0x0f;
  return ((segment << 4) | mantissa) ^ mask;
}

/** Decodes one A-law byte to a 16-bit sample. */
function alawDecodeSample(code: number): number {
  const a = code ^ 0x55;
  const segment = (a >> 4) & 0x07;
  let magnitude = (a & 0x0f) << 4;
  if (segment === 0) magnitude += 8;
  else magnitude = (magnitude + 0x108) << (segment - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

function buildDecodeTable(decode: (code: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let code = 0; code < 256; code++) table[code] = decode(code);
  return table;
}

function buildEncodeTable(encode: (sample: number) => number): Uint8Array {
  const table = new Uint8Array(65536);
  for (let sample = -32768; sample < 32768; sample++) table[sample & 0xffff] = encode(sample);
  return table;
}

const MULAW_DECODE_TABLE = buildDecodeTable(mulawDecodeSample);
const ALAW_DECODE_TABLE = buildDecodeTable(alawDecodeSample);
const MULAW_ENCODE_TABLE = buildEncodeTable(mulawEncodeSample);
const ALAW_ENCODE_TABLE = buildEncodeTable(alawEncodeSample);

/** μ-law byte for digital silence (0); useful for filling comfort-noise-free gaps. */
export const MULAW_SILENCE = MULAW_ENCODE_TABLE[0] as number;
/** A-law byte for digital silence (0). */
export const ALAW_SILENCE = ALAW_ENCODE_TABLE[0] as number;

function outputFor<T extends Int16Array | Uint8Array>(length: number, out: T | undefined, make: (n: number) => T): T {
  if (out === undefined) return make(length);
  if (out.length < length) {
    throw new RangeError(`G.711 output buffer too small: need ${length} samples, got ${out.length}`);
  }
  return out.length === length ? out : (out.subarray(0, length) as T);
}

function decodeWith(table: Int16Array, src: Uint8Array, out: Int16Array | undefined): Int16Array {
  const dst = outputFor(src.length, out, (n) => new Int16Array(n));
  for (let i = 0; i < src.length; i++) dst[i] = table[src[i] as number] as number;
  return dst;
}

function encodeWith(table: Uint8Array, src: Int16Array, out: Uint8Array | undefined): Uint8Array {
  const dst = outputFor(src.length, out, (n) => new Uint8Array(n));
  for (let i = 0; i < src.length; i++) dst[i] = table[(src[i] as number) & 0xffff] as number;
  return dst;
}

/**
 * Decodes μ-law bytes to 16-bit PCM. Pass `out` (at least `src.length` long) to avoid allocating; the result is
 * `out` itself, or a view of its first `src.length` samples.
 */
export function mulawDecode(src: Uint8Array, out?: Int16Array): Int16Array {
  return decodeWith(MULAW_DECODE_TABLE, src, out);
}

/** Encodes 16-bit PCM to μ-law. `out` works as in {@link mulawDecode}. */
export function mulawEncode(src: Int16Array, out?: Uint8Array): Uint8Array {
  return encodeWith(MULAW_ENCODE_TABLE, src, out);
}

/** Decodes A-law bytes to 16-bit PCM. `out` works as in {@link mulawDecode}. */
export function alawDecode(src: Uint8Array, out?: Int16Array): Int16Array {
  return decodeWith(ALAW_DECODE_TABLE, src, out);
}

/** Encodes 16-bit PCM to A-law. `out` works as in {@link mulawDecode}. */
export function alawEncode(src: Int16Array, out?: Uint8Array): Uint8Array {
  return encodeWith(ALAW_ENCODE_TABLE, src, out);
}
