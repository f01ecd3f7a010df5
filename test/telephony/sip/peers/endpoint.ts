/** An endpoint under test on loopback (127.0.0.2, free ports) plus helpers to watch its calls. */
import { SipEndpoint } from '../../../../src/telephony/sip/index.ts';
import type { SipEndpointConfig } from '../../../../src/telephony/sip/index.ts';
import { silentLogger, createLogger } from '../../../../src/log.ts';

export async function startTestEndpoint(config: SipEndpointConfig = {}): Promise<SipEndpoint> {
  const endpoint = new SipEndpoint(
    { port: 0, bindAddress: '127.0.0.2', rtpPortMin: 0, rtpPortMax: 0, ...config },
    { logger: process.env.SIP_TEST_LOG ? createLogger({ level: process.env.SIP_TEST_LOG }) : silentLogger(), t1Ms: 100 },
  );
  await endpoint.start();
  return endpoint;
}

export function waitFor<T>(register: (resolve: (value: T) => void) => void, timeoutMs = 10_000, what = 'event'): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}
