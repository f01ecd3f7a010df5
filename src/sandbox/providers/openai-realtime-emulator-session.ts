import { randomBytes } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import type {
  ConversationItemInputAudioTranscriptionCompletedEvent,
  ConversationItemInputAudioTranscriptionDeltaEvent,
  LogProbProperties,
  RealtimeError,
  RealtimeServerEvent,
  RealtimeTranscriptionSessionCreateRequest,
} from 'openai/resources/realtime/realtime';
import type { SpeechRegistry } from '../speech-registry.ts';
import { RealtimeAudio } from './openai-realtime-emulator-audio.ts';
import { parseSessionUpdate, SessionUpdateError, type TranscriptionSessionConfig } from './openai-realtime-emulator-config.ts';

/** What the emulator saw on one connection (kept for every connection, for tests). */
export interface RealtimeEmulatorConnectionInfo {
  readonly id: number;
  readonly sessionId: string;
  /** Request path and query exactly as received. */
  readonly url: string;
  /** `session` objects of the `session.update` events received, as sent. */
  sessionUpdates: unknown[];
  appends: number;
  audioBytes: number;
  commits: number;
  pings: number;
  /** Events sent to the client, by `type`. */
  sent: Record<string, number>;
  /** Set when the socket closed; 1006 = dropped without a close frame. */
  closed: { code: number; reason: string } | null;
}

export interface RealtimeEmulatorSessionOptions {
  registry: SpeechRegistry;
  /** Time from a commit to the item's first transcription event. */
  ttfbMs: number;
  /** Time between deltas (and from the last delta to `completed`). */
  deltaIntervalMs: number;
  unknownSpeechText: string;
  /** Frame RMS (16-bit scale) that counts as speech at VAD threshold 0.5 (scaled linearly with it). */
  speechRms: number;
  /** Pending injected transcription failures (shared by the emulator's connections). */
  failures: Array<Partial<RealtimeError>>;
}

interface QueuedItem {
  itemId: string;
  words: string[];
  durationSec: number;
}

const eventId = () => `event_${randomBytes(10).toString('hex')}`;
const itemIdOf = () => `item_${randomBytes(10).toString('hex')}`;

/** A deterministic per-token logprob (a little lower for longer words), like a confident model's. */
function logprobOf(token: string): LogProbProperties {
  return { token, logprob: -0.002 * (1 + (token.length % 7)), bytes: [...Buffer.from(token)] };
}

/**
 * The server side of one Realtime transcription connection: session configuration, the input audio buffer
 * (append, commit, clear), server VAD, and transcription of each committed item into `delta` events then
 * `completed`, in commit order. See openai-realtime-emulator.ts for the protocol summary.
 */
export class RealtimeEmulatorSession {
  private config: TranscriptionSessionConfig;
  private audio: RealtimeAudio;
  private audioAppended = false;
  /** Where the input buffer starts (just after the last commit or clear), in samples. */
  private bufferStart = 0;
  private speech: { itemId: string; startPos: number; quietMs: number } | null = null;
  private lastItemId: string | null = null;
  private readonly queue: QueuedItem[] = [];
  private transcribing = false;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(
    private readonly ws: WebSocket,
    readonly info: RealtimeEmulatorConnectionInfo,
    private readonly options: RealtimeEmulatorSessionOptions,
    private readonly onAudio: () => void,
  ) {
    this.config = parseSessionUpdate(undefined, null);
    this.audio = this.newAudio();
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('ping', () => this.info.pings++);
    ws.on('close', (code, reason) => {
      info.closed = { code, reason: reason.toString() };
      this.dispose();
    });
    ws.on('error', () => {});
    this.send({ type: 'session.created', event_id: eventId(), session: this.sessionObject() });
  }

  /** Seconds of audio appended on this connection. */
  get audioSec(): number {
    return this.audio.position / this.audio.sampleRate;
  }

  /** Sends an `error` event as OpenAI does (the connection stays open). */
  sendError(error: Partial<RealtimeError>, clientEventId: string | null = null): void {
    this.send({
      type: 'error',
      event_id: eventId(),
      error: {
        type: error.type ?? 'invalid_request_error',
        code: error.code ?? null,
        message: error.message ?? 'An error occurred.',
        param: error.param ?? null,
        event_id: error.event_id ?? clientEventId,
      },
    });
  }

