/** Signed webhook requests from an emulated carrier to our server, recorded for inspection. */
import { encodeForm, type FormFields } from './http-util.ts';
import { nowMs } from './media-clock.ts';

export type WebhookMethod = 'GET' | 'POST';

/** Headers that authenticate a request: computed from the final URL (query included) and the body params. */
export type WebhookSigner = (url: string, bodyParams: FormFields, method: WebhookMethod) => Record<string, string>;

export interface WebhookRequest {
  /** What the request is for, e.g. `status:ringing`, `voice`, `answer`, `hangup` (recorded, not sent). */
  kind: string;
  url: string;
  /** @default 'POST' */
  method?: WebhookMethod;
  params: FormFields;
  sign: WebhookSigner;
  /** Give up after this long. @default 15000 (Twilio's webhook timeout) */
  timeoutMs?: number;
  /** Extra headers (e.g. User-Agent). */
  headers?: Record<string, string>;
  /** Keep the response body in the record (markup fetches). @default false */
  keepBody?: boolean;
}

export interface WebhookRecord {
  kind: string;
  url: string;
  method: WebhookMethod;
  params: FormFields;
  /** Epoch ms when the request was sent. */
  sentAt: number;
  durationMs: number;
  /** HTTP status, or null when the request failed (connection refused, timeout). */
  status: number | null;
  error?: string;
  /** Response body (only when `keepBody`). */
  body?: string;
}

/** Appends params to a URL's query string (GET webhooks carry their params there). */
export function withQuery(url: string, params: FormFields): string {
  const query = encodeForm(params);
  if (!query) return url;
  return url + (url.includes('?') ? '&' : '?') + query;
}

/** Sends one webhook; never throws (failures are in the record). */
export async function sendWebhook(request: WebhookRequest): Promise<WebhookRecord> {
  const method = request.method ?? 'POST';
  const finalUrl = method === 'GET' ? withQuery(request.url, request.params) : request.url;
  const bodyParams = method === 'GET' ? {} : request.params;
  const sentAt = nowMs();
  const record: WebhookRecord = {
    kind: request.kind,
    url: finalUrl,
    method,
    params: request.params,
    sentAt,
    durationMs: 0,
    status: null,
  };
  try {
    const headers: Record<string, string> = {
      ...request.headers,
      ...request.sign(finalUrl, bodyParams, method),
    };
    let body: string | undefined;
    if (method === 'POST') {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = encodeForm(bodyParams);
    }
    const response = await fetch(finalUrl, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(request.timeoutMs ?? 15_000),
      redirect: 'manual',
    });
    record.status = response.status;
    const text = await response.text();
    if (request.keepBody) record.body = text;
  } catch (error) {
    record.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } finally {
    record.durationMs = nowMs() - sentAt;
  }
  return record;
}
