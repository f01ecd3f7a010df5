/**
 * Cartesia TTS over the official SDK's WebSocket (`@cartesia/cartesia-js`): one socket per call, one
 * context per utterance (`context_id` = utterance id) continued across sentences (`continue: true`),
 * `no_more_inputs` at the end, `cancel` on barge-in, word timestamps from `add_timestamps`. After a pause
 * longer than Cartesia keeps a context (1 s), the utterance goes on in a new context on the same timeline
 * (see `cartesia-stream.ts`).
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
import type { GenerationConfig, RawOutputFormat } from '@cartesia/cartesia-js/resources/tts';
import { systemClock, type Clock } from '../../util/clock.ts';
import { CartesiaStream, type CartesiaStreamHost } from './cartesia-stream.ts';
import { TtsError, type TtsService, type TtsStream, type TtsStreamListener, type TtsStreamOptions } from './tts-service.ts';

const require = createRequire(import.meta.url);
// Loaded on first use (the first call's TTS), not when this module is imported: an idle process does not need the SDK.
let sdkModules: { sdk: typeof import('@cartesia/cartesia-js'); ws: typeof import('@cartesia/cartesia-js/resources/tts/ws') } | undefined;
function cartesiaSdk(): NonNullable<typeof sdkModules> {
  sdkModules ??= {
    sdk: require('@cartesia/cartesia-js') as typeof import('@cartesia/cartesia-js'),
    ws: require('@cartesia/cartesia-js/resources/tts/ws') as typeof import('@cartesia/cartesia-js/resources/tts/ws'),
  };
  return sdkModules;
}

/** Cartesia's stock "friendly" English voice, spoken when none is configured. */
export const CARTESIA_DEFAULT_VOICE = 'a0e99841-438c-4a64-b679-ae501e7d6091';
export const CARTESIA_DEFAULT_MODEL = 'sonic-3';
/** The REST root; the SDK derives `wss://…/tts/websocket` from it. */
export const CARTESIA_DEFAULT_BASE_URL = 'https://api.cartesia.ai';

export interface CartesiaTtsOptions {
  apiKey: string;
  /** Cartesia voice id (a UUID). @default CARTESIA_DEFAULT_VOICE */
  voiceId?: string;
  /** @default CARTESIA_DEFAULT_MODEL ('sonic-3') */
  modelId?: string;
  /** API base URL; the WebSocket is `<base>/tts/websocket` over wss. @default process.env.CARTESIA_BASE_URL ?? CARTESIA_DEFAULT_BASE_URL */
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
  /**
   * A context that has answered its last input and been silent (nothing sent, nothing received) this long
   * is not continued: the next text opens a new context. Below Cartesia's 1 s expiry by a margin for the
   * network round trip; an input that still reaches an expired context is sent again on a new one.
   * @default 750
   */
  reopenAfterIdleMs?: number;
  /** How long after its last audio Cartesia keeps a context (documented: 1 s). @default 1000 */
  contextExpiryMs?: number;
  /** Time source for the context idle and expiry clocks. @default systemClock */
  clock?: Clock;
}

export class CartesiaTtsService implements TtsService {
  readonly provider = 'cartesia';
  private readonly client: CartesiaClient;
  private socket: Promise<TTSWS> | undefined;
  private readonly streams = new Set<CartesiaStream>();
  private closed = false;
  private readonly host: CartesiaStreamHost = {
    openContext: (socket, contextId, native) =>
      socket.context({
        contextId,
        model_id: this.options.modelId ?? CARTESIA_DEFAULT_MODEL,
        voice: { mode: 'id', id: this.options.voiceId ?? CARTESIA_DEFAULT_VOICE },
        output_format: { container: 'raw', encoding: native.cartesiaEncoding, sample_rate: native.sampleRate } as RawOutputFormat,
        add_timestamps: true,
        language: (this.options.language ?? 'en') as 'en',
        max_buffer_delay_ms: this.options.maxBufferDelayMs ?? 0,
      }),
    push: (context: TTSWSContext, transcript: string) => {
      const config = this.options.generationConfig;
      return context.push({ transcript, ...(config ? { generation_config: config } : {}) });
    },
    wrap: (error, utteranceId) => this.wrap(error, utteranceId),
    forget: (stream) => this.streams.delete(stream),
  };

  constructor(private readonly options: CartesiaTtsOptions) {
    this.client = new (cartesiaSdk().sdk.Cartesia)({
      apiKey: options.apiKey,
      baseURL: options.baseUrl ?? process.env.CARTESIA_BASE_URL ?? CARTESIA_DEFAULT_BASE_URL,
    });
  }

  async connect(): Promise<void> {
    await this.connection();
  }

  createStream(options: TtsStreamOptions, listener: TtsStreamListener): TtsStream {
    const stream = new CartesiaStream(options, listener, this.host, {
      reopenAfterIdleMs: this.options.reopenAfterIdleMs ?? 750,
      expiryMs: this.options.contextExpiryMs ?? 1000,
      clock: this.options.clock ?? systemClock,
    });
    this.streams.add(stream);
    this.connection().then(
      (socket) => {
        if (!stream.closed) stream.start(socket);
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

  /** Turns SDK/socket failures into TtsErrors. */
  private wrap(error: unknown, utteranceId: string | undefined): TtsError {
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
    const socket = new (cartesiaSdk().ws.TTSWS)(this.client, {
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
