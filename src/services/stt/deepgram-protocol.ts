import type { DeepgramClient } from '@deepgram/sdk';
import type { ReconnectSettings } from './reconnect-policy.ts';
import type { SttInputFormat } from './stt-service.ts';
import { SttError } from './stt-service.ts';

/**
 * Options of the Deepgram live service ({@link DeepgramSttService} in deepgram.ts), the query they become, and
 * how a connection's end is classified into an {@link SttError}.
 */
/** The model for telephone audio (8 kHz and below), used when none is configured. */
export const DEEPGRAM_DEFAULT_MODEL = 'nova-2-phonecall';
/** The model for wide-band audio (above 8 kHz). */
export const DEEPGRAM_WIDEBAND_MODEL = 'nova-3';

export interface DeepgramSttOptions {
  /** @default process.env.DEEPGRAM_API_KEY */
  apiKey?: string;
  /** WebSocket base URL, e.g. an emulator's `ws://127.0.0.1:PORT`. @default the SDK's `wss://api.deepgram.com` */
  baseUrl?: string;
  /** @default 'nova-2-phonecall' for input at 8 kHz or below, 'nova-3' above */
  model?: string;
  /** @default 'en-US' */
  language?: string;
  /** @default true */
  interimResults?: boolean;
  /** Silence (ms) before Deepgram marks `speech_final`; `false` disables endpointing. @default 300 */
  endpointingMs?: number | false;
  /** Gap after the last word before `UtteranceEnd` (sent only with interim results). `false` = none. @default 1000 */
  utteranceEndMs?: number | false;
  /** Deepgram's `SpeechStarted` events. @default true */
  vadEvents?: boolean;
  /** @default true */
  smartFormat?: boolean;
  /** @default true */
  punctuate?: boolean;
  /** Key-term prompting (Nova-3 only; repeated `keyterm`). @default [] */
  keyterms?: string[];
  /** Keyword boosting (Nova-2 and older; `word:boost`, repeated `keywords`). @default [] */
  keywords?: string[];
  /** Extra query parameters, sent as given (arrays as repeated keys). @default {} */
  queryParams?: Record<string, string | string[]>;
  /**
   * Audio is sent in messages of at least this much (frames arrive every 20 ms). Fewer, larger messages cost
   * far less CPU per call (one WebSocket frame and one socket write each) at ≤ this much added delay;
   * Finalize and CloseStream flush what is pending first. Deepgram recommends 20–100 ms chunks.
   * @default 40
   */
  sendIntervalMs?: number;
  /** KeepAlive cadence while no audio flows (Deepgram closes after 10 s without audio or KeepAlive). @default 5000 */
  keepAliveIntervalMs?: number;
  /** Handshake timeout per connection attempt. @default 5000 */
  connectTimeoutMs?: number;
  /** Default wait for final results in {@link SttSession.close}. @default 3000 */
  closeTimeoutMs?: number;
  /** Unfinalised audio kept for replay after a drop; older audio is lost if a drop happens. @default 30 */
  maxReplaySec?: number;
  /** Own reconnection with replay after a drop. @default see ReconnectSettings */
  reconnect?: ReconnectSettings;
}

export type ListenConnectArgs = Parameters<DeepgramClient['listen']['v1']['connect']>[0];

