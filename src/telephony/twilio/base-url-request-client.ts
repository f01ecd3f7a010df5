import type twilio from 'twilio';
import type RequestClientModule from 'twilio/lib/base/RequestClient.js';
import type * as TwilioResponseModule from 'twilio/lib/http/response.js';
import { twilioSdk } from './sdk.ts';

type RequestOptions<T> = RequestClientModule.RequestOptions<T>;

/** twilio-node's RequestClient with the API host replaced by a base URL (see {@link createBaseUrlRequestClient}). */
export interface BaseUrlRequestClient extends InstanceType<typeof twilio.RequestClient> {
  /** The URL the SDK built (`https://api.twilio.com/2010-04-01/…`) moved onto the base URL. */
  rebase(uri: string): string;
}

let BaseUrlRequestClientClass:
  (new (baseUrl: string, options?: RequestClientModule.RequestClientOptions) => BaseUrlRequestClient) | undefined;

/**
 * twilio-node's HTTP client with the API host swapped for a configurable base URL (the sandbox emulator, a recording
 * test server, a Twilio-compatible back end). A custom `httpClient` is the SDK's documented extension point for
 * changing its HTTP requests (twilio-node `advanced-examples/custom-http-client.md`); `region`/`edge` only pick
 * other `*.twilio.com` hosts. Everything else — auth header, form encoding with repeated keys, JSON parsing — stays
 * the SDK's own.
 *
 * The class extends the SDK's, so it is defined when first needed (the SDK loads on first use, see sdk.ts).
 * @param baseUrl e.g. `http://127.0.0.1:4010` or `http://127.0.0.1:4010/twilio` (prefix kept)
 */
export function createBaseUrlRequestClient(baseUrl: string, options: RequestClientModule.RequestClientOptions = {}): BaseUrlRequestClient {
  BaseUrlRequestClientClass ??= defineBaseUrlRequestClient();
  return new BaseUrlRequestClientClass(baseUrl, options);
}

function defineBaseUrlRequestClient(): new (baseUrl: string, options?: RequestClientModule.RequestClientOptions) => BaseUrlRequestClient {
  class BaseUrlRequestClient extends twilioSdk().RequestClient {
    private readonly origin: string;
    private readonly pathPrefix: string;

    /** @param baseUrl e.g. `http://127.0.0.1:4010` or `http://127.0.0.1:4010/twilio` (prefix kept) */
    constructor(baseUrl: string, options: RequestClientModule.RequestClientOptions = {}) {
      super(options);
      const parsed = new URL(baseUrl);
      this.origin = parsed.origin;
      this.pathPrefix = parsed.pathname.replace(/\/+$/, '');
    }

    /** The URL the SDK built (`https://api.twilio.com/2010-04-01/…`) moved onto the base URL. */
    rebase(uri: string): string {
      const parsed = new URL(uri);
      return this.origin + this.pathPrefix + parsed.pathname + parsed.search;
    }

    override request<TData>(options: RequestOptions<TData>): Promise<TwilioResponseModule.default<TData>> {
      return super.request({ ...options, uri: this.rebase(options.uri) });
    }
  }
  return BaseUrlRequestClient;
}
