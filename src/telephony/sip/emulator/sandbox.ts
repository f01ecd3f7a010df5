import type { CarrierEmulatorContext, StartedCarrierEmulator } from '../../carrier-adapter.ts';
import type { SipSettings } from '../settings.ts';
import { startSipCalleeEmulator } from './sip-callee-emulator.ts';

/** The host sandbox callees answer at: `sip:cooperative@sandbox`, `sip:+15550100001@sandbox`. */
export const SANDBOX_SIP_HOST = 'sandbox';

/**
 * Sandbox mode: starts the SIP callee emulator (personas over RTP) on a free loopback port and routes the host
 * `sandbox` to it. Numbers go there too when no trunk is configured (`+15550100001` → that persona). The endpoint
 * itself stays real: it listens on SIP_PORT and other SIP URIs are dialled where they say.
 */
export async function startSipSandbox(context: CarrierEmulatorContext<SipSettings>): Promise<StartedCarrierEmulator<SipSettings>> {
  const emulator = await startSipCalleeEmulator({ personas: context.personas, timeScale: context.timeScale, logger: context.log });
  const { endpoint } = context.settings;
  return {
    settings: {
      ...context.settings,
      endpoint: {
        ...endpoint,
        trunk: endpoint.trunk ?? SANDBOX_SIP_HOST,
        hostRoutes: { ...endpoint.hostRoutes, [SANDBOX_SIP_HOST]: `127.0.0.1:${emulator.port}` },
      },
      callerId: context.settings.callerId ?? context.callerId,
    },
    emulator,
    close: () => emulator.close(),
  };
}
