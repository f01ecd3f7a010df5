import type { SpeechLineInput } from '../../../src/sandbox/speech-registry.ts';
import { synthesizeMulaw8k, type SpeechOptions } from '../../../src/services/tts/offline/espeak-voice.ts';

/** μ-law digital silence. */
export const SILENCE = 0xff;
const RATE = 8000;

export function silence(sec: number): Uint8Array {
  return new Uint8Array(Math.round(sec * RATE)).fill(SILENCE);
}

/** A scripted line as real speech from the offline voice (8 kHz μ-law + word timings), as a callee would say it. */
export async function speakLine(text: string, options: SpeechOptions = {}): Promise<SpeechLineInput> {
  const { mulaw, words } = await synthesizeMulaw8k(text, options);
  return { text, mulaw, words };
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends `audio` in 20 ms frames (160 bytes) at `speed` × real time (yielding to the event loop every 100 ms of
 * audio), calling `send(frame, atSec)` for each.
 */
export async function streamFrames(
  audio: Uint8Array,
  send: (frame: Uint8Array, atSec: number) => void,
  options: { speed?: number; startSec?: number; frameBytes?: number } = {},
): Promise<void> {
  const speed = options.speed ?? 10;
  const frameBytes = options.frameBytes ?? 160;
  const startSec = options.startSec ?? 0;
  const batch = Math.max(1, Math.round(800 / frameBytes));
  for (let i = 0, n = 0; i < audio.length; i += frameBytes, n++) {
    send(audio.subarray(i, i + frameBytes), startSec + i / RATE);
    if (n % batch === batch - 1) await sleep(100 / speed);
  }
}
