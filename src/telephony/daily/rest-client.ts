/**
 * Daily's REST API (https://docs.daily.co/reference/rest-api), the parts a phone agent needs: rooms, meeting
 * tokens, dial-out start/stop/sendDTMF, pinless dial-in call update, SIP transfers, domain dial-in config and
 * webhooks. JSON over `fetch` with `Authorization: Bearer <DAILY_API_KEY>`; errors are {@link DailyApiError}.
 */
import { SwitchboardError, isRetryableHttpStatus } from '../../errors.ts';
import { DAILY_DEFAULTS } from './settings.ts';

/** Room `sip` property (`null` disables SIP). */
export interface DailyRoomSipProperties {
  display_name?: string;
  video?: boolean;
  sip_mode?: 'dial-in';
  /** SIP endpoints of the room (1–5). */
  num_endpoints?: number;
  codecs?: { audio?: string[]; video?: string[] };
  provider?: string;
}

export interface DailyRoomProperties {
  /** Expiry, Unix seconds (PSTN rooms need one under 365 days). */
  exp?: number;
  eject_at_room_exp?: boolean;
  enable_dialout?: boolean;
  sip?: DailyRoomSipProperties | null;
  /** Any other room property Daily knows. */
  [property: string]: unknown;
}

export interface CreateRoomRequest {
  name?: string;
  privacy?: 'public' | 'private';
  properties?: DailyRoomProperties;
}

/** A room as Daily returns it (`config` holds the properties set, plus read-only `sip_uri`). */
export interface DailyRoom {
  id: string;
  name: string;
  api_created: boolean;
  privacy: 'public' | 'private';
  url: string;
  created_at: string;
  config: DailyRoomProperties & { sip_uri?: { endpoint: string; extra_endpoints?: string[] } };
}

export interface MeetingTokenProperties {
  room_name: string;
  is_owner?: boolean;
  exp?: number;
  eject_at_token_exp?: boolean;
  user_name?: string;
  [property: string]: unknown;
}

/** `dialOut/start`: a phone number (`phoneNumber`, optional `callerId`) or a `sipUri`, not both. */
export interface DialOutSettings {
  phoneNumber?: string;
  /** Id of a purchased number. */
  callerId?: string;
  sipUri?: string;
  displayName?: string;
  userId?: string;
  extension?: string;
  waitBeforeExtensionDialSec?: number;
  video?: boolean;
  codecs?: { audio?: string[] };
}

export interface PinlessCallUpdate {
  callId: string;
  callDomain: string;
  sipUri: string;
}

export interface SipTransferSettings {
  sessionId: string;
  /** `+1555…` or `sip:…` */
  toEndPoint: string;
  callerId?: string;
}

export interface DomainDialinConfig {
  type: 'pinless_dialin' | 'pin_dialin';
  name_prefix?: string;
  phone_number?: string;
  room_creation_api?: string;
  hmac?: string;
  hold_music_url?: string;
  timeout_config?: { message?: string };
}

export interface CreateWebhookRequest {
  url: string;
  eventTypes?: string[];
  /** base64 secret; Daily generates one when absent. */
  hmac?: string;
}

export interface DailyWebhook {
  uuid: string;
  url: string;
  hmac: string;
  eventTypes?: string[];
  state?: string;
}

/** A Daily REST call failed: Daily's `error` word (e.g. `not-found`) is the provider code, `info` the message. */
export class DailyApiError extends SwitchboardError {
  readonly operation: string;
  readonly info: string;
  constructor(operation: string, httpStatus: number | null, error: string | null, info: string, cause?: unknown) {
    super(`Daily ${operation} failed (${httpStatus === null ? 'no response' : `HTTP ${httpStatus}`}${error ? ` ${error}` : ''}): ${info}`, {
      code: 'daily_api_error',
      httpStatus,
      providerCode: error,
      retryable: isRetryableHttpStatus(httpStatus),
      cause,
    });
    this.operation = operation;
    this.info = info;
  }
}

export interface DailyRestClientOptions {
  apiKey: string;
  /** @default https://api.daily.co/v1 */
  apiUrl?: string;
  /** Per-request timeout. @default 10000 (Pipecat's pinlessCallUpdate timeout) */
  timeoutMs?: number;
}

export class DailyRestClient {
  readonly apiUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;

