/** The server's JSON routes as the dashboard uses them, and the record types they return. */
import type { CallEvent, CallPage, CallRecord, CallSummary, CallTurn, JsonObject } from '../../src/store/types.ts';

export type { CallEvent, CallPage, CallRecord, CallSummary, CallTurn, JsonObject };

export interface Session {
  authRequired: boolean;
  authenticated: boolean;
}

export interface SandboxNumber {
  number: string;
  persona: string;
  description?: string;
  outcome: string;
}

export interface DashboardConfig {
  sandbox: boolean;
  carriers: string[];
  defaultCarrier: string;
  agents: string[];
  sandboxNumbers: SandboxNumber[];
}

export interface PlaceCallInput {
  to: string;
  carrier?: string;
  agent?: string;
  metadata?: Record<string, unknown>;
  /** Record the call (stereo WAV, `GET /calls/:id/recording`). */
  record?: boolean;
}

/** An API answer other than 2xx, with the server's reason. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const data = (await response.json().catch(() => ({}))) as { message?: string };
  if (!response.ok) throw new ApiError(response.status, data.message ?? `${response.status} ${response.statusText}`);
  return data as T;
}

export const api = {
  session: () => request<Session>('GET', '/dashboard/api/session'),
  login: (apiKey: string) => request<Session>('POST', '/dashboard/login', { apiKey }),
  logout: () => request<Session>('POST', '/dashboard/logout', {}),
  config: () => request<DashboardConfig>('GET', '/dashboard/api/config'),
  olderCalls: (cursor: string) => request<CallPage>('GET', `/dashboard/api/calls?limit=50&cursor=${encodeURIComponent(cursor)}`),
  placeCall: (input: PlaceCallInput) => request<{ id: string; status: string }>('POST', '/dashboard/api/calls', input),
};