  /** Server-side close with a code (after an error event, as OpenAI ends a session it cannot continue). */
  close(code: number, reason: string): void {
    this.dispose();
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(code, reason.slice(0, 120));
  }

  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    let event: { type?: unknown; event_id?: unknown } & Record<string, unknown>;
    try {
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      event = JSON.parse(text) as typeof event;
      if (isBinary || typeof event !== 'object' || event === null) throw new Error('not an object');
    } catch {
      return this.sendError({
        code: 'invalid_json',
        message: 'The server could not parse the event: expected a JSON object in a text frame.',
      });
    }
    const clientEventId = typeof event.event_id === 'string' ? event.event_id : null;
    switch (event.type) {
      case 'session.update':
        return this.onSessionUpdate(event.session, clientEventId);
      case 'input_audio_buffer.append':
        return this.onAppend(event.audio, clientEventId);
      case 'input_audio_buffer.commit':
        return this.commit(clientEventId);
      case 'input_audio_buffer.clear':
        this.bufferStart = this.audio.position;
        this.speech = null;
        return this.send({ type: 'input_audio_buffer.cleared', event_id: eventId() });
      default:
        return this.sendError(
          {
            code: 'invalid_value',
            param: 'type',
            message: `Invalid value: '${String(event.type)}'. This transcription session does not support it.`,
          },
          clientEventId,
        );
    }
  }

  private onSessionUpdate(session: unknown, clientEventId: string | null): void {
    this.info.sessionUpdates.push(session);
    try {
      const next = parseSessionUpdate(session, this.config);
      if (next.format !== this.config.format && this.audioAppended) {
        throw new SessionUpdateError(
          'invalid_value',
          'session.audio.input.format',
          'The input audio format cannot change once audio was appended.',
        );
      }
      this.config = next;
      if (!this.audioAppended) this.audio = this.newAudio();
    } catch (error) {
      if (!(error instanceof SessionUpdateError)) throw error;
      return this.sendError({ code: error.code, param: error.param, message: error.message }, clientEventId);
    }
    this.send({ type: 'session.updated', event_id: eventId(), session: this.sessionObject() });
  }

  private onAppend(audio: unknown, clientEventId: string | null): void {
    if (typeof audio !== 'string') {
      return this.sendError(
        { code: 'missing_required_parameter', param: 'audio', message: "Missing required parameter: 'audio'." },
        clientEventId,
      );
    }
    const bytes = Buffer.from(audio, 'base64');
    this.info.appends++;
    this.info.audioBytes += bytes.length;
    this.audioAppended = true;
    this.audio.push(bytes);
    this.onAudio();
  }

  /** Server VAD, per 20 ms frame. */
  private onFrame(rms: number, endPos: number): void {
    const vad = this.config.turnDetection;
    if (!vad) return;
    const loud = rms >= this.options.speechRms * (vad.threshold / 0.5);
    if (loud) this.audio.noteLoud(endPos);
    const frameStart = endPos - this.audio.sampleRate / 50;
    if (loud && !this.speech) {
      const startPos = Math.max(this.bufferStart, frameStart - (vad.prefixPaddingMs / 1000) * this.audio.sampleRate);
      this.speech = { itemId: itemIdOf(), startPos, quietMs: 0 };
      this.send({
        type: 'input_audio_buffer.speech_started',
        event_id: eventId(),
        audio_start_ms: this.audio.ms(startPos),
        item_id: this.speech.itemId,
      });
    } else if (loud && this.speech) {
      this.speech.quietMs = 0;
    } else if (this.speech) {
      this.speech.quietMs += 20;
      if (this.speech.quietMs >= vad.silenceDurationMs) {
        const { itemId, startPos } = this.speech;
        this.speech = null;
        this.send({ type: 'input_audio_buffer.speech_stopped', event_id: eventId(), audio_end_ms: this.audio.ms(endPos), item_id: itemId });
        this.commitSpan(itemId, startPos, endPos);
      }
    }
  }

  /** `input_audio_buffer.commit`: the whole buffer becomes an item (an utterance VAD has open ends here). */
  private commit(clientEventId: string | null): void {
    this.info.commits++;
    const end = this.audio.position;
    const bufferedMs = ((end - this.bufferStart) / this.audio.sampleRate) * 1000;
    if (bufferedMs < 100) {
      return this.sendError(
        {
          code: 'input_audio_buffer_commit_empty',
          message: `Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has ${bufferedMs.toFixed(2)}ms of audio.`,
        },
        clientEventId,
      );
    }
    const open = this.speech;
    this.speech = null;
    this.commitSpan(open?.itemId ?? itemIdOf(), this.bufferStart, end);
  }

  private commitSpan(itemId: string, startPos: number, endPos: number): void {
    this.bufferStart = endPos;
    this.send({ type: 'input_audio_buffer.committed', event_id: eventId(), previous_item_id: this.lastItemId, item_id: itemId });
    this.lastItemId = itemId;
    if (!this.config.transcription) return; // transcription off: the item is kept, nothing is transcribed
    const words = this.audio.wordsIn(startPos, endPos);
    this.queue.push({ itemId, words, durationSec: (endPos - startPos) / this.audio.sampleRate });
    if (!this.transcribing) this.transcribeNext();
  }

  /** Transcribes queued items one after another: ttfb, a delta per word (one for whisper-1), completed. */
  private transcribeNext(): void {
    const item = this.queue.shift();
    this.transcribing = item !== undefined;
    if (!item) return;
    const model = this.config.transcription?.model ?? '';
    const base = { item_id: item.itemId, content_index: 0 };
    const failure = this.options.failures.shift();
    if (failure) {
      this.later(this.options.ttfbMs, () => {
        this.send({
          type: 'conversation.item.input_audio_transcription.failed',
          ...base,
          event_id: eventId(),
          error: {
            type: failure.type ?? 'server_error',
            code: failure.code ?? 'transcription_failed',
            message: failure.message ?? 'Transcription failed.',
            ...(failure.param ? { param: failure.param } : {}),
          },
        });
        this.transcribeNext();
      });
      return;
    }
    const pieces =
      model === 'whisper-1' ? (item.words.length > 0 ? [item.words.join(' ')] : []) : item.words.map((w, i) => (i === 0 ? w : ` ${w}`));
    const logprobs = this.config.logprobs;
    let delay = this.options.ttfbMs;
    for (const delta of pieces) {
      this.later(delay, () => {
        const event: ConversationItemInputAudioTranscriptionDeltaEvent = {
          type: 'conversation.item.input_audio_transcription.delta',
          ...base,
          event_id: eventId(),
          delta,
          ...(logprobs ? { logprobs: [logprobOf(delta)] } : {}),
        };
        this.send(event);
      });
      delay += this.options.deltaIntervalMs;
    }
    this.later(delay, () => {
      const transcript = pieces.join('');
      const outputTokens = pieces.length;
      const audioTokens = Math.ceil(item.durationSec * 10);
      const event: ConversationItemInputAudioTranscriptionCompletedEvent = {
        type: 'conversation.item.input_audio_transcription.completed',
        ...base,
        event_id: eventId(),
        transcript,
        usage:
          model === 'whisper-1'
            ? { type: 'duration', seconds: Math.round(item.durationSec * 100) / 100 }
            : {
                type: 'tokens',
                input_tokens: audioTokens,
                output_tokens: outputTokens,
                total_tokens: audioTokens + outputTokens,
                input_token_details: { audio_tokens: audioTokens, text_tokens: 0 },
              },
        ...(logprobs ? { logprobs: pieces.map(logprobOf) } : {}),
      };
      this.send(event);
      this.transcribeNext();
    });
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private newAudio(): RealtimeAudio {
    return new RealtimeAudio(
      this.config.format,
      { registry: this.options.registry, unknownSpeechText: this.options.unknownSpeechText },
      (rms, endPos) => this.onFrame(rms, endPos),
    );
  }

  /** The effective session as `session.created`/`updated` carry it (the request shape plus id, object, expiry). */
  private sessionObject(): RealtimeTranscriptionSessionCreateRequest & { id: string; object: string; expires_at: number } {
    const c = this.config;
    return {
      id: this.info.sessionId,
      object: 'realtime.transcription_session',
      type: 'transcription',
      expires_at: Math.floor(Date.now() / 1000) + 3600,
      audio: {
        input: {
          format: c.format === 'audio/pcm' ? { type: 'audio/pcm', rate: 24_000 } : { type: c.format },
          ...(c.noiseReduction ? { noise_reduction: { type: c.noiseReduction } } : {}),
          ...(c.transcription ? { transcription: c.transcription } : {}),
          turn_detection: c.turnDetection
            ? {
                type: 'server_vad',
                threshold: c.turnDetection.threshold,
                prefix_padding_ms: c.turnDetection.prefixPaddingMs,
                silence_duration_ms: c.turnDetection.silenceDurationMs,
              }
            : null,
        },
      },
      ...(c.logprobs ? { include: ['item.input_audio_transcription.logprobs'] } : {}),
    };
  }

  private send(event: RealtimeServerEvent): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.info.sent[event.type] = (this.info.sent[event.type] ?? 0) + 1;
    this.ws.send(JSON.stringify(event));
  }
}
