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

export interface LoggerOptions {
  /** Minimum level written. @default process.env.LOG_LEVEL ?? 'info' */
  level?: string;
  /** Where lines go. @default stdout */
  destination?: NodeJS.WritableStream;
}

/** The process logger: JSON lines, secrets redacted. Per-call loggers are children carrying `callId`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  return pino({ level, redact: { paths: redactPaths, censor: '[redacted]' } }, options.destination ?? process.stdout);
}

/** A logger that writes nothing (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
