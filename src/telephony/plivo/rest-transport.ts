import { createRequire } from 'node:module';

/**
 * The request function plivo-node's resource classes are built on: `(method, action, params)` → `{response, body}`
 * (the SDK's own `rest/axios.js` has this shape, and its test client swaps it the same way).
 *
 * Why our own: plivo-node 4.79.0 honours its `url` client option only for non-voice resources. Every Call request
 * sets `isVoiceRequest`, and its transport then rewrites the URL to the hard-coded `https://api.plivo.com/v1/Account/`
 * — so the SDK cannot be pointed at the sandbox emulator. This transport keeps the SDK's resource layer (parameter
 * naming, paths, response classes) and sends the same wire format (Basic auth, JSON body) to a configurable base URL.
 */
export type PlivoRequestFunction = (method: string, action: string, params?: Record<string, unknown>) => Promise<PlivoRawResponse>;

export interface PlivoRawResponse {
  response: { status: number };
  body: unknown;
}

export interface PlivoRestTransportOptions {
  authId: string;
  authToken: string;
  /** API origin (+ optional path prefix). @default 'https://api.plivo.com' */
  baseUrl?: string;
  /** Per-request timeout; the SDK uses 5000 ms for voice requests. @default 5000 */
  timeoutMs?: number;
}

/** A non-2xx answer from the Plivo API. `body` is the parsed JSON (`{api_id, error}`) or the raw text. */
export class PlivoHttpError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    super(`Plivo API answered HTTP ${status}`);
    this.name = 'PlivoHttpError';
    this.status = status;
    this.body = body;
  }
}

const sdkVersion = (createRequire(import.meta.url)('plivo/package.json') as { version: string }).version;

/** Marker the SDK adds to voice requests to pick its voice host; not an API parameter. */
const SDK_ROUTING_PARAMS = new Set(['is_voice_request']);

export function plivoRestTransport(options: PlivoRestTransportOptions): PlivoRequestFunction {
  const base = (options.baseUrl ?? 'https://api.plivo.com').replace(/\/+$/, '');
  const accountUrl = `${base}/v1/Account/${encodeURIComponent(options.authId)}/`;
  const authorization = `Basic ${Buffer.from(`${options.authId}:${options.authToken}`).toString('base64')}`;
  const timeoutMs = options.timeoutMs ?? 5000;
  const userAgent = `plivo-node/${sdkVersion} (Node: ${process.version}) switchboard`;

  return async (method, action, params = {}) => {
    const apiParams: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(params)) {
      if (!SDK_ROUTING_PARAMS.has(key) && value !== undefined) apiParams[key] = value;
    }
    let url = accountUrl + action;
    let body: string | undefined;
    if (method === 'GET' || method === 'DELETE') {
      const query = new URLSearchParams(Object.entries(apiParams).map(([k, v]): [string, string] => [k, String(v)])).toString();
      if (query) url += `?${query}`;
    } else {
      body = JSON.stringify(apiParams);
    }
    const response = await fetch(url, {
      method,
      headers: {
        authorization,
        'user-agent': userAgent,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // keep the text: error pages are not always JSON
      }
    } else {
      parsed = {};
    }
    if (response.status < 200 || response.status >= 300) throw new PlivoHttpError(response.status, parsed);
    return { response: { status: response.status }, body: parsed };
  };
}
