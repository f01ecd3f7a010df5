/**
 * Query parameters of Deepgram's live `/v1/listen` endpoint, parsed and validated the way the real service does
 * before the WebSocket upgrade (bad values → HTTP 400 with a JSON `err_code`/`err_msg` body).
 * Unknown parameters are ignored, as Deepgram does.
 */

export type ListenEncoding =
  'linear16' | 'linear32' | 'flac' | 'alaw' | 'mulaw' | 'amr-nb' | 'amr-wb' | 'opus' | 'ogg-opus' | 'speex' | 'g729';

const ENCODINGS: ReadonlySet<string> = new Set<ListenEncoding>([
  'linear16',
  'linear32',
  'flac',
  'alaw',
  'mulaw',
  'amr-nb',
  'amr-wb',
  'opus',
  'ogg-opus',
  'speex',
  'g729',
]);

/** Models the emulator accepts: Deepgram's Nova/enhanced/base families with optional variants, and whisper. */
const MODEL_PATTERN = /^(?:(?:nova-3|nova-2|nova|enhanced|base)(?:-[a-z0-9]+)*|whisper(?:-[a-z0-9]+)*)$/;

export interface ListenParams {
  /** @default 'base' (emulator default when `model` is absent) */
  model: string;
  /** Raw audio encoding; absent = containerised audio (WAV header etc.) is expected. */
  encoding: ListenEncoding | undefined;
  /** Required with `encoding`. */
  sampleRate: number | undefined;
  /** @default 1 */
  channels: number;
  /** @default false */
  interimResults: boolean;
  /** Silence (ms) before `speech_final`; `false` disables endpointing. @default 10 (Deepgram's default) */
  endpointingMs: number | false;
  /** Gap after the last word before `UtteranceEnd`; absent = no UtteranceEnd messages. */
  utteranceEndMs: number | undefined;
  /** @default false */
  vadEvents: boolean;
  /** @default false */
  punctuate: boolean;
  /** @default false */
  smartFormat: boolean;
  /** @default 'en' */
  language: string;
  /** Repeated `keyterm` values (Nova-3). @default [] */
  keyterms: string[];
  /** Repeated `keywords` values (Nova-2 and older). @default [] */
  keywords: string[];
}

export class ListenParamError extends Error {
  readonly errCode = 'INVALID_QUERY_PARAMETER';
}

function parseBool(query: URLSearchParams, key: string, fallback: boolean): boolean {
  const raw = query.get(key);
  if (raw === null) return fallback;
  const value = raw.toLowerCase();
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ListenParamError(`Invalid value for '${key}': expected true or false, got '${raw}'.`);
}

function parseInteger(query: URLSearchParams, key: string, min: number): number | undefined {
  const raw = query.get(key);
  if (raw === null) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min) {
    throw new ListenParamError(`Invalid value for '${key}': expected an integer ≥ ${min}, got '${raw}'.`);
  }
  return Number(raw);
}

/** Parses a `/v1/listen` query string; throws {@link ListenParamError} for what Deepgram rejects with HTTP 400. */
export function parseListenQuery(query: URLSearchParams): ListenParams {
  const model = query.get('model') ?? 'base';
  if (!MODEL_PATTERN.test(model)) {
    throw new ListenParamError(`No such model/language/tier combination found: model '${model}'.`);
  }
  const encodingRaw = query.get('encoding');
  if (encodingRaw !== null && !ENCODINGS.has(encodingRaw)) {
    throw new ListenParamError(`Invalid value for 'encoding': '${encodingRaw}' is not a supported encoding.`);
  }
  const encoding = (encodingRaw ?? undefined) as ListenEncoding | undefined;
  const sampleRate = parseInteger(query, 'sample_rate', 1);
  if (encoding !== undefined && sampleRate === undefined) {
    throw new ListenParamError(`'sample_rate' is required when 'encoding' is '${encoding}'.`);
  }
  const channels = parseInteger(query, 'channels', 1) ?? 1;

  let endpointingMs: number | false = 10;
  const endpointingRaw = query.get('endpointing');
  if (endpointingRaw !== null) {
    if (endpointingRaw.toLowerCase() === 'false') endpointingMs = false;
    else if (endpointingRaw.toLowerCase() === 'true') endpointingMs = 10;
    else endpointingMs = parseInteger(query, 'endpointing', 0) as number;
  }

  const keyterms = query.getAll('keyterm');
  const keywords = query.getAll('keywords').filter((k) => k.trim() !== '');
  if (model.startsWith('nova-3') && keywords.length > 0) {
    throw new ListenParamError('Keywords are not supported for Nova-3. Please use `keyterm` instead.');
  }

  return {
    model,
    encoding,
    sampleRate,
    channels,
    interimResults: parseBool(query, 'interim_results', false),
    endpointingMs,
    utteranceEndMs: parseInteger(query, 'utterance_end_ms', 1),
    vadEvents: parseBool(query, 'vad_events', false),
    punctuate: parseBool(query, 'punctuate', false),
    smartFormat: parseBool(query, 'smart_format', false),
    language: query.get('language') ?? 'en',
    keyterms,
    keywords,
  };
}

/** `metadata.model_info` the way Deepgram names its models (e.g. nova-2-phonecall → "2-phonecall-nova"). */
export function modelInfo(model: string): { name: string; version: string; arch: string } {
  const nova = /^nova-(\d)(?:-(.+))?$/.exec(model);
  if (nova) {
    const variant = nova[2] ?? 'general';
    return { name: `${nova[1]}-${variant}-nova`, version: '2024-01-09.29447', arch: `nova-${nova[1]}` };
  }
  return { name: model, version: '2024-01-09.29447', arch: model.split('-')[0] ?? model };
}
