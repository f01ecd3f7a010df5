/**
 * What a participant waiting in a conference that has not started hears in the emulator.
 *
 * Twilio's default `waitUrl` is its hold-music twimlet (classical music from an S3 bucket); the emulator cannot
 * fetch that, so it plays a generated stand-in (a guess at the *kind* of sound, not Twilio's audio): a soft
 * four-note arpeggio of sine tones, about −20 dBFS, looping every 2.4 s, with no gaps (hold music does not pause).
 * A `waitUrl` of our own is fetched: a WAV (8 kHz mono, μ-law or 16-bit PCM) is looped as is.
 */
import { mulawEncode } from '../../../audio/g711.ts';
import { readWav } from '../../../audio/wav.ts';

const RATE = 8000;
const FRAME = 160;
const NOTE_MS = 600;
/** C5, E5, G5, E5. */
const NOTES_HZ = [523.25, 659.25, 783.99, 659.25];
const LEVEL = 32767 * 10 ** (-17 / 20);

/** 2.4 s of the generated hold melody, 8 kHz μ-law (whole 20 ms frames). */
export function generatedHoldMusic(): Uint8Array {
  const noteSamples = (NOTE_MS / 1000) * RATE;
  const pcm = new Int16Array(noteSamples * NOTES_HZ.length);
  NOTES_HZ.forEach((hz, n) => {
    for (let i = 0; i < noteSamples; i++) {
      // A gentle swell within each note, never silent (the dips stay above −30 dBFS).
      const envelope = 0.45 + 0.55 * Math.sin((Math.PI * i) / noteSamples);
      const t = i / RATE;
      const sample = LEVEL * envelope * (0.8 * Math.sin(2 * Math.PI * hz * t) + 0.2 * Math.sin(4 * Math.PI * hz * t));
      pcm[n * noteSamples + i] = Math.round(sample);
    }
  });
  return mulawEncode(pcm);
}

/** Loops μ-law audio frame by frame. */
export class AudioLoop {
  private offset = 0;

  constructor(private readonly audio: Uint8Array) {
    if (audio.length < FRAME) throw new RangeError('hold audio shorter than one 20 ms frame');
  }

  next(): Uint8Array {
    const frame = new Uint8Array(FRAME);
    for (let i = 0; i < FRAME; i++) {
      frame[i] = this.audio[this.offset] as number;
      this.offset = (this.offset + 1) % this.audio.length;
    }
    return frame;
  }
}

let generated: Uint8Array | undefined;

/** The generated hold melody, made once. */
export function defaultHoldMusic(): Uint8Array {
  generated ??= generatedHoldMusic();
  return generated;
}

/**
 * Fetches a `waitUrl`: a WAV is played as is; TwiML whose first `<Play>` names a WAV plays that; anything else is
 * reported in `warning` (the caller keeps the generated melody). The request is unsigned and carries no
 * conference parameters (Twilio's has both: not emulated).
 */
export async function fetchWaitAudio(url: string, method: 'GET' | 'POST'): Promise<{ audio: Uint8Array | null; warning?: string }> {
  try {
    const response = await fetch(url, { method, signal: AbortSignal.timeout(5000) });
    if (!response.ok) return { audio: null, warning: `waitUrl ${url} answered HTTP ${response.status}` };
    const bytes = new Uint8Array(await response.arrayBuffer());
    const type = response.headers.get('content-type') ?? '';
    if (type.startsWith('audio/') || (bytes[0] === 0x52 && bytes[1] === 0x49)) return wavAudio(bytes, url);
    const play = /<Play[^>]*>([^<]+)<\/Play>/.exec(new TextDecoder().decode(bytes))?.[1]?.trim();
    if (!play) return { audio: null, warning: `waitUrl ${url}: only audio files and TwiML <Play> are emulated` };
    const audio = await fetch(new URL(play, url), { signal: AbortSignal.timeout(5000) });
    if (!audio.ok) return { audio: null, warning: `waitUrl <Play> ${play} answered HTTP ${audio.status}` };
    return wavAudio(new Uint8Array(await audio.arrayBuffer()), play);
  } catch (error) {
    return { audio: null, warning: `waitUrl ${url} failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function wavAudio(bytes: Uint8Array, url: string): { audio: Uint8Array | null; warning?: string } {
  try {
    const wav = readWav(bytes);
    if (wav.sampleRate !== RATE || wav.channels !== 1 || wav.samples.length < FRAME) {
      return { audio: null, warning: `hold audio ${url}: only 8 kHz mono WAV is emulated` };
    }
    return { audio: mulawEncode(wav.samples) };
  } catch (error) {
    return { audio: null, warning: `hold audio ${url}: ${error instanceof Error ? error.message : String(error)} (only WAV is emulated)` };
  }
}
