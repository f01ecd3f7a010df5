import type { CarrierEmulatorContext, StartedCarrierEmulator } from '../../carrier-adapter.ts';
import type { TwilioSettings } from '../settings.ts';
import { startTwilioEmulator } from './emulator.ts';

/** Starts the Twilio emulator for sandbox mode and points Twilio's settings at it (keeping a configured caller id). */
export async function startTwilioSandbox(context: CarrierEmulatorContext<TwilioSettings>): Promise<StartedCarrierEmulator<TwilioSettings>> {
  const twilio = await startTwilioEmulator({
    personas: context.personas,
    clock: context.clock,
    logger: context.log,
    timeScale: context.timeScale,
  });
  return {
    settings: {
      accountSid: twilio.accountSid,
      authToken: twilio.authToken,
      apiBaseUrl: twilio.url,
      phoneNumber: context.settings.phoneNumber ?? context.callerId,
      ...(context.settings.holdMusicUrl ? { holdMusicUrl: context.settings.holdMusicUrl } : {}),
    },
    emulator: twilio,
    close: () => twilio.close(),
  };
}
