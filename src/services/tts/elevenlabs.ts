/**
 * ElevenLabs TTS over the multi-context WebSocket (`/v1/text-to-speech/{voice_id}/multi-stream-input`)
 * with our own `ws` client (the official SDK ships only the message types): one socket per call, one
 * context per utterance (`context_id` = utterance id). Text goes out as it comes (`auto_mode=true`: the
 * service generates at sentence ends instead of waiting for its chunk schedule); the end of an utterance is
 * `flush` + `close_context` (the flushed text is still spoken, then `isFinal`); barge-in is `close_context`
 * alone, which stops the context at once. Alignment (`charStartTimesMs` and `charDurationsMs`, relative to
 * each chunk) becomes word timings relative to the utterance's audio. Replies are read in camelCase or
 * snake_case (both spellings exist in the SDKs' serialisers; see {@link readServerMessage}).
 *
 * The output format is chosen per socket (query `output_format`), from the format the pipeline asks for
 * when connecting: `ulaw_8000` for 8 kHz μ-law, `pcm_<rate>` for PCM; a stream asking for another format
 * is converted locally.
 */
import { WebSocket, type RawData } from 'ws';
import { AudioConverter, type TtsAudioFormat } from './audio-format.ts';
import {
  BaseTtsStream,
  TtsError,
  type TtsService,
  type TtsStream,
  type TtsStreamListener,
  type TtsStreamOptions,
  type TtsWord,
} from './tts-service.ts';

export interface ElevenLabsVoiceSettings {
  stability?: number;
  similarity_boost?: number;
  style?: number;
  use_speaker_boost?: boolean;
  /** 0.7–1.2 */
  speed?: number;
}

/** ElevenLabs' stock "Rachel" voice, spoken when none is configured. */
export const ELEVENLABS_DEFAULT_VOICE = '21m00Tcm4TlvDq8ikWAM';
/** The lowest-latency model (Flash v2.5). */
export const ELEVENLABS_DEFAULT_MODEL = 'eleven_flash_v2_5';
export const ELEVENLABS_DEFAULT_BASE_URL = 'wss://api.elevenlabs.io';

export interface ElevenLabsTtsOptions {
  apiKey: string;
  /** @default ELEVENLABS_DEFAULT_VOICE */
  voiceId?: string;
  /** @default ELEVENLABS_DEFAULT_MODEL ('eleven_flash_v2_5') */
  modelId?: string;
  /** Service base URL (http(s) or ws(s)). @default process.env.ELEVENLABS_BASE_URL ?? ELEVENLABS_DEFAULT_BASE_URL */
  baseUrl?: string;
  /** ISO 639-1 language code for models that take one. @default undefined (model default) */
  languageCode?: string;
  /** Sent once per context, unchanged (the service rejects changes). @default undefined (voice defaults) */
  voiceSettings?: ElevenLabsVoiceSettings;
  /**
   * Socket output format, e.g. `ulaw_8000`, `pcm_16000`.
   * @default derived from the first requested format (`ulaw_8000` for 8 kHz μ-law, else `pcm_<rate>` if listed, else `pcm_24000`)
   */
  outputFormat?: string;
  /** Seconds the service keeps an idle socket (max 180). @default 180 */
  inactivityTimeoutSec?: number;
  /** Keep-alive period (`{"text": ""}` per open context, or for the socket). @default 10_000 */
  keepAliveIntervalMs?: number;
  /** WebSocket handshake timeout. @default 10_000 */
  connectTimeoutMs?: number;
  /** TLS trust for this connection only (emulator certificate as `ca`). @default system CAs, verified */
  tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean };
}

const PCM_RATES = [8000, 16000, 22050, 24000, 44100, 48000];

function socketFormatFor(format: TtsAudioFormat): string {
  if (format.encoding === 'mulaw' && format.sampleRate === 8000) return 'ulaw_8000';
  return PCM_RATES.includes(format.sampleRate) ? `pcm_${format.sampleRate}` : 'pcm_24000';
}

function parseSocketFormat(outputFormat: string): TtsAudioFormat {
  const [codec, rate] = outputFormat.split('_');
  if ((codec !== 'pcm' && codec !== 'ulaw') || !rate) {
    throw new TtsError(`unsupported output format ${outputFormat} (raw pcm_* or ulaw_8000 only)`, {
      provider: 'elevenlabs',
      code: 'unsupported_output_format',
    });
  }
  return { encoding: codec === 'ulaw' ? 'mulaw' : 'pcm16', sampleRate: Number(rate) };
}

