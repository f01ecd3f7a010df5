/**
 * `GET /calls/:id/recording`: the call's WAV, with the API's auth (or the dashboard's session cookie, so an
 * `<audio>` element can load it) and single-range requests (`Range: bytes=a-b`, `bytes=a-`, `bytes=-n`), so a
 * browser can seek. 404 while the call has no recording (or after retention deleted it), 416 for a range
 * outside the file.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../../errors.ts';
import type { CallStore } from '../../store/index.ts';
import { requireApiKeyOrSession } from './dashboard.ts';

export interface RecordingRouteOptions {
  store: CallStore;
  apiKey?: string | undefined;
}

/** A parsed `Range` header: inclusive byte positions, or `unsatisfiable`; undefined when absent or not one `bytes` range. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined; // several ranges or another unit: answer with the whole file (RFC 9110 allows it)
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

export function registerRecordingRoutes(app: FastifyInstance, options: RecordingRouteOptions): void {
  const preHandler = requireApiKeyOrSession(options.apiKey);
  app.get<{ Params: { id: string } }>('/calls/:id/recording', { preHandler }, async (request, reply) => {
    const record = options.store.getCallSummary(request.params.id);
    if (!record) throw new HttpError(404, 'call_not_found', `no call ${request.params.id}`);
    if (!record.recordingPath) throw new HttpError(404, 'recording_not_found', `call ${record.id} has no recording`);
    let size: number;
    try {
      size = (await stat(record.recordingPath)).size;
    } catch {
      request.log.warn({ callId: record.id, path: record.recordingPath }, 'recording file missing');
      throw new HttpError(404, 'recording_not_found', `the recording of call ${record.id} is gone`);
    }
    reply.header('accept-ranges', 'bytes').header('cache-control', 'private, no-cache');
    const range = parseRange(request.headers.range, size);
    if (range === 'unsatisfiable') {
      return reply
        .code(416)
        .header('content-range', `bytes */${size}`)
        .send({ error: 'range_not_satisfiable', message: `the recording is ${size} bytes` });
    }
    reply.header('content-type', 'audio/wav');
    if (!range) return reply.header('content-length', size).send(createReadStream(record.recordingPath));
    return reply
      .code(206)
      .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
      .header('content-length', range.end - range.start + 1)
      .send(createReadStream(record.recordingPath, { start: range.start, end: range.end }));
  });
}
