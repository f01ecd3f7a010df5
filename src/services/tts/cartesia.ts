/**
 * Cartesia TTS over the official SDK's WebSocket (`@cartesia/cartesia-js`): one socket per call, one
 * context per utterance (`context_id` = utterance id) continued across sentences (`continue: true`),
 * `no_more_inputs` at the end, `cancel` on barge-in, word timestamps from `add_timestamps`.
 *
 * The SDK always connects with `wss:` (it rewrites the base URL's scheme), so a local emulator must serve
 * TLS; pass its certificate as `tls.ca`. TLS checks are never disabled globally.
 *
 * The SDK's ESM build loads `ws` with `require`, which does not exist in ESM, so the SDK is loaded through
 * `createRequire` (its CommonJS build, same code).
 */
import { createRequire } from 'node:module';
import type { Cartesia as CartesiaClient } from '@cartesia/cartesia-js';
import type { TTSWS, TTSWSContext } from '@cartesia/cartesia-js/resources/tts/ws';
import type { GenerationConfig, WebsocketResponse } from '@cartesia/cartesia-js/resources/tts';
import { AudioConverter, type TtsAudioFormat } from './audio-format.ts';
import { BaseTtsStream, TtsError, type TtsService, type TtsStream, type TtsStreamListener, type TtsStreamOptions } from './tts-service.ts';

const require = createRequire(import.meta.url);
const sdk = require('@cartesia/cartesia-js') as typeof import('@cartesia/cartesia-js');
const sdkWs = require('@cartesia/cartesia-js/resources/tts/ws') as typeof import('@cartesia/cartesia-js/resources/tts/ws');

export interface CartesiaTtsOptions {
  apiKey: string;
  /** Cartesia voice id (a UUID). */
  voiceId: string;
  /** @default 'sonic-3' */
  modelId?: string;
  /** API base URL; the WebSocket is `<base>/tts/websocket` over wss. @default process.env.CARTESIA_BASE_URL ?? 'https://api.cartesia.ai' */
  baseUrl?: string;
  /** @default 'en' */
  language?: string;
  /**
   * How long Cartesia may wait for more text before generating (0–5000). We send whole sentences, so
   * waiting gains little and costs first-audio latency.
   * @default 0
   */
  maxBufferDelayMs?: number;
  /** Sonic-3 generation settings (speed 0.6–1.5, volume 0.5–2.0, emotion). @default undefined (provider defaults) */
  generationConfig?: GenerationConfig;
  /**
   * TLS trust for this connection only: `ca` adds a trusted certificate (e.g. the emulator's);
   * `rejectUnauthorized: false` accepts any certificate (sandbox only).
   * @default system CAs, certificates verified
   */
  tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean };
  /** WebSocket handshake timeout. @default 10_000 */
  connectTimeoutMs?: number;
}

/** Cartesia's native raw formats: μ-law or 16-bit PCM at its listed rates; anything else is converted. */
function nativeFormat(format: TtsAudioFormat): { encoding: 'pcm_mulaw' | 'pcm_s16le'; format: TtsAudioFormat } {
  const rates = [8000, 16000, 22050, 24000, 44100, 48000];
  if (rates.includes(format.sampleRate)) {
    return { encoding: format.encoding === 'mulaw' ? 'pcm_mulaw' : 'pcm_s16le', format };
  }
  return { encoding: 'pcm_s16le', format: { encoding: 'pcm16', sampleRate: 24000 } };
}

class CartesiaStream extends BaseTtsStream {
  private context: TTSWSContext | undefined;
  private socket: TTSWS | undefined;
  /** Sends in order; each waits for the context to exist. */
  private chain: Promise<void>;
  private attach!: (context: TTSWSContext) => void;
  private readonly converter: AudioConverter;
  private quiet = false;
  readonly native: ReturnType<typeof nativeFormat>;

  constructor(
    options: TtsStreamOptions,
    listener: TtsStreamListener,
    private readonly service: CartesiaTtsService,
    private readonly generationConfig: CartesiaTtsOptions['generationConfig'],
  ) {
    super(options.utteranceId, options.format, listener);
    this.native = nativeFormat(options.format);
    this.converter = new AudioConverter(this.native.format, options.format);
    this.chain = new Promise<TTSWSContext>((resolve) => (this.attach = resolve)).then(() => undefined);
  }

  /** Opens the provider context on a connected socket and starts reading its events. */
  start(socket: TTSWS, context: TTSWSContext): void {
    this.socket = socket;
    this.context = context;
    this.attach(context);
    void this.read(context);
  }

  /** The connection failed or dropped. */
  lost(error: TtsError): void {
    if (this.closed) return;
    if (this.context) this.socket?._unregisterContext(this.context.contextId);
    this.emitError(error);
  }

  protected sendText(text: string): void {
    const config = this.generationConfig;
    this.send((context) => context.push({ transcript: text, ...(config ? { generation_config: config } : {}) }));
  }

  protected sendFlush(): void {
    this.send((context) => context.flush());
  }

  protected sendFinish(): void {
    this.send((context) => context.no_more_inputs());
  }

  protected sendCancel(): void {
    if (this.quiet) {
      // The socket is closing anyway; sending would make the SDK reconnect just to deliver the cancel.
      if (this.context) this.socket?._unregisterContext(this.context.contextId);
    } else if (this.context) {
      // The SDK unregisters the context (ending our read loop) and sends {"cancel": true}.
      void this.context.cancel();
    }
    this.service.forget(this);
  }

  /** Cancels without telling the provider (the connection is being closed). */
  abandon(): void {
    this.quiet = true;
    this.cancel();
  }

