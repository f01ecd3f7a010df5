/**
 * Points the official `plivo` SDK at an emulator.
 *
 * The SDK sends voice API requests to the hard-coded `https://api.plivo.com/v1/Account/…` (its `url` option
 * is ignored for voice), through axios with the HTTPS agent it installs in `axios.defaults.httpsAgent`. We
 * replace that agent with one that connects requests for `api.plivo.com` to the emulator over plain TCP
 * (the SDK's own code still builds, authenticates and encodes every request); other hosts keep normal TLS.
 * This is process-wide for `api.plivo.com`: call the returned function to undo it.
 */
import https from 'node:https';
import { createRequire } from 'node:module';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import plivo from 'plivo';

const PLIVO_API_HOST = 'api.plivo.com';

interface AxiosLike {
  defaults: { httpsAgent?: unknown };
}

/** The axios instance the plivo package uses (resolved from plivo's own location). */
function plivoAxios(): AxiosLike {
  const require = createRequire(import.meta.url);
  const fromPlivo = createRequire(require.resolve('plivo'));
  return fromPlivo('axios') as AxiosLike;
}

/** An HTTPS agent that sends `api.plivo.com` requests, unencrypted, to the emulator. */
export class PlivoEmulatorAgent extends https.Agent {
  private readonly target: URL;

  constructor(emulatorUrl: string) {
    super({ keepAlive: true });
    this.target = new URL(emulatorUrl);
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const host = options.host ?? options.hostname;
    if (host !== PLIVO_API_HOST) return super.createConnection(options, callback);
    return net.connect(Number(this.target.port), this.target.hostname);
  }
}

/** Routes the plivo SDK's API requests to `emulatorUrl`; returns a function restoring the previous agent. */
export function routePlivoSdkTo(emulatorUrl: string): () => void {
  const axios = plivoAxios();
  const previous = axios.defaults.httpsAgent;
  const agent = new PlivoEmulatorAgent(emulatorUrl);
  axios.defaults.httpsAgent = agent;
  return () => {
    if (axios.defaults.httpsAgent === agent) axios.defaults.httpsAgent = previous;
    agent.destroy();
  };
}

/** An official Plivo client for the emulator's account, with the SDK routed to the emulator. */
export function plivoClientFor(emulator: { url: string; authId: string; authToken: string }): {
  client: plivo.Client;
  restore: () => void;
} {
  const restore = routePlivoSdkTo(emulator.url);
  return { client: new plivo.Client(emulator.authId, emulator.authToken), restore };
}