interface Alignment {
  chars: string[];
  charStartTimesMs: number[];
  charDurationsMs: number[];
}

/** A server message with its keys in one spelling (see {@link readServerMessage}). */
interface ServerMessage {
  audio?: string | null;
  alignment?: Alignment;
  contextId?: string;
  isFinal?: boolean;
  message?: string;
  error?: string;
}

/**
 * Reads a server message in either spelling. The API reference and the SDKs' `FinalOutputMulti` /
 * `AudioOutputMulti` types use camelCase (`isFinal`, `contextId`, `normalizedAlignment`,
 * `charStartTimesMs`, `charDurationsMs`), but the SDKs' own serialisers map the same fields to snake_case
 * in places: elevenlabs-js 2.56.0 `src/serialization/types/WebsocketTtsServerMessageMulti.ts` maps
 * `isFinal` ↔ wire `"is_final"` (and elevenlabs-python 2.59.0 `types/websocket_tts_server_message_multi.py`
 * declares `is_final` without a camelCase alias); elevenlabs-js 2.0.1 `AudioOutputMulti` mapped `contextId` ↔
 * `"context_id"`; other elevenlabs-js snapshots (commits 157500b, 5a4564c) map `"is_final"`,
 * `"normalized_alignment"`, `"context_id"` and alignments as `"char_start_times_ms"` / `"char_durations_ms"`.
 * Older docs spell the durations `charsDurationsMs`. A client that reads one spelling
 * only never sees the end of a context when the service sends the other, so every spelling is accepted.
 */
function readServerMessage(raw: Record<string, unknown>): ServerMessage {
  const message: ServerMessage = {};
  const audio = raw.audio;
  if (typeof audio === 'string' || audio === null) message.audio = audio;
  const contextId = raw.contextId ?? raw.context_id;
  if (typeof contextId === 'string') message.contextId = contextId;
  const isFinal = raw.isFinal ?? raw.is_final;
  if (isFinal === true) message.isFinal = true;
  // The exact alignment matches the text as sent; the normalised one only when the other is missing.
  const alignment = readAlignment(raw.alignment) ?? readAlignment(raw.normalizedAlignment ?? raw.normalized_alignment);
  if (alignment) message.alignment = alignment;
  if (typeof raw.message === 'string') message.message = raw.message;
  if (typeof raw.error === 'string') message.error = raw.error;
  return message;
}

function readAlignment(value: unknown): Alignment | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const raw = value as Record<string, unknown>;
  const chars = raw.chars;
  if (!Array.isArray(chars)) return undefined;
  const starts = raw.charStartTimesMs ?? raw.char_start_times_ms;
  const durations = raw.charDurationsMs ?? raw.charsDurationsMs ?? raw.char_durations_ms ?? raw.chars_durations_ms;
  return {
    chars: chars.map(String),
    charStartTimesMs: Array.isArray(starts) ? starts.map(Number) : [],
    charDurationsMs: Array.isArray(durations) ? durations.map(Number) : [],
  };
}

class ElevenLabsStream extends BaseTtsStream {
  private converter: AudioConverter | undefined;
  /** Seconds of this context's audio received before the current chunk. */
  private offsetSec = 0;
  private word: TtsWord | undefined;
  private opened = false;

  /** The provider context exists (its initialisation message went out). */
  get contextOpened(): boolean {
    return this.opened;
  }

  constructor(
    options: TtsStreamOptions,
    listener: TtsStreamListener,
    private readonly service: ElevenLabsTtsService,
  ) {
    super(options.utteranceId, options.format, listener);
  }

  protected sendText(text: string): void {
    this.open();
    this.service.send({ text, context_id: this.utteranceId });
  }

  protected sendFlush(): void {
    if (this.opened) this.service.send({ context_id: this.utteranceId, flush: true });
  }

  protected sendFinish(): void {
    if (!this.opened) {
      this.emitDone();
      this.service.forget(this);
      return;
    }
    this.service.send({ context_id: this.utteranceId, flush: true });
    this.service.send({ context_id: this.utteranceId, close_context: true });
  }

  protected sendCancel(): void {
    if (this.opened) this.service.send({ context_id: this.utteranceId, close_context: true });
    this.service.forget(this);
  }

  /** Creates the context on first use with its initialisation message. */
  private open(): void {
    if (this.opened) return;
    this.opened = true;
    const settings = this.service.voiceSettings;
    this.service.send({ text: ' ', context_id: this.utteranceId, ...(settings ? { voice_settings: settings } : {}) });
  }