  private send(action: (context: TTSWSContext) => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.closed || !this.context) return;
      await action(this.context);
    });
    this.chain.catch((error: unknown) => this.lost(this.service.wrap(error, this.utteranceId)));
  }

  private async read(context: TTSWSContext): Promise<void> {
    try {
      for await (const event of context.receive()) {
        if (this.closed) return;
        this.onEvent(event);
      }
    } catch (error) {
      // receive() throws after yielding an error event, which onEvent already reported.
      this.lost(this.service.wrap(error, this.utteranceId));
    }
  }

  private onEvent(event: WebsocketResponse): void {
    switch (event.type) {
      case 'chunk':
        this.emitAudio(this.converter.push(event.audio ?? Buffer.from(event.data, 'base64')));
        return;
      case 'timestamps': {
        const timestamps = event.word_timestamps;
        if (!timestamps) return;
        this.emitWords(timestamps.words.map((word, i) => ({ word, startSec: timestamps.start[i] ?? 0, endSec: timestamps.end[i] ?? 0 })));
        return;
      }
      case 'done':
        this.emitAudio(this.converter.flush());
        this.emitDone();
        this.service.forget(this);
        return;
      case 'error':
        this.emitError(
          new TtsError(event.message || event.title, {
            provider: 'cartesia',
            code: event.error_code ?? event.title ?? 'error',
            status: event.status_code,
            utteranceId: this.utteranceId,
          }),
        );
        this.service.forget(this);
        return;
      default:
        return; // flush_done, phoneme_timestamps
    }
  }
}

export class CartesiaTtsService implements TtsService {
  readonly provider = 'cartesia';
  private readonly client: CartesiaClient;
  private socket: Promise<TTSWS> | undefined;
  private readonly streams = new Set<CartesiaStream>();
  private closed = false;

  constructor(private readonly options: CartesiaTtsOptions) {
    this.client = new sdk.Cartesia({
      apiKey: options.apiKey,
      baseURL: options.baseUrl ?? process.env.CARTESIA_BASE_URL ?? 'https://api.cartesia.ai',
    });
  }

  async connect(): Promise<void> {
    await this.connection();
  }

  createStream(options: TtsStreamOptions, listener: TtsStreamListener): TtsStream {
    const stream = new CartesiaStream(options, listener, this, this.options.generationConfig);
    this.streams.add(stream);
    this.connection().then(
      (socket) => {
        if (stream.closed) return;
        const context = socket.context({
          contextId: stream.utteranceId,
          model_id: this.options.modelId ?? 'sonic-3',
          voice: { mode: 'id', id: this.options.voiceId },
          output_format: { container: 'raw', encoding: stream.native.encoding, sample_rate: stream.native.format.sampleRate as 8000 },
          add_timestamps: true,
          language: (this.options.language ?? 'en') as 'en',
          max_buffer_delay_ms: this.options.maxBufferDelayMs ?? 0,
        });
        stream.start(socket, context);
      },
      (error: unknown) => stream.lost(this.wrap(error, stream.utteranceId)),
    );
    return stream;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const stream of [...this.streams]) stream.abandon();
    this.streams.clear();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) socket.then((s) => s.close({ code: 1000, reason: 'call ended' })).catch(() => undefined);
  }

  /** @internal A stream reached a terminal state. */
  forget(stream: CartesiaStream): void {
    this.streams.delete(stream);
  }

  /** @internal Turns SDK/socket failures into TtsErrors. */
  wrap(error: unknown, utteranceId: string | undefined): TtsError {
    if (error instanceof TtsError) return error;
    const message = error instanceof Error ? error.message : String(error);
    const event = (error as { error?: { error_code?: string; status_code?: number } } | undefined)?.error;
    return new TtsError(message, {
      provider: 'cartesia',
      code: event?.error_code ?? (error as { code?: string } | undefined)?.code ?? 'connection_error',
      ...(event?.status_code !== undefined ? { status: event.status_code } : {}),
      ...(utteranceId !== undefined ? { utteranceId } : {}),
      cause: error,
    });
  }

  private connection(): Promise<TTSWS> {
    if (this.closed) return Promise.reject(new TtsError('service closed', { provider: 'cartesia', code: 'closed' }));
    if (this.socket) return this.socket;
    const socket = new sdkWs.TTSWS(this.client, {
      handshakeTimeout: this.options.connectTimeoutMs ?? 10_000,
      ...(this.options.tls?.ca !== undefined ? { ca: this.options.tls.ca } : {}),
      ...(this.options.tls?.rejectUnauthorized !== undefined ? { rejectUnauthorized: this.options.tls.rejectUnauthorized } : {}),
    });
    // Without an 'error' listener the SDK turns socket errors into unhandled rejections.
    socket.on('error', (error) => {
      if (error.error?.context_id) return; // a context's error event: its stream reports it
      this.dropped(socket, this.wrap(error, undefined).code, error.message);
    });
    socket.socket.addEventListener('close', (event: { code?: number; reason?: string }) => {
      const code = String(event.code ?? 'closed');
      this.dropped(socket, code, `connection closed (${code})${event.reason ? `: ${event.reason}` : ''}`);
    });
    const connecting = socket.connect().catch((error: unknown) => {
      if (this.socket === connecting) this.socket = undefined;
      throw this.wrap(error, undefined);
    });
    this.socket = connecting;
    return connecting;
  }

  /** The socket failed: every stream on it fails; the next stream connects again. */
  private dropped(socket: TTSWS, code: string, message: string): void {
    void this.socket?.then(
      (current) => {
        if (current === socket) this.socket = undefined;
      },
      () => undefined,
    );
    const streams = [...this.streams];
    this.streams.clear();
    for (const stream of streams) stream.lost(new TtsError(message, { provider: 'cartesia', code, utteranceId: stream.utteranceId }));
    try {
      socket.close({ code: 1000, reason: 'dropped' });
    } catch {
      // already closed
    }
  }
}
