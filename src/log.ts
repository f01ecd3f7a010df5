import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Paths that may hold secrets. pino removes them before a line is written, so a secret passed in a log
 * object by mistake never reaches the output.
 */
const redactPaths = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'apiKey',
  '*.apiKey',
  'authToken',
  '*.authToken',
  'token',
  '*.token',
  'password',
  '*.password',
];

/** Query parameters whose values are kept in logged URLs (our own call ids); every other value is redacted. */
const LOGGED_QUERY_KEYS = new Set(['callId']);

/**
 * A request URL as it may be logged: the media token in `/ws/<token>` and every query value except our call id are
 * replaced (an API key sent as `?api_key=`, a media token as `/ws?token=`, anything a client put there). Non-strings
 * pass through unchanged.
 */
export function redactUrl(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const queryAt = value.indexOf('?');
  const path = (queryAt === -1 ? value : value.slice(0, queryAt)).replace(/\/ws\/[^/]+/, '/ws/<token>');
  if (queryAt === -1) return path;
  const query = [...new URLSearchParams(value.slice(queryAt + 1))].map(([key, v]) =>
    LOGGED_QUERY_KEYS.has(key) ? `${key}=${safeEncode(v)}` : `${safeEncode(key)}=[redacted]`,
  );
  return query.length > 0 ? `${path}?${query.join('&')}` : path;
}

/** `encodeURIComponent`, without its throw on a lone surrogate (logging must never throw). */
function safeEncode(text: string): string {
  return encodeURIComponent(
    text.replace(/[\uD800-\uDFFF]/g, (c, i: number, all: string) => {
      const code = c.charCodeAt(0);
      const pair = code < 0xdc00 ? all.charCodeAt(i + 1) : all.charCodeAt(i - 1);
      return (code < 0xdc00 ? pair >= 0xdc00 && pair <= 0xdfff : pair >= 0xd800 && pair < 0xdc00) ? c : '\uFFFD';
    }),
  );
}

export interface LoggerOptions {
  /** Minimum level written. @default process.env.LOG_LEVEL ?? 'info' */
  level?: string;
  /** Where lines go. @default stdout */
  destination?: NodeJS.WritableStream;
}

/**
 * The process logger: JSON lines, secrets redacted (fields named like secrets, and the query strings and media
 * tokens of URLs logged as `route` or `url`). Per-call loggers are children carrying `callId`.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  return pino(
    { level, redact: { paths: redactPaths, censor: '[redacted]' }, serializers: { route: redactUrl, url: redactUrl } },
    options.destination ?? process.stdout,
  );
}

/** A logger that writes nothing (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
