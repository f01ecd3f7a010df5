import type { CarrierEmulatorContext, StartedCarrierEmulator } from '../../carrier-adapter.ts';
import type { PlivoSettings } from '../settings.ts';
import { startPlivoEmulator } from './emulator.ts';

/** Starts the Plivo emulator for sandbox mode and points Plivo's settings at it (keeping a configured caller id). */
export async function startPlivoSandbox(context: CarrierEmulatorContext<PlivoSettings>): Promise<StartedCarrierEmulator<PlivoSettings>> {
  const plivo = await startPlivoEmulator({
    personas: context.personas,
    clock: context.clock,
    logger: context.log,
    timeScale: context.timeScale,
  });
  return {
    settings: {
      authId: plivo.authId,
      authToken: plivo.authToken,
      apiBaseUrl: plivo.url,
      phoneNumber: context.settings.phoneNumber ?? context.callerId,
    },
    emulator: plivo,
    close: () => plivo.close(),
  };
}
