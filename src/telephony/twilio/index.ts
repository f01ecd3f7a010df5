import type { CarrierAdapter, ConfiguredCarrier } from '../carrier-adapter.ts';
import { twilioMediaStream } from './media-serializer.ts';
import { registerTwilioRoutes } from './routes.ts';
import type { TwilioRuntime } from './runtime.ts';
import { TWILIO, twilioEnv, twilioMissingCredentials, twilioSettingsFromEnv, type TwilioSettings } from './settings.ts';

export type { TwilioSettings } from './settings.ts';
export type { TwilioRuntime } from './runtime.ts';

/**
 * Twilio: Programmable Voice REST (official SDK), `<Connect><Stream>` Media Streams on our socket, signed webhooks,
 * and Pipecat's `POST /dialout` seed route. The SDK loads when the carrier is created, the emulator only in sandbox.
 */
export const twilioCarrier: CarrierAdapter<TwilioSettings, TwilioRuntime> = {
  name: TWILIO,
  displayName: 'Twilio',
  env: twilioEnv,
  settingsFromEnv: twilioSettingsFromEnv,
  missingCredentials: twilioMissingCredentials,
  defaultFrom: (settings) => settings.phoneNumber,
  async create(settings, context) {
    const { TwilioRuntime } = await import('./runtime.ts');
    const { accountSid, authToken } = settings;
    if (!accountSid || !authToken) throw new TypeError('Twilio needs accountSid and authToken');
    return new TwilioRuntime({ ...settings, accountSid, authToken }, context);
  },
  registerRoutes: registerTwilioRoutes,
  mediaStream: twilioMediaStream,
  sandbox: {
    start: async (context) => (await import('./emulator/sandbox.ts')).startTwilioSandbox(context),
  },
};

/** Twilio with settings given in code: `startSwitchboard({ carriers: [twilio({ accountSid, authToken, phoneNumber })] })`. */
export function twilio(settings: TwilioSettings): ConfiguredCarrier<TwilioSettings> {
  return { adapter: twilioCarrier, settings };
}