  onMessage(message: ServerMessage, socketFormat: TtsAudioFormat): void {
    if (this.closed) return;
    if (message.audio) {
      const bytes = Buffer.from(message.audio, 'base64');
      this.converter ??= new AudioConverter(socketFormat, this.format);
      if (message.alignment) this.align(message.alignment);
      this.offsetSec += bytes.length / (socketFormat.encoding === 'mulaw' ? 1 : 2) / socketFormat.sampleRate;
      this.emitAudio(this.converter.push(bytes));
    }
    if (message.isFinal) {
      this.emitAudio(this.converter?.flush());
      this.completeWord();
      if (this.state === 'finishing') this.emitDone();
      else {
        this.emitError(
          new TtsError('the service closed the context', { provider: 'elevenlabs', code: 'context_closed', utteranceId: this.utteranceId }),
        );
      }
      this.service.forget(this);
    }
  }

  lost(error: TtsError): void {
    this.emitError(error);
  }

  /** Characters → words: a word runs from its first character's start to its last character's end. */
  private align(alignment: Alignment): void {
    const { chars, charStartTimesMs: starts, charDurationsMs: durations } = alignment;
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i] as string;
      const startSec = this.offsetSec + (starts[i] ?? 0) / 1000;
      const endSec = startSec + (durations[i] ?? 0) / 1000;
      if (/^\s*$/.test(ch)) {
        this.completeWord();
        continue;
      }
      if (this.word) {
        this.word.word += ch;
        this.word.endSec = Math.max(this.word.endSec, endSec);
      } else {
        this.word = { word: ch, startSec, endSec };
      }
    }
  }

  private completeWord(): void {
    if (!this.word) return;
    const word = { ...this.word, startSec: round(this.word.startSec), endSec: round(this.word.endSec) };
    this.word = undefined;
    this.emitWords([word]);
  }
}

function round(sec: number): number {
  return Math.round(sec * 1000) / 1000;
}

export class ElevenLabsTtsService implements TtsService {
  readonly provider = 'elevenlabs';
  private socket: WebSocket | undefined;
  private opening: Promise<WebSocket> | undefined;
  private socketFormat: TtsAudioFormat | undefined;
  private readonly streams = new Map<string, ElevenLabsStream>();
  private readonly outbox: object[] = [];
  private keepAlive: ReturnType<typeof setInterval> | undefined;
  private lastError: ServerMessage | undefined;
  /** Transport error before a close (e.g. "Unexpected server response: 401" on the handshake). */
  private socketError: Error | undefined;
  private closed = false;

  constructor(private readonly options: ElevenLabsTtsOptions) {}

  get voiceSettings(): ElevenLabsVoiceSettings | undefined {
    return this.options.voiceSettings;
  }

  /** Connects; `format` (what streams will ask for) picks the socket's output format. */
  async connect(format?: TtsAudioFormat): Promise<void> {
    await this.connection(format ?? { encoding: 'mulaw', sampleRate: 8000 });
  }

