import { alawDecode, mulawDecode } from '../../audio/g711.ts';
import type { SpeechMatch, SpeechMatcher, SpeechRegistry } from '../speech-registry.ts';
import { SPEECH_SAMPLE_RATE } from '../speech-registry.ts';
import { Pcm16StreamDecoder } from '../../audio/pcm.ts';

/** Input formats of a transcription session (`audio.input.format.type`). */
export type RealtimeInputFormat = 'audio/pcmu' | 'audio/pcma' | 'audio/pcm';

export interface RealtimeAudioOptions {
  registry: SpeechRegistry;
  /** Text reported for loud audio no registered line accounts for; '' reports nothing. @default '' */
  unknownSpeechText?: string;
}

/**
 * The "ears" of one emulated Realtime transcription connection: decodes what `input_audio_buffer.append`
 * delivers, reports the loudness of each 20 ms frame (for server VAD), and knows which registered lines the
 * audio carries so a committed span can be transcribed.
 *
 * Lines are recognised the way the Deepgram emulator does it: the bytes are matched against the
 * {@link SpeechRegistry} (8 kHz μ-law, i.e. `audio/pcmu` — the format telephony audio is sent in). A word belongs
 * to the span its audio's midpoint falls in. `audio/pcm` (24 kHz) and `audio/pcma` are heard (VAD works) but
 * not matched: their speech is reported as `unknownSpeechText`.
 *
 * Positions are sample offsets on this connection's stream (= bytes for pcmu/pcma).
 */
export class RealtimeAudio {
  readonly sampleRate: number;
  /** Samples received (whole frames processed are `framesDone * frameSamples`). */
  position = 0;
  private readonly matcher: SpeechMatcher | null;
  private readonly matches: SpeechMatch[] = [];
  private readonly unknownSpeechText: string;
  /** Loud frames no match explains (start positions), kept only with unknownSpeechText. */
  private readonly loudFrames: number[] = [];
  private readonly frameSamples: number;
  private frameFill = 0;
  private frameEnergy = 0;
  private readonly linear16 = new Pcm16StreamDecoder();

  constructor(
    readonly format: RealtimeInputFormat,
    options: RealtimeAudioOptions,
    /** Called per 20 ms frame with its RMS (16-bit scale) and the position just after it. */
    private readonly onFrame: (rms: number, endPos: number) => void,
  ) {
    this.sampleRate = format === 'audio/pcm' ? 24_000 : 8000;
    this.frameSamples = this.sampleRate / 50;
    this.unknownSpeechText = options.unknownSpeechText ?? '';
    this.matcher = format === 'audio/pcmu' ? options.registry.createMatcher() : null;
    if (this.matcher) this.matcher.onMatch = (match) => this.onMatch(match);
  }

  /** Milliseconds of a position. */
  ms(pos: number): number {
    return Math.round((pos / this.sampleRate) * 1000);
  }

  push(bytes: Uint8Array): void {
    if (this.matcher) this.matcher.push(bytes);
    const pcm =
      this.format === 'audio/pcmu' ? mulawDecode(bytes) : this.format === 'audio/pcma' ? alawDecode(bytes) : this.linear16.decode(bytes);
    for (let i = 0; i < pcm.length; i++) {
      const s = pcm[i] as number;
      this.frameEnergy += s * s;
      this.position++;
      if (++this.frameFill === this.frameSamples) {
        const rms = Math.sqrt(this.frameEnergy / this.frameSamples);
        this.frameFill = 0;
        this.frameEnergy = 0;
        this.onFrame(rms, this.position);
      }
    }
  }

  /** Notes a loud frame ending at `endPos` (for unknown-speech reporting). */
  noteLoud(endPos: number): void {
    if (this.unknownSpeechText !== '') this.loudFrames.push(endPos - this.frameSamples);
  }

  /**
   * The words of registered lines whose audio midpoint lies in [fromPos, toPos), in stream order; or the
   * unknown-speech text when loud audio there matched nothing.
   */
  wordsIn(fromPos: number, toPos: number): string[] {
    const words: Array<{ at: number; text: string }> = [];
    for (const match of this.matches) {
      for (const w of match.line.words) {
        const mid = match.lineStartPos + ((w.startSec + w.endSec) / 2) * SPEECH_SAMPLE_RATE;
        // Only audio this stream carried counts (a stream that began mid-line misses the earlier words).
        if (mid >= fromPos && mid < toPos && mid >= match.fromPos && mid < match.toPos) words.push({ at: mid, text: w.word });
      }
    }
    words.sort((a, b) => a.at - b.at);
    if (words.length === 0 && this.unknownSpeechText !== '') {
      const covered = (pos: number) => this.matches.some((m) => pos >= m.fromPos && pos < m.toPos);
      const loud = this.loudFrames.filter((pos) => pos >= fromPos && pos < toPos && !covered(pos));
      if (loud.length * 20 >= 100) return [this.unknownSpeechText];
    }
    this.forgetBefore(toPos);
    return words.map((w) => w.text);
  }

  private onMatch(match: SpeechMatch): void {
    // Identical audio in two lines can match the wrong one first; a later match's backward extension then
    // covers the same bytes again: keep only what earlier matches did not account for.
    for (const m of this.matches) match.fromPos = Math.max(match.fromPos, m.toPos);
    this.matches.push(match);
  }

  /** Spans are transcribed once, in order: what ends before `pos` is no longer needed. */
  private forgetBefore(pos: number): void {
    for (let i = this.matches.length - 1; i >= 0; i--) {
      const m = this.matches[i] as SpeechMatch;
      if (!m.active && m.toPos <= pos) this.matches.splice(i, 1);
    }
    while (this.loudFrames.length > 0 && (this.loudFrames[0] as number) < pos) this.loudFrames.shift();
  }
}
