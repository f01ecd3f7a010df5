import { createHash, randomUUID } from 'node:crypto';
import type { SpeechMatch, SpeechMatcher, SpeechRegistry } from '../speech-registry.ts';
import { SPEECH_SAMPLE_RATE } from '../speech-registry.ts';
import { ListenAudioDecoder } from './deepgram-emulator-audio.ts';
import type { ListenParams } from './deepgram-emulator-params.ts';
import { modelInfo } from './deepgram-emulator-params.ts';

/** A match starting this far into its line (0.1 s) continues the line rather than repeating it from the top. */
const RESUME_MIN_LINE_OFFSET = 800;
/** …when it starts within 1 s of an earlier match of the same line… */
const RESUME_MAX_GAP = 8000;
/** …and the line has slipped by at most 0.1 s (a few frames repeated or dropped). */
const RESUME_MAX_SHIFT = 800;
/**
 * The "recogniser" behind one emulated Deepgram live connection.
 *
 * It decodes the audio it receives, runs an energy VAD on 20 ms frames, and identifies what was said by
 * matching the bytes against the {@link SpeechRegistry} (8 kHz μ-law, or 8 kHz linear16 re-encoded). Words
 * come from the matched line with their times moved onto this connection's stream timeline. Everything is
 * driven by stream time (audio received), not wall time, so audio sent faster than real time gives the same
 * results sooner.
 *
 * Result policy (mirrors Deepgram Nova live):
 * - interim (`is_final:false`) whenever new words' audio has fully arrived, at most every `interimIntervalSec`
 *   of stream time; transcript = all unfinalised words of the segment;
 * - `is_final` + `speech_final` once speech is followed by `endpointing` ms of quiet;
 * - `is_final` (not speech_final) when a segment reaches `maxSegmentSec` (cut at the last complete word), or
 *   after `maxSegmentSec` of pure silence (empty transcript), or after 500 ms of quiet when endpointing=false;
 * - `Finalize` flushes: `is_final`, `from_finalize:true`, if any unfinalised audio was received;
 * - `UtteranceEnd` (needs interim_results + utterance_end_ms) once the gap after the last word reaches
 *   utterance_end_ms; `SpeechStarted` (vad_events) at each speech onset.
 *
 * Unknown speech (loud frames no registered line accounts for): by default the results stay empty, like
 * Deepgram on noise; with `unknownSpeechText` set, finals carry that text as one word spanning the speech.
 */
export interface RecognizerOptions {
  registry: SpeechRegistry;
  /** Frame RMS (16-bit scale) at or above which a 20 ms frame is speech. @default 300 */
  speechRms?: number;
  /** Text reported for speech that matches no registered line; '' reports nothing. @default '' */
  unknownSpeechText?: string;
  /** Longest segment before an `is_final` is forced. @default 5 */
  maxSegmentSec?: number;
  /** Minimum stream time between interim results. @default 0.25 */
  interimIntervalSec?: number;
}

export type ServerMessage = Record<string, unknown>;

interface Occurrence {
  match: SpeechMatch;
  /** Index of the line's next word not yet finalised. */
  next: number;
}

interface WordOut {
  word: string;
  start: number;
  end: number;
  confidence: number;
  punctuated_word?: string;
}

interface PendingWord {
  occ: Occurrence;
  index: number;
  start: number;
  end: number;
  text: string;
}

