/** Drives a TtsService stream in tests and collects what it reports. */
import type { AudioPayload } from '../../../src/pipeline/audio-payload.ts';
import type { TtsAudioFormat } from '../../../src/services/tts/audio-format.ts';
import type { TtsError, TtsService, TtsStream, TtsStreamEvent, TtsWord } from '../../../src/services/tts/tts-service.ts';
import { concat, samplesOf } from './audio-checks.ts';

export interface StreamRecord {
  stream: TtsStream;
  events: TtsStreamEvent[];
  /** Resolves with the terminal event (`done` or `error`). */
  ended: Promise<TtsStreamEvent>;
  audio(): AudioPayload[];
  pcm(): Int16Array;
  words(): TtsWord[];
  error(): TtsError | undefined;
  /** `performance.now()` of the first audio event. */
  firstAudioAt: number | undefined;
}

export function record(service: TtsService, utteranceId: string, format: TtsAudioFormat): StreamRecord {
  const events: TtsStreamEvent[] = [];
  let resolveEnded!: (event: TtsStreamEvent) => void;
  const ended = new Promise<TtsStreamEvent>((resolve) => (resolveEnded = resolve));
  const rec: StreamRecord = {
    stream: undefined as unknown as TtsStream,
    events,
    ended,
    firstAudioAt: undefined,
    audio: () => events.flatMap((e) => (e.type === 'audio' ? [e.audio] : [])),
    pcm: () => concat(rec.audio().map(samplesOf)),
    words: () => events.flatMap((e) => (e.type === 'words' ? e.words : [])),
    error: () => events.flatMap((e) => (e.type === 'error' ? [e.error] : []))[0],
  };
  rec.stream = service.createStream({ utteranceId, format }, (event) => {
    if (event.type === 'audio' && rec.firstAudioAt === undefined) rec.firstAudioAt = performance.now();
    events.push(event);
    if (event.type === 'done' || event.type === 'error') resolveEnded(event);
  });
  return rec;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Words must be in order, non-overlapping and inside the audio. */
export function checkWordTimeline(words: TtsWord[], durationSec: number): void {
  let previousEnd = 0;
  for (const word of words) {
    if (word.startSec < previousEnd - 0.002) throw new Error(`word "${word.word}" starts before the previous one ends`);
    if (word.endSec < word.startSec) throw new Error(`word "${word.word}" ends before it starts`);
    if (word.endSec > durationSec + 0.002) throw new Error(`word "${word.word}" ends after the audio (${durationSec}s)`);
    previousEnd = word.endSec;
  }
}
