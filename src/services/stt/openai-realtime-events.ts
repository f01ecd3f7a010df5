import type { Logger } from '../../log.ts';
import type { ConnectionItems, TranscriptionItem } from './openai-realtime-items.ts';
import { OPENAI_STT_PROVIDER, confidenceFromLogprobs, errorFromEvent } from './openai-realtime-protocol.ts';
import type { RealtimeEventJson } from './openai-realtime-socket.ts';
import type { OutgoingAudio } from './outgoing-audio.ts';
import type { SttError, SttEvents } from './stt-service.ts';

/** What the translator needs to know about the connection an event came from. */
export interface ConnectionView {
  items: ConnectionItems;
  /** Stream position earlier connections had reported events up to when this one began its replay. */
  replayHorizonPos: number;
  sessionUpdateId: string;
  sentPos: number;
}

/** What the session has to do about an event beyond the session events already emitted. */
export type EventOutcome =
  | { kind: 'none' }
  | { kind: 'sessionCreated'; id: string | undefined }
  | { kind: 'ready' }
  | { kind: 'results' }
  | { kind: 'itemDone'; item: TranscriptionItem }
  | { kind: 'commitRefused' }
  | { kind: 'fatal'; error: SttError };

/** A speech start this close to what earlier connections reported is the same utterance, replayed. */
const REPLAY_START_TOLERANCE_SEC = 0.1;

type Logprobs = ReadonlyArray<{ logprob: number }> | null | undefined;

/**
 * Turns Realtime transcription server events into session events (transcripts, VAD events, errors) on the call
 * timeline, and tells the session what else an event means for it (ready, an item done, a fatal error).
 */
export class RealtimeEventTranslator {
  /** Stream position up to which any connection has reported events or results. */
  heardUntilPos = 0;

  constructor(
    private readonly context: {
      callId: string;
      audio: OutgoingAudio;
      events: SttEvents;
      log: Logger;
      /** Reported with every transcript; '' = none. */
      language: string;
      /** Server VAD's silence before `speech_stopped`. */
      silenceMs: number;
    },
  ) {}

  translate(conn: ConnectionView, event: RealtimeEventJson): EventOutcome {
    const { items } = conn;
    const { audio, events } = this.context;
    const itemId = typeof event.item_id === 'string' ? event.item_id : '';
    switch (event.type) {
      case 'session.created': {
        const id = (event.session as { id?: unknown } | undefined)?.id;
        return { kind: 'sessionCreated', id: typeof id === 'string' ? id : undefined };
      }
      case 'session.updated':
        return { kind: 'ready' };
      case 'input_audio_buffer.speech_started': {
        const pos = items.speechStarted(itemId, Number(event.audio_start_ms ?? 0));
        // Replayed audio whose speech start an earlier connection reported (its VAD may place it a little apart).
        if (conn.replayHorizonPos > 0 && pos <= conn.replayHorizonPos + audio.bytesPerSec * REPLAY_START_TOLERANCE_SEC) break;
        this.heardUntilPos = Math.max(this.heardUntilPos, pos);
        events.emit('speechStarted', { atSec: audio.callSec(pos) });
        break;
      }
      case 'input_audio_buffer.speech_stopped': {
        const pos = items.speechStopped(itemId, Number(event.audio_end_ms ?? 0));
        if (pos <= conn.replayHorizonPos) break;
        this.heardUntilPos = Math.max(this.heardUntilPos, pos);
        // audio_end_ms includes the silence VAD waited for; the last word ended about that much earlier.
        const lastWordPos = Math.max(items.get(itemId)?.startPos ?? 0, pos - (this.context.silenceMs / 1000) * audio.bytesPerSec);
        events.emit('utteranceEnd', { lastWordEndSec: audio.callSec(lastWordPos) });
        break;
      }
      case 'input_audio_buffer.committed':
        items.committed(itemId);
        break;
      case 'conversation.item.input_audio_transcription.delta': {
        this.emitTranscript(conn, items.delta(itemId, String(event.delta ?? ''), event.logprobs as Logprobs), false);
        return { kind: 'results' };
      }
      case 'conversation.item.input_audio_transcription.completed': {
        const item = items.completed(itemId, String(event.transcript ?? ''), event.logprobs as Logprobs);
        this.emitTranscript(conn, item, true);
        return { kind: 'itemDone', item };
      }
      case 'conversation.item.input_audio_transcription.failed': {
        const item = items.failed(itemId);
        const error = (event.error ?? {}) as { code?: string; message?: string; type?: string };
        this.emitError(
          errorFromEvent(
            {
              type: error.type ?? 'transcription_failed',
              code: error.code ?? null,
              message: `transcription of ${itemId} failed: ${error.message ?? ''}`,
            },
            { callId: this.context.callId, provider: OPENAI_STT_PROVIDER, aboutSessionUpdate: false },
          ),
        );
        return { kind: 'itemDone', item };
      }
      case 'error':
        return this.onError(conn, event);
      default:
        break;
    }
    return { kind: 'none' };
  }

  private onError(conn: ConnectionView, event: RealtimeEventJson): EventOutcome {
    const error = (event.error ?? {}) as {
      type?: string;
      code?: string | null;
      message?: string;
      param?: string | null;
      event_id?: string | null;
    };
    if (error.code === 'input_audio_buffer_commit_empty' && conn.items.commitRefused(error.event_id)) {
      // Nothing (new) to transcribe: server VAD had committed it already, or too little audio came since.
      this.context.log.debug({ eventId: error.event_id }, 'openai stt: commit refused, buffer empty');
      return { kind: 'commitRefused' };
    }
    const sttError = errorFromEvent(
      {
        type: error.type ?? 'server_error',
        code: error.code ?? null,
        message: error.message ?? 'unknown error',
        param: error.param ?? null,
        event_id: error.event_id ?? null,
      },
      { callId: this.context.callId, provider: OPENAI_STT_PROVIDER, aboutSessionUpdate: error.event_id === conn.sessionUpdateId },
    );
    if (sttError.fatal) return { kind: 'fatal', error: sttError };
    this.emitError(sttError);
    return { kind: 'none' };
  }

  private emitError(error: SttError): void {
    this.context.log.warn({ err: error }, 'openai stt: provider error');
    this.context.events.emit('error', error);
  }

  /** An item's text so far (interim) or its transcript (final), spanning the item's audio. */
  private emitTranscript(conn: ConnectionView, item: TranscriptionItem, final: boolean): void {
    const { audio, language } = this.context;
    const startPos = item.startPos ?? conn.items.bufferStartPos;
    const endPos = item.endPos ?? conn.sentPos;
    this.heardUntilPos = Math.max(this.heardUntilPos, endPos);
    this.context.events.emit('transcript', {
      text: item.text.trim(),
      final,
      speechFinal: final && !item.byClient,
      fromFinalize: final && item.byClient,
      confidence: confidenceFromLogprobs(item.logprobs.map((logprob) => ({ logprob }))) ?? 0, // 0 = unknown (logprobs off)
      ...(language ? { language } : {}),
      startSec: audio.callSec(startPos),
      endSec: audio.callSec(endPos),
      words: [], // OpenAI sends no word timings
    });
  }
}
