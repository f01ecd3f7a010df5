/**
 * RFC 4733 telephone-events: receiving (one digit per event, identified by its RTP timestamp, so repeated and
 * end packets and a missing marker bit do not matter) and building the packets to send one digit.
 */

const EVENT_DIGITS = '0123456789*#ABCD';

export function dtmfDigitForEvent(event: number): string | undefined {
  return EVENT_DIGITS[event];
}

export function dtmfEventForDigit(digit: string): number | undefined {
  const index = EVENT_DIGITS.indexOf(digit.toUpperCase());
  return index < 0 ? undefined : index;
}

export interface TelephoneEvent {
  event: number;
  end: boolean;
  volume: number;
  duration: number;
}

export function parseTelephoneEvent(payload: Uint8Array): TelephoneEvent | undefined {
  if (payload.length < 4) return undefined;
  const flags = payload[1] as number;
  return {
    event: payload[0] as number,
    end: (flags & 0x80) !== 0,
    volume: flags & 0x3f,
    duration: ((payload[2] as number) << 8) | (payload[3] as number),
  };
}

export function writeTelephoneEvent(out: Uint8Array, event: TelephoneEvent): void {
  out[0] = event.event;
  out[1] = (event.end ? 0x80 : 0) | (event.volume & 0x3f);
  out[2] = (event.duration >> 8) & 0xff;
  out[3] = event.duration & 0xff;
}

/** Turns a stream of telephone-event packets into digits, once per event. */
export class DtmfReceiver {
  private lastTimestamp: number | undefined;
  private lastSsrc: number | undefined;
  /** Packets that carried an event we do not map to a digit (tones such as flash, fax). */
  ignored = 0;

  /** Returns the digit when this packet starts a new event, else undefined. */
  receive(payload: Uint8Array, timestamp: number, ssrc: number): string | undefined {
    const event = parseTelephoneEvent(payload);
    if (!event) return undefined;
    // One event = one timestamp (RFC 4733 §2.5.1.2); its start packet may lack the marker or be lost.
    if (timestamp === this.lastTimestamp && ssrc === this.lastSsrc) return undefined;
    this.lastTimestamp = timestamp;
    this.lastSsrc = ssrc;
    const digit = dtmfDigitForEvent(event.event);
    if (digit === undefined) this.ignored++;
    return digit;
  }
}

/** One packet of an outgoing digit, as the sender's 20 ms slots produce them. */
export interface DtmfPacketPlan {
  event: number;
  /** Duration field (in RTP clock units, from the event's start). */
  duration: number;
  end: boolean;
  /** First packet of the event: the marker bit is set. */
  first: boolean;
}

export interface DtmfSendOptions {
  /** Tone length. @default 100 */
  toneMs?: number;
  /** Silence after each digit (audio slots) before the next. @default 60 */
  gapMs?: number;
  /** @default 10 (−10 dBm0) */
  volume?: number;
}

/**
 * The packets that send `digits`: per digit, one packet every 20 ms while the tone lasts (duration growing),
 * then the end packet three times (RFC 4733 §2.5.1.4), then `gapMs` of ordinary audio slots (null).
 */
export function planDtmf(digits: string, clockRate: number, options: DtmfSendOptions = {}): Array<DtmfPacketPlan | null> {
  const toneMs = options.toneMs ?? 100;
  const gapMs = options.gapMs ?? 60;
  const unitsPerFrame = (clockRate / 1000) * 20;
  const plan: Array<DtmfPacketPlan | null> = [];
  for (const digit of digits) {
    const event = dtmfEventForDigit(digit);
    if (event === undefined) continue;
    const frames = Math.max(1, Math.round(toneMs / 20));
    for (let i = 1; i <= frames; i++) plan.push({ event, duration: i * unitsPerFrame, end: false, first: i === 1 });
    for (let i = 0; i < 3; i++) plan.push({ event, duration: frames * unitsPerFrame, end: true, first: false });
    for (let i = 0; i < Math.round(gapMs / 20); i++) plan.push(null);
  }
  return plan;
}