  createStream(options: TtsStreamOptions, listener: TtsStreamListener): TtsStream {
    const stream = new ElevenLabsStream(options, listener, this);
    this.streams.get(options.utteranceId)?.cancel();
    this.streams.set(options.utteranceId, stream);
    this.connection(options.format).catch((error: unknown) => stream.lost(this.wrap(error, stream.utteranceId)));
    return stream;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const stream of [...this.streams.values()]) stream.cancel();
    this.streams.clear();
    clearInterval(this.keepAlive);
    const socket = this.socket;
    this.socket = undefined;
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ close_socket: true }));
      socket.close(1000);
    } else {
      socket?.terminate();
    }
  }

  /** @internal Queues a message; sent at once when the socket is open. */
  send(message: object): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
    else this.outbox.push(message);
  }

  /** @internal */
  forget(stream: ElevenLabsStream): void {
    if (this.streams.get(stream.utteranceId) === stream) this.streams.delete(stream.utteranceId);
  }

  private wrap(error: unknown, utteranceId: string | undefined): TtsError {
    if (error instanceof TtsError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new TtsError(message, {
      provider: 'elevenlabs',
      code: (error as { code?: string } | undefined)?.code ?? 'connection_error',
      ...(utteranceId !== undefined ? { utteranceId } : {}),
      cause: error,
    });
  }

  private url(outputFormat: string): string {
    const base = (this.options.baseUrl ?? process.env.ELEVENLABS_BASE_URL ?? ELEVENLABS_DEFAULT_BASE_URL).replace(/^http/, 'ws');
    const url = new URL(
      `v1/text-to-speech/${encodeURIComponent(this.options.voiceId ?? ELEVENLABS_DEFAULT_VOICE)}/multi-stream-input`,
      base.endsWith('/') ? base : `${base}/`,
    );
    url.searchParams.set('model_id', this.options.modelId ?? ELEVENLABS_DEFAULT_MODEL);
    url.searchParams.set('output_format', outputFormat);
    url.searchParams.set('inactivity_timeout', String(this.options.inactivityTimeoutSec ?? 180));
    url.searchParams.set('auto_mode', 'true');
    url.searchParams.set('sync_alignment', 'true');
    if (this.options.languageCode) url.searchParams.set('language_code', this.options.languageCode);
    return url.toString();
  }

  private connection(format: TtsAudioFormat): Promise<WebSocket> {
    if (this.closed) return Promise.reject(new TtsError('service closed', { provider: 'elevenlabs', code: 'closed' }));
    if (this.socket?.readyState === WebSocket.OPEN) return Promise.resolve(this.socket);
    if (this.opening) return this.opening;
    let outputFormat: string;
    try {
      outputFormat = this.options.outputFormat ?? socketFormatFor(format);
      this.socketFormat = parseSocketFormat(outputFormat);
    } catch (error) {
      return Promise.reject(error);
    }
    const socket = new WebSocket(this.url(outputFormat), {
      headers: { 'xi-api-key': this.options.apiKey },
      handshakeTimeout: this.options.connectTimeoutMs ?? 10_000,
      ...(this.options.tls?.ca !== undefined ? { ca: this.options.tls.ca } : {}),
      ...(this.options.tls?.rejectUnauthorized !== undefined ? { rejectUnauthorized: this.options.tls.rejectUnauthorized } : {}),
    });
    this.socket = socket;
    this.lastError = undefined;
    this.socketError = undefined;
    socket.on('message', (data) => this.onMessage(socket, data));
    socket.on('error', (error) => {
      if (socket === this.socket) this.socketError = error;
    });
    socket.on('close', (code, reason) => this.onClose(socket, code, reason.toString()));
    const opening = new Promise<WebSocket>((resolve, reject) => {
      socket.once('open', () => {
        for (const message of this.outbox.splice(0)) socket.send(JSON.stringify(message));
        this.startKeepAlive(socket);
        resolve(socket);
      });
      socket.once('error', (error) => reject(this.wrap(error, undefined)));
      socket.once('close', (code, reason) =>
        reject(new TtsError(`connection closed (${code}) ${reason.toString()}`.trim(), { provider: 'elevenlabs', code: String(code) })),
      );
    });
    this.opening = opening;
    const settle = () => {
      if (this.opening === opening) this.opening = undefined;
    };
    opening.then(settle, settle);
    return opening;
  }

  private startKeepAlive(socket: WebSocket): void {
    clearInterval(this.keepAlive);
    this.keepAlive = setInterval(() => {
      if (socket.readyState !== WebSocket.OPEN) return;
      // Only contexts still taking text: after close_context a keep-alive would open the context again.
      const open = [...this.streams.values()].filter((s) => s.state === 'open' && s.contextOpened);
      if (open.length === 0) socket.send(JSON.stringify({ text: '' }));
      for (const stream of open) socket.send(JSON.stringify({ text: '', context_id: stream.utteranceId }));
    }, this.options.keepAliveIntervalMs ?? 10_000);
    this.keepAlive.unref();
  }

  private onMessage(socket: WebSocket, data: RawData): void {
    if (socket !== this.socket || !this.socketFormat) return;
    let message: ServerMessage;
    try {
      const parsed: unknown = JSON.parse(data.toString());
      if (typeof parsed !== 'object' || parsed === null) return;
      message = readServerMessage(parsed as Record<string, unknown>);
    } catch {
      return;
    }
    if (message.contextId === undefined) {
      if (message.error || message.message) this.lastError = message; // the close that follows carries it
      return;
    }
    this.streams.get(message.contextId)?.onMessage(message, this.socketFormat);
  }

  private onClose(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    clearInterval(this.keepAlive);
    this.outbox.length = 0;
    const detail = this.lastError;
    const status = /Unexpected server response: (\d+)/.exec(this.socketError?.message ?? '')?.[1];
    const message = detail?.message ?? this.socketError?.message ?? (reason || `connection closed (${code})`);
    const errorCode = detail?.error ?? (status ? `http_${status}` : String(code));
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const stream of streams) {
      stream.lost(
        new TtsError(message, {
          provider: 'elevenlabs',
          code: errorCode,
          ...(status ? { status: Number(status) } : {}),
          utteranceId: stream.utteranceId,
        }),
      );
    }
  }
}