/** Query parameters and socket options for one live connection (the SDK's reconnection is always off). */
export function deepgramConnectArgs(options: DeepgramSttOptions, input: SttInputFormat): ListenConnectArgs {
  const interim = options.interimResults ?? true;
  const utteranceEndMs = options.utteranceEndMs ?? 1000;
  const endpointing = options.endpointingMs ?? 300;
  return {
    model: options.model ?? (input.sampleRate <= 8000 ? DEEPGRAM_DEFAULT_MODEL : DEEPGRAM_WIDEBAND_MODEL),
    encoding: input.encoding,
    sample_rate: input.sampleRate,
    channels: 1,
    interim_results: String(interim),
    endpointing: endpointing === false ? 'false' : endpointing,
    ...(interim && utteranceEndMs !== false ? { utterance_end_ms: utteranceEndMs } : {}),
    vad_events: String(options.vadEvents ?? true),
    smart_format: String(options.smartFormat ?? true),
    punctuate: String(options.punctuate ?? true),
    language: options.language ?? 'en-US',
    ...(options.keyterms?.length ? { keyterm: options.keyterms } : {}),
    ...(options.keywords?.length ? { keywords: options.keywords } : {}),
    ...(options.queryParams ? { queryParams: options.queryParams } : {}),
    reconnectAttempts: 0,
    shouldReconnect: () => false,
    connectionTimeoutInSeconds: (options.connectTimeoutMs ?? 5000) / 1000,
  };
}

/** The parts of a `Results` message the session reads. */
export interface ResultsMessage {
  type: 'Results';
  start: number;
  duration: number;
  is_final?: boolean;
  speech_final?: boolean;
  from_finalize?: boolean;
  channel?: {
    alternatives?: Array<{
      transcript?: string;
      confidence?: number;
      languages?: string[];
      words?: Array<{ word: string; start: number; end: number; confidence: number; punctuated_word?: string }>;
    }>;
  };
  metadata?: { request_id?: string };
}

/** How a connection ended, as the SDK reported it. */
export interface ConnectionEnd {
  opened: boolean;
  /** The SDK refused before opening a socket (missing key, Nova-3 with keywords…). */
  sdkRejected: boolean;
  error: Error | undefined;
  closeEvent: { code: number; reason: string } | undefined;
}

/**
 * Turns how a connection ended into an error. The SDK reports a rejected handshake as an `error` whose message
 * is ws's "Unexpected server response: <status>"; HTTP 4xx (except 408/429) and SDK-side rejections are fatal
 * since retrying cannot fix them.
 */
export function describeConnectionEnd(
  end: ConnectionEnd,
  context: { callId: string; provider: string; connectTimeoutMs: number },
): SttError {
  const details = { callId: context.callId, provider: context.provider, cause: end.error };
  if (end.sdkRejected) {
    // The SDK refused before connecting (no API key, Nova-3 with keywords…): retrying cannot help.
    const statusCode = (end.error as { statusCode?: unknown } | undefined)?.statusCode;
    const httpStatus = typeof statusCode === 'number' ? statusCode : undefined;
    return new SttError(`request rejected before connecting: ${end.error?.message}`, { ...details, fatal: true, httpStatus });
  }
  const message = end.error?.message ?? '';
  const status = /Unexpected server response: (\d{3})/.exec(message);
  if (status) {
    const httpStatus = Number(status[1]);
    const hint =
      httpStatus === 401 || httpStatus === 403 ? ' (check the Deepgram API key)' : httpStatus === 400 ? ' (invalid query parameters)' : '';
    const fatal = httpStatus >= 400 && httpStatus < 500 && httpStatus !== 408 && httpStatus !== 429;
    return new SttError(`Deepgram rejected the connection: HTTP ${httpStatus}${hint}`, { ...details, fatal, httpStatus });
  }
  if (message === 'TIMEOUT') {
    return new SttError(`connection timed out after ${context.connectTimeoutMs} ms`, { ...details, fatal: false });
  }
  if (message && !end.opened) return new SttError(`connection failed: ${message}`, { ...details, fatal: false });
  const code = end.closeEvent?.code;
  const reason = end.closeEvent?.reason ?? '';
  const hint = reason === 'NET-0001' ? ' (no audio or KeepAlive for 10 s)' : '';
  const what = message ? `: ${message}` : '';
  return new SttError(`connection closed ${code ?? '?'}${reason ? ` ${reason}` : ''}${hint}${what}`, {
    ...details,
    fatal: false,
    closeCode: code,
    closeReason: reason || undefined,
  });
}
