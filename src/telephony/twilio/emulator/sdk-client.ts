/**
 * Points the official `twilio` SDK at an emulator. The SDK builds absolute `https://api.twilio.com/…` URLs;
 * its `httpClient` option takes a RequestClient, and this one rewrites each request's origin to the
 * emulator's before the SDK's own HTTP code (axios, auth header, form encoding) sends it.
 */
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';

type RequestOptions<TData> = RequestClient.RequestOptions<TData>;

/** A RequestClient that sends every request to `baseUrl` (path and query kept). */
export class EmulatorRequestClient extends twilio.RequestClient {
  private readonly target: URL;

  constructor(baseUrl: string) {
    super();
    this.target = new URL(baseUrl);
  }

  override request<TData>(opts: RequestOptions<TData>) {
    const uri = new URL(opts.uri);
    uri.protocol = this.target.protocol;
    uri.host = this.target.host;
    return super.request<TData>({ ...opts, uri: uri.href });
  }
}

/** An official Twilio client for the emulator's account, talking to the emulator. */
export function twilioClientFor(emulator: { url: string; accountSid: string; authToken: string }): twilio.Twilio {
  return twilio(emulator.accountSid, emulator.authToken, { httpClient: new EmulatorRequestClient(emulator.url) });
}
