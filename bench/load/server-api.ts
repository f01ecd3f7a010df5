/** The bits of the server's HTTP API the load benchmark uses: place a call, read its final record. */
import type { CallRecord } from '../../src/store/index.ts';
import type { ServerProcess } from './server-process.ts';

/** Call statuses a call never leaves. */
export const TERMINAL_STATUSES = ['completed', 'busy', 'no-answer', 'failed', 'canceled'];

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** `POST /calls` on the Twilio path; throws with the server's answer when it is not 201. */
export async function postCall(server: ServerProcess, to: string): Promise<{ id: string; carrierCallId: string | null }> {
  const response = await fetch(`${server.url}/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ to, carrier: 'twilio' }),
  });
  const body = (await response.json()) as { id?: string; carrierCallId?: string | null; message?: string };
  if (response.status !== 201 || !body.id) throw new Error(`POST /calls answered ${response.status}: ${JSON.stringify(body)}`);
  return { id: body.id, carrierCallId: body.carrierCallId ?? null };
}

/** `GET /calls/:id` until the call is over (or the deadline: then whatever the record says, if any). */
export async function finalRecord(server: ServerProcess, id: string, timeoutMs: number): Promise<CallRecord | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${server.url}/calls/${id}`);
    if (response.ok) {
      const record = (await response.json()) as CallRecord;
      if (TERMINAL_STATUSES.includes(record.status)) return record;
      if (Date.now() > deadline) return record;
    } else if (Date.now() > deadline) {
      return undefined;
    }
    await sleep(250);
  }
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

/** Our record id for each inbound call, by carrier call id (`GET /calls?direction=inbound`, every page). */
export async function inboundCallIds(server: ServerProcess): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  let cursor: string | undefined;
  for (;;) {
    const query = new URLSearchParams({ direction: 'inbound', limit: '500', ...(cursor ? { cursor } : {}) });
    const response = await fetch(`${server.url}/calls?${query}`);
    if (!response.ok) throw new Error(`GET /calls answered ${response.status}`);
    const body = (await response.json()) as { calls: Array<{ id: string; carrierCallId: string | null }>; nextCursor?: string | null };
    for (const call of body.calls) if (call.carrierCallId) ids.set(call.carrierCallId, call.id);
    if (!body.nextCursor || body.calls.length === 0) return ids;
    cursor = body.nextCursor;
  }
}