  constructor(options: DailyRestClientOptions) {
    this.apiKey = options.apiKey;
    this.apiUrl = (options.apiUrl ?? DAILY_DEFAULTS.apiUrl).replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  createRoom(request: CreateRoomRequest): Promise<DailyRoom> {
    return this.request('createRoom', 'POST', '/rooms', request);
  }

  getRoom(name: string): Promise<DailyRoom> {
    return this.request('getRoom', 'GET', `/rooms/${encodeURIComponent(name)}`);
  }

  /** Deletes a room; a room that is already gone (404) counts as deleted. */
  async deleteRoom(name: string): Promise<void> {
    try {
      await this.request('deleteRoom', 'DELETE', `/rooms/${encodeURIComponent(name)}`);
    } catch (error) {
      if (error instanceof DailyApiError && error.httpStatus === 404) return;
      throw error;
    }
  }

  async createMeetingToken(properties: MeetingTokenProperties): Promise<string> {
    const { token } = await this.request<{ token: string }>('createMeetingToken', 'POST', '/meeting-tokens', { properties });
    return token;
  }

  /** Starts a dial-out from the room; resolves with Daily's session id. */
  async startDialOut(room: string, settings: DialOutSettings): Promise<{ sessionId: string }> {
    if (Boolean(settings.phoneNumber) === Boolean(settings.sipUri))
      throw new TypeError('dial-out needs a phoneNumber or a sipUri, not both');
    const reply = await this.request<{ sessionId?: string }>(
      'dialOut/start',
      'POST',
      `/rooms/${encodeURIComponent(room)}/dialOut/start`,
      settings,
    );
    if (!reply.sessionId) throw new DailyApiError('dialOut/start', 200, null, 'answer had no sessionId');
    return { sessionId: reply.sessionId };
  }

  async stopDialOut(room: string, sessionId: string): Promise<void> {
    await this.request('dialOut/stop', 'POST', `/rooms/${encodeURIComponent(room)}/dialOut/stop`, { sessionId });
  }

  async sendDtmf(room: string, sessionId: string, tones: string): Promise<void> {
    await this.request('dialOut/sendDTMF', 'POST', `/rooms/${encodeURIComponent(room)}/dialOut/sendDTMF`, { sessionId, tones });
  }

  /** Bridges a caller Daily is holding (pinless dial-in) to a room's SIP endpoint. */
  async pinlessCallUpdate(update: PinlessCallUpdate): Promise<void> {
    await this.request('pinlessCallUpdate', 'POST', '/dialin/pinlessCallUpdate', update);
  }

  async sipCallTransfer(room: string, settings: SipTransferSettings): Promise<void> {
    await this.request('sipCallTransfer', 'POST', `/rooms/${encodeURIComponent(room)}/sipCallTransfer`, settings);
  }

  async sipRefer(room: string, settings: SipTransferSettings): Promise<void> {
    await this.request('sipRefer', 'POST', `/rooms/${encodeURIComponent(room)}/sipRefer`, settings);
  }

  createDomainDialinConfig(config: DomainDialinConfig): Promise<DomainDialinConfig & { id: string }> {
    return this.request('domain-dialin-config', 'POST', '/domain-dialin-config', config);
  }

  createWebhook(request: CreateWebhookRequest): Promise<DailyWebhook> {
    return this.request('createWebhook', 'POST', '/webhooks', request);
  }

  private async request<T>(operation: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.apiKey}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new DailyApiError(operation, null, null, error instanceof Error ? error.message : String(error), error);
    }
    const text = await response.text();
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      // not JSON: reported below when the status is an error
    }
    if (!response.ok) {
      const reply = (json ?? {}) as { error?: unknown; info?: unknown };
      const error = typeof reply.error === 'string' ? reply.error : null;
      const info = typeof reply.info === 'string' ? reply.info : text.slice(0, 200) || response.statusText;
      throw new DailyApiError(operation, response.status, error, info);
    }
    if (json === undefined) throw new DailyApiError(operation, response.status, null, 'answer was not JSON');
    return json as T;
  }
}

/** A room's SIP endpoints as URIs we can dial (`sip:` added when Daily leaves it off). */
export function roomSipEndpoints(room: DailyRoom): string[] {
  const uri = room.config.sip_uri;
  if (!uri) return [];
  return [uri.endpoint, ...(uri.extra_endpoints ?? [])].map((e) => (/^sips?:/i.test(e) ? e : `sip:${e}`));
}
