import type { CarrierAdapter, ConfiguredCarrier } from '../carrier-adapter.ts';
import type { SipRuntime } from './runtime.ts';
import { SIP, sipConfigured, sipDefaultFrom, sipEnv, sipMissingCredentials, sipSettingsFromEnv, type SipSettings } from './settings.ts';

/**
 * SIP: our own SIP/RTP endpoint in this process (no account, no webhooks, no media socket). It listens on SIP_PORT
 * in every process, sandbox or not; inbound INVITEs run an agent, `POST /calls {carrier: "sip"}` dials SIP URIs
 * (or numbers through SIP_TRUNK). The sandbox adds callee personas at `sip:<persona>@sandbox`.
 */
export const sipCarrier: CarrierAdapter<SipSettings, SipRuntime> = {
  name: SIP,
  displayName: 'SIP',
  env: sipEnv,
  settingsFromEnv: sipSettingsFromEnv,
  missingCredentials: sipMissingCredentials,
  configured: sipConfigured,
  defaultFrom: sipDefaultFrom,
  // The sandbox's SIP callees are reachable only over SIP: `switchboard call sip:cooperative@sandbox` needs no --carrier.
  claims: (to) => /^sips?:[^@\s]+@sandbox$/i.test(to.trim()),
  async create(settings, context) {
    const { SipRuntime } = await import('./runtime.ts');
    const runtime = new SipRuntime(settings, context);
    await runtime.start();
    return runtime;
  },
  sandbox: {
    start: async (context) => (await import('./emulator/sandbox.ts')).startSipSandbox(context),
  },
};

/** SIP with settings given in code: `startSwitchboard({ carriers: [twilio(…), sip({ endpoint: { port: 5060 }, agentRoutes: {} })] })`. */
export function sip(settings: SipSettings): ConfiguredCarrier<SipSettings> {
  return { adapter: sipCarrier, settings };
}