const round = (x: number) => Math.round(x * 1000) / 1000;
const plainWord = (w: string) => w.toLowerCase().replace(/[^\p{L}\p{N}']+/gu, '');

function wordConfidence(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) % 997;
  return round(0.95 + (h % 50) / 1000);
}

export class ListenRecognizer {
  readonly requestId: string;
  readonly modelUuid = randomUUID();
  readonly created = new Date().toISOString();
  private readonly decoder: ListenAudioDecoder;
  /** Sample rate in effect (from the query, or from a WAV header when no encoding was given). */
  private sampleRate: number;
  private readonly channels: number;
  private readonly speechRms: number;
  private readonly unknownSpeechText: string;
  private readonly maxSegmentSec: number;
  private readonly interimIntervalSec: number;
  private readonly sha = createHash('sha256');
  private readonly matcher: SpeechMatcher | null;
  private readonly occurrences: Occurrence[] = [];
  /** The last few matches, to tell matched from unknown speech. */
  private readonly recentMatches: SpeechMatch[] = [];

  private samples = 0; // per channel, processed in whole frames
  private frameSamples: number;
  private frameFill = 0;
  private frameEnergy = 0;
  private channelPhase = 0;

  private speaking = false;
  private speechInSegment = false;
  private quietMs = 0;
  private segStart = 0;
  private lastInterimAt = -Infinity;
  private lastInterimWords = 0;
  private lastHeardWordEnd = -1;
  private utteranceEndSentFor = -1;
  /** Loud frames of the current segment no matched line covers: [startPos, endPos] in samples. */
  private unmatchedLoud: Array<[number, number]> = [];

  constructor(
    private readonly params: ListenParams,
    options: RecognizerOptions & { requestId?: string },
    private readonly send: (message: ServerMessage) => void,
  ) {
    this.requestId = options.requestId ?? randomUUID();
    this.decoder = new ListenAudioDecoder(params);
    this.sampleRate = this.decoder.sampleRate;
    this.channels = params.channels;
    this.speechRms = options.speechRms ?? 300;
    this.unknownSpeechText = options.unknownSpeechText ?? '';
    this.maxSegmentSec = options.maxSegmentSec ?? 5;
    this.interimIntervalSec = options.interimIntervalSec ?? 0.25;
    this.frameSamples = Math.max(1, Math.round(this.sampleRate / 50));
    // Lines are matched on 8 kHz mono μ-law (or linear16 re-encoded); a WAV container may still turn out so.
    const matchable =
      this.channels === 1 &&
      (params.encoding === undefined ||
        (this.sampleRate === SPEECH_SAMPLE_RATE && (params.encoding === 'mulaw' || params.encoding === 'linear16')));
    this.matcher = matchable ? options.registry.createMatcher() : null;
    if (this.matcher) this.matcher.onMatch = (match) => this.onMatch(match);
  }

  /** Seconds of audio received (per channel). */
  get durationSec(): number {
    return this.samples / this.sampleRate;
  }

  /** Feeds one binary message. Returns false when the audio cannot be decoded (Deepgram closes with DATA-0000). */
  audio(chunk: Uint8Array): boolean {
    this.sha.update(chunk);
    const decoded = this.decoder.decode(chunk);
    if (decoded === false) return false;
    if (decoded === null) return true; // container header still incomplete
    if (this.sampleRate !== this.decoder.sampleRate) {
      // A WAV header set the rate.
      this.sampleRate = this.decoder.sampleRate;
      this.frameSamples = Math.max(1, Math.round(this.sampleRate / 50));
    }
    if (decoded.mulaw && this.matcher && this.sampleRate === SPEECH_SAMPLE_RATE) this.matcher.push(decoded.mulaw);
    this.ingest(decoded.pcm);
    return true;
  }

  /** `{"type":"Finalize"}`: flush whatever was received and not finalised yet. */
  finalize(): void {
    if (this.durationSec > this.segStart) this.emitFinal(this.durationSec, { fromFinalize: true, flush: true });
  }

  /** `{"type":"CloseStream"}`: final results for everything received, then the caller sends {@link metadata}. */
  closeStream(): void {
    if (this.durationSec > this.segStart) {
      this.emitFinal(this.durationSec, { speechFinal: this.speechInSegment, flush: true });
    }
  }

  metadata(): ServerMessage {
    return {
      type: 'Metadata',
      transaction_key: 'deprecated',
      request_id: this.requestId,
      sha256: this.sha.copy().digest('hex'),
      created: this.created,
      duration: round(this.durationSec),
      channels: this.channels,
      models: [this.modelUuid],
      model_info: { [this.modelUuid]: modelInfo(this.params.model) },
    };
  }

  // ── recognition ───────────────────────────────────────────────────────────────────────────────────

  private onMatch(match: SpeechMatch): void {
    const occ: Occurrence = { match, next: 0 };
    // Skip words whose audio began before the stream did (never heard on this connection), and words in audio
    // an earlier match already accounted for: identical audio in two lines (a repeated word) can match the
    // wrong line first, and this match's backward extension then covers the same bytes again.
    // The same line picked up again mid-line soon after an earlier match of it broke off (a jitter buffer concealed,
    // repeated or dropped a frame, maybe shifting the rest of the line): the line goes on where that match stopped,
    // in the line's own coordinates — the word at the break is heard once, not twice and not never.
    const resumesMidLine = match.fromPos - match.lineStartPos > RESUME_MIN_LINE_OFFSET;
    const resumed = this.recentMatches.filter(
      (m) =>
        resumesMidLine &&
        m.line.id === match.line.id &&
        match.fromPos - m.toPos <= RESUME_MAX_GAP &&
        Math.abs(match.lineStartPos - m.lineStartPos) <= RESUME_MAX_SHIFT, // a slip, not a lock elsewhere in the line
    );
    if (resumed.length > 0) {
      for (const m of resumed) while (occ.next < match.line.words.length && this.midPos(m, occ.next) < m.toPos) occ.next++;
    } else {
      let from = match.fromPos;
      for (const m of this.recentMatches) from = Math.max(from, m.toPos);
      while (occ.next < match.line.words.length && this.midPos(match, occ.next) < from) occ.next++;
    }
    this.occurrences.push(occ);
    this.recentMatches.push(match);
    if (this.recentMatches.length > 16) this.recentMatches.shift();
  }

  private midPos(match: SpeechMatch, index: number): number {
    const w = match.line.words[index];
    if (!w) return Infinity;
    return match.lineStartPos + ((w.startSec + w.endSec) / 2) * SPEECH_SAMPLE_RATE;
  }

  private ingest(pcm: Int16Array): void {
    const step = this.channels;
    let i = this.channelPhase;
    for (; i < pcm.length; i += step) {
      const s = pcm[i] as number;
      this.frameEnergy += s * s;
      if (++this.frameFill === this.frameSamples) {
        const rms = Math.sqrt(this.frameEnergy / this.frameSamples);
        this.frameFill = 0;
        this.frameEnergy = 0;
        this.samples += this.frameSamples;
        this.onFrame(rms >= this.speechRms);
      }
    }
    this.channelPhase = i - pcm.length;
  }

  private onFrame(loud: boolean): void {
    const t = this.durationSec;
    const frameSec = this.frameSamples / this.sampleRate;
    if (loud) {
      if (!this.speaking) {
        this.speaking = true;
        if (this.params.vadEvents) this.send({ type: 'SpeechStarted', channel: [0], timestamp: round(t - frameSec) });
      }
      this.speechInSegment = true;
      this.quietMs = 0;
      this.noteUnmatched(t - frameSec, t);
    } else {
      this.quietMs += frameSec * 1000;
      const endpointing = this.params.endpointingMs;
      if (this.speaking && endpointing !== false && this.quietMs >= Math.max(endpointing, frameSec * 1000)) {
        this.speaking = false;
        this.emitFinal(t, { speechFinal: true });
      } else if (this.speaking && endpointing === false && this.quietMs >= 500) {
        this.speaking = false;
        this.emitFinal(t, {});
      }
    }

    if (this.params.interimResults && t - this.lastInterimAt >= this.interimIntervalSec) this.maybeInterim(t);
    if (t - this.segStart >= this.maxSegmentSec) this.cutLongSegment(t);

    const utteranceEndMs = this.params.utteranceEndMs;
    if (
      utteranceEndMs !== undefined &&
      this.params.interimResults &&
      this.lastHeardWordEnd > this.utteranceEndSentFor &&
      (t - this.lastHeardWordEnd) * 1000 >= utteranceEndMs
    ) {
      this.utteranceEndSentFor = this.lastHeardWordEnd;
      this.send({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: round(this.lastHeardWordEnd) });
    }
  }

  /** Remembers loud audio no matched line accounts for (checked lazily: matches lock a frame or two late). */
  private noteUnmatched(startSec: number, endSec: number): void {
    if (this.unknownSpeechText === '') return;
    const last = this.unmatchedLoud[this.unmatchedLoud.length - 1];
    const start = startSec * this.sampleRate;
    const end = endSec * this.sampleRate;
    if (last && last[1] === start) last[1] = end;
    else this.unmatchedLoud.push([start, end]);
  }

  /** Words whose audio has arrived and that are not finalised yet, in stream order. */
  private pendingWords(flush: boolean, untilSec = Infinity): PendingWord[] {
    const out: PendingWord[] = [];
    for (const occ of this.occurrences) {
      const { match } = occ;
      const words = match.line.words;
      for (let i = occ.next; i < words.length; i++) {
        const w = words[i] as (typeof words)[number];
        const startPos = match.lineStartPos + w.startSec * SPEECH_SAMPLE_RATE;
        const endPos = match.lineStartPos + w.endSec * SPEECH_SAMPLE_RATE;
        const mid = (startPos + endPos) / 2;
        const arrived = endPos <= match.toPos || ((flush || !match.active) && mid < match.toPos);
        if (!arrived || endPos / SPEECH_SAMPLE_RATE > untilSec + 1e-9) break;
        out.push({ occ, index: i, start: startPos / SPEECH_SAMPLE_RATE, end: endPos / SPEECH_SAMPLE_RATE, text: w.word });
      }
    }
    return out;
  }

  private maybeInterim(t: number): void {
    const words = this.pendingWords(false);
    if (words.length <= this.lastInterimWords) return;
    this.lastInterimWords = words.length;
    this.lastInterimAt = t;
    this.noteHeard(words);
    this.send(this.results(words, this.segStart, t, { isFinal: false }));
  }

  private cutLongSegment(t: number): void {
    if (!this.speechInSegment) {
      this.emitFinal(t, {});
      return;
    }
    const words = this.pendingWords(false);
    const last = words[words.length - 1];
    if (last && last.end > this.segStart) this.emitFinal(last.end, { untilSec: last.end });
    else if (t - this.segStart >= 2 * this.maxSegmentSec) this.emitFinal(t, {});
  }

  private emitFinal(endSec: number, how: { speechFinal?: boolean; fromFinalize?: boolean; flush?: boolean; untilSec?: number }): void {
    const words = this.pendingWords(how.flush ?? false, how.untilSec);
    for (const w of words) w.occ.next = w.index + 1;
    this.noteHeard(words);
    const out = this.formatWords(words);
    const unknown = this.unknownSpeech(endSec);
    if (unknown && out.length === 0) out.push(unknown);
    this.send(
      this.results(words, this.segStart, endSec, {
        isFinal: true,
        speechFinal: how.speechFinal ?? false,
        fromFinalize: how.fromFinalize ?? false,
        formatted: out,
      }),
    );
    this.segStart = endSec;
    this.speechInSegment = this.speaking && how.untilSec !== undefined;
    this.lastInterimWords = 0;
    this.lastInterimAt = -Infinity;
    this.prune();
  }

  private noteHeard(words: PendingWord[]): void {
    const last = words[words.length - 1];
    if (last && last.end > this.lastHeardWordEnd) this.lastHeardWordEnd = last.end;
  }

  /** A placeholder word for loud audio no line covers (only with `unknownSpeechText`). */
  private unknownSpeech(endSec: number): WordOut | null {
    if (this.unknownSpeechText === '' || this.unmatchedLoud.length === 0) return null;
    const covered = (a: number, b: number) => this.recentMatches.some((m) => m.fromPos <= a && m.toPos >= b);
    const spans = this.unmatchedLoud.filter(([a, b]) => !covered(a, b));
    this.unmatchedLoud = this.unmatchedLoud.filter(([, b]) => b > endSec * this.sampleRate);
    const total = spans.reduce((sum, [a, b]) => sum + (b - a), 0) / this.sampleRate;
    const first = spans[0];
    const last = spans[spans.length - 1];
    if (total < 0.1 || !first || !last) return null;
    const text = this.unknownSpeechText;
    const word: WordOut = {
      word: plainWord(text) || text,
      start: round(first[0] / this.sampleRate),
      end: round(last[1] / this.sampleRate),
      confidence: 0.5,
    };
    if (this.params.punctuate || this.params.smartFormat) word.punctuated_word = text;
    return word;
  }

  /** Drops occurrences that can yield no more words. */
  private prune(): void {
    for (let i = this.occurrences.length - 1; i >= 0; i--) {
      const occ = this.occurrences[i] as Occurrence;
      const done = occ.next >= occ.match.line.words.length || (!occ.match.active && this.midPos(occ.match, occ.next) >= occ.match.toPos);
      if (done) this.occurrences.splice(i, 1);
    }
  }

  private formatWords(words: PendingWord[]): WordOut[] {
    const punctuate = this.params.punctuate || this.params.smartFormat;
    return words.map((w) => {
      const out: WordOut = {
        word: plainWord(w.text) || w.text,
        start: round(w.start),
        end: round(w.end),
        confidence: wordConfidence(w.text),
      };
      if (punctuate) out.punctuated_word = w.text;
      return out;
    });
  }

  private results(
    words: PendingWord[],
    start: number,
    end: number,
    how: { isFinal: boolean; speechFinal?: boolean; fromFinalize?: boolean; formatted?: WordOut[] },
  ): ServerMessage {
    const formatted = how.formatted ?? this.formatWords(words);
    const punctuate = this.params.punctuate || this.params.smartFormat;
    const transcript = formatted.map((w) => (punctuate ? (w.punctuated_word ?? w.word) : w.word)).join(' ');
    const confidence = formatted.length === 0 ? 0 : round(Math.min(...formatted.map((w) => w.confidence)));
    return {
      type: 'Results',
      channel_index: [0, 1],
      duration: round(Math.max(0, end - start)),
      start: round(start),
      is_final: how.isFinal,
      speech_final: how.speechFinal ?? false,
      channel: { alternatives: [{ transcript, confidence, words: formatted }] },
      metadata: { request_id: this.requestId, model_info: modelInfo(this.params.model), model_uuid: this.modelUuid },
      from_finalize: how.fromFinalize ?? false,
    };
  }
}
