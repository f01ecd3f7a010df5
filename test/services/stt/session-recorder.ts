import type { SttError, SttSession, SttTranscript } from '../../../src/services/stt/stt-service.ts';

/** Everything an STT session reported, in order of arrival. */
export interface SessionRecorder {
  transcripts: SttTranscript[];
  errors: SttError[];
  /** Seconds replayed by each reconnection. */
  reconnected: number[];
  speechStarted: number[];
  utteranceEnds: number[];
  /** Non-empty final texts. */
  finals: () => string[];
}

export function recordSession(s: SttSession): SessionRecorder {
  const r: SessionRecorder = {
    transcripts: [],
    errors: [],
    reconnected: [],
    speechStarted: [],
    utteranceEnds: [],
    finals: () => r.transcripts.filter((t) => t.final && t.text !== '').map((t) => t.text),
  };
  s.on('transcript', (t) => r.transcripts.push(t));
  s.on('error', (e) => r.errors.push(e));
  s.on('reconnected', (e) => r.reconnected.push(e.replayedSec));
  s.on('speechStarted', (e) => r.speechStarted.push(e.atSec));
  s.on('utteranceEnd', (e) => r.utteranceEnds.push(e.lastWordEndSec));
  return r;
}
